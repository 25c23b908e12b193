"""``bastion token create``: development tokens signed by the local key in bastion.yaml.

Production points ``identities.jwt`` at an identity provider's JWKS instead. The key file
(``token.key_file``) is created with mode 0600 on first use; for Ed25519 its public key is
written to ``<key_file>.pub`` for ``identities.jwt.ed25519_public_key_file``. Only the
token is printed (so ``TOKEN=$(bastion token create ...)`` works).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from mcp_bastion.config import load_config
from mcp_bastion.errors import ConfigError
from mcp_bastion.pipeline.identity import mint_token

__all__ = ["app", "parse_ttl"]

app = typer.Typer(name="token", help="Development tokens signed by the local key in bastion.yaml.")

_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``1h``, ``7d`` -> seconds (positive, at most 30 days)."""
    match = _TTL.match(text)
    if match is None:
        raise typer.BadParameter("use a number with an optional unit s, m, h or d (e.g. 1h)")
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if not 0 < seconds <= 30 * 86400:
        raise typer.BadParameter("between 1 second and 30 days")
    return seconds


@app.callback()
def _group() -> None:
    """Development tokens signed by the local key in bastion.yaml."""


@app.command("create")
def create(
    *,
    role: Annotated[list[str], typer.Option("--role", help="Role claim; repeat for several.")],
    subject: Annotated[str, typer.Option("--subject", help="The sub claim.")] = "dev",
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 90s, 15m, 1h, 7d.")] = "",
    config: Annotated[Path, typer.Option("--config", help="bastion.yaml with a token section.")] = Path(
        "bastion.yaml"
    ),
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant claim.")] = None,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Scope; repeat for several.")] = None,
) -> None:
    """Print a signed development JWT for ROLE (and nothing else)."""
    try:
        settings = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    token_conf = settings.token
    if token_conf is None:
        typer.echo(f"error: {config} has no 'token' section (key_file, issuer)", err=True)
        raise typer.Exit(2)
    audience = token_conf.audience or settings.jwt_audience
    if audience is None:
        typer.echo(
            "error: set token.audience or an HTTP listener (its resource URI is the audience)", err=True
        )
        raise typer.Exit(2)
    seconds = parse_ttl(ttl) if ttl else token_conf.default_ttl_s
    token = mint_token(
        token_conf,
        subject=subject,
        roles=role,
        audience=audience,
        ttl_s=seconds,
        tenant=tenant,
        scopes=scope or (),
    )
    typer.echo(token)
