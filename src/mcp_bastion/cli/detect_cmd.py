"""``bastion detect --kind tool|output [--input FILE]``: run the content detectors over JSONL.

Input (stdin by default), one JSON object per line:

- ``tool``: ``{"name": ..., "description": ..., "inputSchema": {...}, "server": ...}``
  (``description``, ``inputSchema`` and ``server`` optional);
- ``output``: ``{"id": ..., "text": ...}``.

Output, one line per input line: ``{"id"|"name": ..., "flagged": bool, "score": 0..1,
"rules": [...]}`` (``--details`` adds the findings). A malformed line produces
``{"line": N, "error": "..."}`` and the command exits 1 after processing every line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from mcp_bastion.detectors import (
    FLAG_THRESHOLD,
    Finding,
    risk_score,
    scan_output,
    scan_secrets,
    scan_tool,
)

__all__ = ["Kind", "detect", "detect_lines"]

EXIT_MALFORMED = 1


class Kind(StrEnum):
    """What each input line describes."""

    TOOL = "tool"
    OUTPUT = "output"


class _LineError(ValueError):
    """A line that is not a valid record of the chosen kind (message is safe to print)."""


def _record(kind: Kind, obj: Any, details: bool) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise _LineError("expected a JSON object")
    findings: list[Finding]
    if kind is Kind.TOOL:
        name = obj.get("name")
        if not isinstance(name, str) or not name:
            raise _LineError("'name' must be a non-empty string")
        if not isinstance(obj.get("description", ""), str):
            raise _LineError("'description' must be a string")
        if not isinstance(obj.get("inputSchema", {}), Mapping):
            raise _LineError("'inputSchema' must be an object")
        server = obj.get("server")
        if server is not None and not isinstance(server, str):
            raise _LineError("'server' must be a string")
        findings = scan_tool(obj, server=server)
        head: dict[str, Any] = {"name": name} if server is None else {"name": name, "server": server}
    else:
        if "id" not in obj or isinstance(obj["id"], dict | list):
            raise _LineError("'id' must be a string or number")
        text = obj.get("text")
        if not isinstance(text, str):
            raise _LineError("'text' must be a string")
        findings = scan_output(text) + scan_secrets(text)
        head = {"id": obj["id"]}
    score = risk_score(findings)
    out = {
        **head,
        "flagged": score >= FLAG_THRESHOLD,
        "score": score,
        "rules": sorted({f.rule_id for f in findings}),
    }
    if details:
        out["findings"] = [
            {
                "rule_id": f.rule_id,
                "severity": f.severity.value,
                "confidence": f.confidence,
                "location": f.location,
                "message": f.message,
                "evidence": f.evidence,
            }
            for f in findings
        ]
    return out


def detect_lines(kind: Kind, lines: Iterable[str], out: TextIO, *, details: bool = False) -> int:
    """Scan every JSONL line of ``lines``, write one JSON line per input line; the number of bad lines."""
    errors = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise _LineError("invalid JSON") from exc
            result = _record(kind, obj, details)
        except _LineError as exc:
            errors += 1
            result = {"line": number, "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return errors


def detect(
    kind: Annotated[
        Kind, typer.Option("--kind", help="What each line holds: a tool definition or an output.")
    ],
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", help="JSONL file to read (default: stdin).", dir_okay=False, exists=True
        ),
    ] = None,
    details: Annotated[bool, typer.Option("--details", help="Include every finding in the output.")] = False,
) -> None:
    """Run the content detectors over JSONL records and write one JSONL verdict per record."""
    if input_file is None:
        errors = detect_lines(kind, typer.get_text_stream("stdin"), sys.stdout, details=details)
    else:
        with input_file.open(encoding="utf-8", errors="replace") as handle:
            errors = detect_lines(kind, handle, sys.stdout, details=details)
    if errors:
        typer.echo(f"{errors} malformed line(s)", err=True)
        raise typer.Exit(EXIT_MALFORMED)
