"""``bastion pins list|diff|approve``: review and release quarantined surface items.

The pin store is found from ``--store URL`` (``sqlite:///...``, ``postgresql://...``), else
from ``stores.pins`` of ``--config FILE``, else from ``./bastion.yaml`` when it exists,
else the store ``bastion wrap`` uses by default
(``~/.local/state/mcp-bastion/bastion.db``). Exit status: 0 on success, 1 when
``approve`` names a key that is not pinned, 2 for a bad option or an unreachable store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer
from rich.console import Console
from rich.table import Table

from mcp_bastion.config import load_config
from mcp_bastion.config.defaults import DEFAULT_STATE_DIR
from mcp_bastion.errors import BastionError
from mcp_bastion.pipeline.pins import FLAG_PREFIX, approve_keys, is_marker, unified_diff
from mcp_bastion.store.factory import open_store
from mcp_bastion.store.interface import Pin, PinStatus, PinStore

__all__ = ["app", "store_url"]

app = typer.Typer(
    help="Review and approve pinned MCP server surfaces (rug-pull protection).", no_args_is_help=True
)
T = TypeVar("T")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="bastion.yaml naming the pin store.")]
StoreOpt = Annotated[str | None, typer.Option("--store", help="Pin store URL (overrides --config).")]
EXIT_UNKNOWN_KEY = 1
EXIT_USAGE = 2


def store_url(config: Path | None, store: str | None) -> str:
    """Where the pins are: ``--store``, ``--config``'s ``stores.pins``, ``./bastion.yaml``, else wrap's."""
    if store is not None:
        return store
    if config is None and Path("bastion.yaml").is_file():
        config = Path("bastion.yaml")
    if config is not None:
        return load_config(config).stores.pins
    return f"sqlite:///{DEFAULT_STATE_DIR / 'bastion.db'}"


def _with_store(config: Path | None, store: str | None, action: Callable[[PinStore], Awaitable[T]]) -> T:
    async def run() -> T:
        opened, close = open_store("pins", store_url(config, store))
        try:
            return await action(opened)
        finally:
            await close()

    try:
        return anyio.run(run)
    except BastionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc


def _short(digest: str | None) -> str:
    return "-" if digest is None else digest.removeprefix("sha256:")[:12]


def _rules(pin: Pin) -> str:
    if not pin.key.startswith(FLAG_PREFIX):
        return ""
    try:
        return ",".join(json.loads(pin.snapshot).get("rules", []))
    except (ValueError, AttributeError):
        return ""


@app.command("list")
def list_pins(
    upstream: Annotated[str | None, typer.Argument(help="Only this upstream.")] = None,
    quarantined: Annotated[bool, typer.Option("--quarantined", "-q", help="Only quarantined items.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per pin.")] = False,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """List pinned items with their status (approved / quarantined) and digests."""

    async def fetch(s: PinStore) -> list[Pin]:
        return list(await s.list_all())

    pins = [
        p
        for p in _with_store(config, store, fetch)
        if (upstream is None or p.upstream == upstream)
        and not is_marker(p.key)
        and (not quarantined or p.status is PinStatus.QUARANTINED)
    ]
    if as_json:
        for p in pins:
            row: dict[str, Any] = {
                "upstream": p.upstream,
                "key": p.key,
                "status": p.status.value,
                "digest": p.digest,
                "approved_digest": p.approved_digest,
                "updated_at": p.updated_at,
            }
            if p.key.startswith(FLAG_PREFIX):
                row["rules"] = _rules(p).split(",") if _rules(p) else []
            typer.echo(json.dumps(row, sort_keys=True))
        return
    table = Table("upstream", "key", "status", "digest", "approved", "rules", "updated")
    for p in pins:
        style = "bold red" if p.status is PinStatus.QUARANTINED else ""
        updated = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(p.updated_at)) if p.updated_at else "-"
        table.add_row(
            p.upstream,
            p.key,
            p.status.value,
            _short(p.digest),
            _short(p.approved_digest),
            _rules(p),
            updated,
            style=style,
        )
    Console().print(table)
    if not pins:
        typer.echo("no pins" + (" quarantined" if quarantined else ""))


@app.command("diff")
def diff(
    upstream: Annotated[str, typer.Argument(help="The upstream server name.")],
    key: Annotated[
        str | None, typer.Argument(help="One item, e.g. tool:get_asset (default: every quarantined item).")
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Show what changed: a unified diff from the approved snapshot to the current one (pretty JSON)."""

    async def fetch(s: PinStore) -> list[Pin]:
        return list((await s.load(upstream)).values())

    pins = sorted(_with_store(config, store, fetch), key=lambda p: p.key)
    chosen = (
        [p for p in pins if p.key == key] if key else [p for p in pins if p.status is PinStatus.QUARANTINED]
    )
    if key and not chosen:
        typer.echo(f"error: {upstream} has no pinned item {key!r}", err=True)
        raise typer.Exit(EXIT_UNKNOWN_KEY)
    for pin in chosen:
        if pin.key.startswith(FLAG_PREFIX):
            typer.echo(
                f"# {pin.upstream} {pin.key}: flagged by {_rules(pin) or 'no rules'} ({pin.status.value})"
            )
            continue
        text = unified_diff(pin)
        typer.echo(
            text if text else f"# {pin.upstream} {pin.key}: no change since approval ({pin.status.value})"
        )
    if not chosen:
        typer.echo(f"{upstream}: nothing quarantined")


@app.command("approve")
def approve(
    upstream: Annotated[str, typer.Argument(help="The upstream server name.")],
    keys: Annotated[list[str] | None, typer.Argument(help="Items to approve, e.g. tool:get_asset.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Approve every quarantined item of UPSTREAM.")
    ] = False,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Approve the current snapshot of items (it becomes visible and callable again)."""
    if not keys and not everything:
        typer.echo("error: name the items to approve, or pass --all", err=True)
        raise typer.Exit(EXIT_USAGE)

    async def run(s: PinStore) -> list[Pin]:
        return await approve_keys(s, upstream, keys or [], everything=everything, now=time.time())

    try:
        written = _with_store(config, store, run)
    except KeyError as exc:
        typer.echo(f"error: {upstream} has no pinned item {exc.args[0]}", err=True)
        raise typer.Exit(EXIT_UNKNOWN_KEY) from exc
    for pin in written:
        typer.echo(f"approved {pin.upstream} {pin.key} {_short(pin.digest)}")
    if not written:
        typer.echo("nothing to approve")
