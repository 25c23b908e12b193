"""``bastion fuzz stdio:<command line>``: JSON-RPC fuzzing of a sandboxed stdio server or gateway.

Exit status: 0 when no crash, hang or malformed response was seen, 1 otherwise, 2 on
unusable arguments or when the target cannot even complete the handshake.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console

from mcp_bastion.cli._sandbox_options import IsolationOption, WritePathOption
from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.fuzzer import FuzzOptions, stdio_channel
from mcp_bastion.fuzzer import fuzz as run_fuzz
from mcp_bastion.scanner.targets import TargetError, parse_target

__all__ = ["fuzz"]

EXIT_ISSUES = 1
EXIT_USAGE = 2


def fuzz(  # noqa: PLR0917 - Typer maps each parameter to a CLI option
    target: Annotated[
        str, typer.Argument(help="stdio:<command line> (the server, or `bastion wrap -- ...`)")
    ],
    cases: Annotated[int, typer.Option("--cases", min=1, help="Number of cases.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed sends the same cases.")] = 0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds before a case counts as a hang.")
    ] = 10.0,
    reproducers: Annotated[
        Path | None, typer.Option("--reproducers", help="Save minimised reproducers here.")
    ] = Path("fuzz-reproducers"),
    tool: Annotated[
        list[str] | None, typer.Option("--tool", help="Tool names to aim tools/call at (repeat).")
    ] = None,
    write_path: WritePathOption = None,
    isolation: IsolationOption = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Fuzz the stdio MCP server TARGET with malformed and hostile JSON-RPC messages."""
    err = Console(stderr=True)
    try:
        parsed = parse_target(target)
        if parsed.kind != "stdio":
            raise TargetError(
                "bastion fuzz takes stdio:<command line> targets (HTTP fuzzing is not implemented)"
            )
        profile = SandboxProfile.model_validate({"write_paths": write_path or [], "isolation": isolation})
    except (TargetError, ValueError) as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    options = FuzzOptions(cases=cases, seed=seed, timeout_s=timeout, reproducers=reproducers)
    factory = stdio_channel(parsed.argv, profile, cwd=str(Path.cwd()))
    try:
        report = anyio.run(run_fuzz, factory, options, tuple(tool or ()))
    except RuntimeError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        doc = report.to_json()
        err.print(
            f"{report.cases_run} cases in {report.seconds:.1f}s ({doc['cases_per_second']} cases/s), "
            f"{report.restarts} restarts, RSS {_mib(report.rss_start)} -> {_mib(report.rss_end)}"
        )
        for issue in report.issues:
            where = f" -> {issue.reproducer}" if issue.reproducer else ""
            err.print(f"{issue.kind}: case {issue.case_index} ({issue.case_kind}): {issue.detail}{where}")
        if not report.issues:
            err.print("no crash, hang, malformed response or memory growth")
    if report.issues:
        raise typer.Exit(EXIT_ISSUES)


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value / 2**20:.0f} MiB"
