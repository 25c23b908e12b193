"""``bastion gridops ...``: registered through the ``bastion.cli`` entry point.

Commands stay thin: parse options, call ``gridops.service`` / ``gridops.server``, print.
Human-facing messages go to stderr; stdout carries only the result (a token, JSON), and
over stdio the MCP protocol itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gridops.config import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, DataPaths, load_or_create_master_key

__all__ = ["app", "parse_ttl", "token_settings_for"]

app = typer.Typer(help="The Grid Operations MCP server.", no_args_is_help=True)
_err = Console(stderr=True, soft_wrap=True)

_ROLES = ("viewer", "operator", "engineer", "supervisor")
_TTL = re.compile(r"^([1-9][0-9]{0,6})([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

DataDirOpt = Annotated[
    Path,
    typer.Option("--data-dir", envvar="GRIDOPS_DATA_DIR", help="Key file and default database live here."),
]
DbOpt = Annotated[
    str | None, typer.Option("--db", help="sqlite:///path or postgresql://... (default: DATA/gridops.db)")
]
NetworkOpt = Annotated[str, typer.Option("--network", help="pandapower network to load on first run.")]
HostOpt = Annotated[str, typer.Option("--host", help="Interface to bind (loopback by default).")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535)]


def parse_ttl(text: str) -> int:
    """Seconds in ``text`` such as ``90``, ``15m``, ``1h``, ``7d``."""
    match = _TTL.fullmatch(text.strip())
    if not match:
        raise typer.BadParameter("use a number with an optional unit s, m, h or d, e.g. 1h")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def token_settings_for(host: str, port: int) -> Any:
    """The issuer and resource (audience) of the HTTP server at ``host:port``."""
    from gridops.server.auth import TokenSettings

    base = f"http://{_url_host(host)}:{port}"
    return TokenSettings(issuer=base, resource=f"{base}/mcp")


def _db_url(db: str | None, data_dir: Path) -> str:
    return db or DataPaths(data_dir).default_db_url


def _ensure_db(url: str, network: str) -> None:
    from gridops.errors import GridOpsError
    from gridops.service import GridService, init_db

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        GridService.open(url).close()
        return
    except GridOpsError:
        pass  # not initialised yet: initialise below (init_db reports real failures itself)
    _err.print(f"[bold]Initialising the grid database[/] (network {network}); this takes a moment...")
    summary = init_db(url, network)
    _err.print(f"Database ready: {json.dumps(summary, sort_keys=True, default=str)}")


@app.command()
def serve(
    *,
    transport: Annotated[str, typer.Option("--transport", help="stdio or http")] = "stdio",
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    db: DbOpt = None,
    network: NetworkOpt = "mv_oberrhein",
    identity: Annotated[
        str | None, typer.Option("--identity", help="stdio only: the local role (default viewer).")
    ] = None,
    subject: Annotated[str, typer.Option("--subject", help="stdio only: the local user name.")] = "local",
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Serve the Grid Ops MCP server over stdio or Streamable HTTP (creating the DB on first run)."""
    from gridops.server import Role, ServerSettings, build_http_app, build_server
    from gridops.service import GridService

    if transport not in {"stdio", "http"}:
        raise typer.BadParameter("transport must be stdio or http", param_hint="--transport")
    if identity is not None and identity not in _ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(_ROLES)}", param_hint="--identity")
    if transport == "http" and identity is not None:
        raise typer.BadParameter("over HTTP roles come from bearer tokens", param_hint="--identity")
    url = _db_url(db, data_dir)
    key = load_or_create_master_key(DataPaths(data_dir).key_file)
    _ensure_db(url, network)
    service = GridService.open(url)
    try:
        if transport == "stdio":
            import anyio

            settings = ServerSettings(master_key=key, identity=Role(identity or "viewer"), subject=subject)
            anyio.run(build_server(service, settings).run_stdio_async)
            return
        import uvicorn

        tokens = token_settings_for(host, port)
        server = build_server(service, ServerSettings(master_key=key, auth=tokens))
        if host not in {"127.0.0.1", "localhost", "::1"}:
            _err.print("[yellow]Warning:[/] serving beyond loopback without TLS; put a TLS proxy in front.")
        _err.print(f"Grid Ops MCP server: [bold]{tokens.resource}[/]")
        _err.print(f"Get a token:  bastion gridops token --role viewer --host {host} --port {port}")
        _err.print(f"Call a tool:  bastion call {tokens.resource} get_topology --token $TOKEN")
        uvicorn.run(build_http_app(server, host, port), host=host, port=port, log_level="warning")
    finally:
        service.close()


@app.command("init-db")
def init_db_cmd(
    *,
    db: DbOpt = None,
    network: NetworkOpt = "mv_oberrhein",
    force: Annotated[bool, typer.Option("--force", help="Drop and reload an initialised database.")] = False,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Create the schema and load the network, measurements and operational data."""
    from gridops.service import init_db

    url = _db_url(db, data_dir)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    summary = init_db(url, network, force=force)
    typer.echo(json.dumps(summary, sort_keys=True, default=str))


@app.command()
def token(
    *,
    role: Annotated[str, typer.Option("--role", help="viewer, operator, engineer or supervisor")],
    subject: Annotated[str | None, typer.Option("--subject", help="User name (default dev-ROLE).")] = None,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime, e.g. 15m, 1h, 7d (max 7d).")] = "1h",
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
) -> None:
    """Mint a development bearer token for the HTTP server at HOST:PORT (signed with the local key)."""
    from gridops.server import JwtIssuer, Role

    if role not in _ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(_ROLES)}", param_hint="--role")
    name = subject or f"dev-{role}"
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", name):
        raise typer.BadParameter("subject: 1-64 of A-Z a-z 0-9 _ . @ -", param_hint="--subject")
    key = load_or_create_master_key(DataPaths(data_dir).key_file)
    issuer = JwtIssuer(key, token_settings_for(host, port))
    try:
        minted = issuer.mint(name, [Role(role)], parse_ttl(ttl))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from exc
    typer.echo(minted)
