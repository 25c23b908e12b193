"""``bastion gateway`` and ``bastion wrap``: thin commands over the composition roots."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer

from mcp_bastion.errors import BastionError

__all__ = ["demo", "gateway", "wrap"]


def gateway(
    config: Annotated[Path, typer.Option("--config", "-c", help="bastion.yaml", exists=True, dir_okay=False)],
) -> None:
    """Run the HTTP gateway in front of the configured upstream servers."""
    from mcp_bastion.gateway.serve import serve_gateway

    try:
        serve_gateway(config, announce=lambda line: typer.echo(line, err=True))
    except BastionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def wrap(
    command: Annotated[
        list[str] | None, typer.Argument(help="-- CMD [ARGS...]: the stdio server to wrap")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", "--config", help="bastion.yaml with policy and guard settings")
    ] = None,
    identity: Annotated[str | None, typer.Option("--identity", help="role of the local user")] = None,
    install: Annotated[
        Path | None, typer.Option("--install", help="rewrite this MCP client config to wrap every server")
    ] = None,
) -> None:
    """Run one stdio MCP server behind the full guard chain (stdio in, stdio out)."""
    if install is not None:
        _install(install, policy, identity)
        return
    from mcp_bastion.wrap import run_wrap, wrap_config

    try:
        cfg = wrap_config(command or [], config_file=policy, role=identity)
        anyio.run(run_wrap, cfg, backend_options={"use_uvloop": True})
    except BastionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _install(path: Path, policy: Path | None, identity: str | None) -> None:
    from mcp_bastion.wrap.install import install

    exe = shutil.which("bastion") or sys.argv[0]
    extra: list[str] = []
    if policy is not None:
        extra += ["--policy", str(policy.resolve())]
    if identity is not None:
        extra += ["--identity", identity]
    try:
        report = install(path, [str(Path(exe).resolve())], extra)
    except BastionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for name in report.wrapped:
        typer.echo(f"wrapped {name}")
    for name in report.skipped:
        typer.echo(f"left as is {name} (URL server or already wrapped)")
    if report.backup is not None:
        typer.echo(f"backup: {report.backup}")


def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="where config, keys and databases live")
    ] = Path("var"),
    port: Annotated[int, typer.Option("--port", help="gateway port on 127.0.0.1")] = 8765,
) -> None:
    """Run the gateway with the Grid Ops server behind it (what `make up` starts)."""
    from mcp_bastion.gateway.demo import run_demo

    try:
        run_demo(data_dir, port=port, announce=lambda line: typer.echo(line, err=True))
    except BastionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
