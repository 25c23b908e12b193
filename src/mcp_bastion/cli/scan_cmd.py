"""``bastion scan TARGET...``: what an MCP server exposes, what is dangerous in it, with proof.

TARGET is ``stdio:<command line>`` (run in the sandbox), an ``http(s)://`` URL, or an MCP
client configuration file (every server in it). Exit status: 0, or 1 when a finding is at
or above ``--fail-on``, 2 when the arguments or files are unusable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from mcp_bastion.cli._sandbox_options import IsolationOption, WritePathOption
from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.detectors import Severity
from mcp_bastion.scanner.baseline import BaselineError, load_baseline, save_baseline
from mcp_bastion.scanner.model import severity_at_least
from mcp_bastion.scanner.report import render, to_table
from mcp_bastion.scanner.runner import ScanOptions
from mcp_bastion.scanner.runner import scan as run_scan
from mcp_bastion.scanner.targets import (
    Target,
    TargetError,
    discover_configs,
    load_client_config,
    resolve_targets,
)

__all__ = ["scan"]

EXIT_FINDINGS = 1
EXIT_USAGE = 2
_ACTIVE_WARNING = (
    "WARNING: --active sends attacks (SQL injection, command injection, path traversal, writes as "
    "an anonymous caller) to the target and CHANGES its data. Use it only on servers you own, "
    "never in production."
)


def _targets(texts: list[str], discover: bool, token: str | None) -> list[Target]:
    targets = resolve_targets(texts, token=token)
    if discover:
        for path in discover_configs():
            targets += load_client_config(path)
    return targets


def scan(  # noqa: PLR0917 - Typer maps each parameter to a CLI option
    targets: Annotated[
        list[str] | None, typer.Argument(help="stdio:<cmd>, http(s)://..., or a client config")
    ] = None,
    discover: Annotated[
        bool, typer.Option("--discover", help="Also scan the client configs found in usual places.")
    ] = False,
    token: Annotated[
        str | None, typer.Option("--token", envvar="BASTION_TOKEN", help="Bearer token (HTTP targets).")
    ] = None,
    active: Annotated[
        bool, typer.Option("--active", help="Run attack probes (changes the target!).")
    ] = False,
    write_path: WritePathOption = None,
    read_path: Annotated[
        list[str] | None,
        typer.Option("--read-path", help="Extra directory the sandboxed server may read (repeat)."),
    ] = None,
    isolation: IsolationOption = "auto",
    fmt: Annotated[str, typer.Option("--format", help="table, json, sarif or html")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Report drift against this file.")
    ] = None,
    save_baseline_to: Annotated[
        Path | None, typer.Option("--save-baseline", help="Write the scanned surfaces' digests here.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, help="Seconds per request.")] = 60.0,
) -> None:
    """Scan MCP servers: static checks always, attack probes with --active."""
    err = Console(stderr=True)
    if fmt not in ("table", "json", "sarif", "html"):
        raise typer.BadParameter("--format must be table, json, sarif or html")
    floor = None
    if fail_on is not None:
        try:
            floor = Severity(fail_on.lower())
        except ValueError as exc:
            raise typer.BadParameter("--fail-on must be info, low, medium, high or critical") from exc
    try:
        chosen = _targets(targets or [], discover, token)
        base = load_baseline(baseline) if baseline is not None else None
        profile = SandboxProfile.model_validate(
            {"write_paths": write_path or [], "read_paths": read_path or [], "isolation": isolation}
        )
    except (TargetError, BaselineError, ValueError) as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if not chosen:
        err.print("error: nothing to scan (give a TARGET or --discover; no client config was found)")
        raise typer.Exit(EXIT_USAGE)
    if active:
        err.print(f"[bold red]{_ACTIVE_WARNING}[/]")
    options = ScanOptions(active=active, profile=profile, baseline=base, timeout_s=timeout)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=err,
        transient=True,
        disable=len(chosen) < 2 or not err.is_terminal,
    ) as bar:
        task = bar.add_task("scanning", total=len(chosen))

        def progress(target: Target, stage: str) -> None:
            bar.update(task, description=f"{target.name}: {stage}", advance=1 if stage == "done" else 0)

        report = anyio.run(run_scan, chosen, options, progress)
    if save_baseline_to is not None:
        save_baseline(save_baseline_to, report.servers)
    if fmt == "table":
        console = Console(
            file=output.open("w", encoding="utf-8") if output else sys.stdout, width=160 if output else None
        )
        to_table(report, console)
    else:
        text = render(report, fmt)
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if floor is not None and severity_at_least(report.findings, floor):
        raise typer.Exit(EXIT_FINDINGS)
