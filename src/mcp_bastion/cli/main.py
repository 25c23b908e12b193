"""Entry point of the ``bastion`` CLI.

Each command group lives in its own module under :mod:`mcp_bastion.cli` and is registered
here. Commands stay thin: parse, call a composition root, print.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mcp_bastion.log import configure_logging

__all__ = ["app"]

app = typer.Typer(
    name="bastion",
    help="mcp-bastion: a security layer for the Model Context Protocol.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR")] = "WARNING",
) -> None:
    """mcp-bastion: a security layer for the Model Context Protocol."""
    # Logs always go to stderr: stdout carries the protocol for `wrap` and stdio servers.
    configure_logging(level=log_level.upper())


def _register() -> None:
    # Registration is explicit so the listing of this function is the CLI's table of contents.
    # Applications built on mcp_bastion (gridops) plug in through the ``bastion.cli`` entry
    # point group, so this package never imports them (the layering test enforces it).
    from importlib.metadata import entry_points

    from mcp_bastion.cli import (
        audit_cmd,
        call_cmd,
        detect_cmd,
        fuzz_cmd,
        gateway_cmd,
        pins_cmd,
        scan_cmd,
        token_cmd,
    )

    app.command("gateway")(gateway_cmd.gateway)
    app.command("demo")(gateway_cmd.demo)
    app.command("wrap", context_settings={"allow_interspersed_args": False})(gateway_cmd.wrap)
    app.command("call")(call_cmd.call)
    app.add_typer(pins_cmd.app, name="pins")
    app.command("detect")(detect_cmd.detect)
    app.add_typer(audit_cmd.app, name="audit")
    app.add_typer(token_cmd.app, name="token")
    app.command("scan")(scan_cmd.scan)
    app.command("fuzz")(fuzz_cmd.fuzz)
    for ep in entry_points(group="bastion.cli"):
        app.add_typer(ep.load(), name=ep.name)


_register()
