"""``bastion gridops ...``: registered through the ``bastion.cli`` entry point."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="The Grid Operations MCP server.", no_args_is_help=True)
