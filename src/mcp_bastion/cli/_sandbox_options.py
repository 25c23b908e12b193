"""Typer options shared by the commands that start a stdio target in the sandbox (scan, fuzz)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["IsolationOption", "WritePathOption"]

WritePathOption = Annotated[
    list[str] | None,
    typer.Option("--write-path", help="Directory the sandboxed server may write (repeat)."),
]
IsolationOption = Annotated[
    str,
    typer.Option(
        "--isolation",
        help="auto, bubblewrap, landlock, or none (for targets that sandbox themselves: bastion wrap).",
    ),
]
