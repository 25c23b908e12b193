"""Report writers: JSON (schema version 1), SARIF 2.1.0, one self-contained HTML file, a Rich table."""

from __future__ import annotations

import html
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from mcp_bastion import __version__
from mcp_bastion.detectors import Severity
from mcp_bastion.scanner.model import ScanReport
from mcp_bastion.scanner.rules import describe

__all__ = ["SARIF_SCHEMA_URI", "render", "to_html", "to_json", "to_sarif", "to_table"]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads a 0-10 "security-severity" from rule properties.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
_COLOUR = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def to_json(report: ScanReport) -> str:
    """The JSON report (``docs/scanner.md``: ``{"version": 1, "servers": [...], "findings": [...]}``)."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def to_sarif(report: ScanReport) -> str:
    """A SARIF 2.1.0 log with one run; each finding's location is a logical ``server/target``."""
    rule_ids = sorted({f.rule_id for f in report.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    worst: dict[str, Severity] = {}
    for f in report.findings:
        if f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank:
            worst[f.rule_id] = f.severity
    rules: list[dict[str, Any]] = []
    for rid in rule_ids:
        title, help_text, cwe = describe(rid)
        props: dict[str, Any] = {
            "security-severity": _SECURITY_SEVERITY[worst[rid]],
            "tags": ["security", "mcp"],
        }
        if cwe:
            props["tags"].append(cwe)
        rules.append(
            {
                "id": rid,
                "name": "".join(w.capitalize() for w in title.replace("/", " ").split() if w.isalnum())
                or rid,
                "shortDescription": {"text": title},
                "fullDescription": {"text": help_text},
                "defaultConfiguration": {"level": _SARIF_LEVEL[worst[rid]]},
                "properties": props,
            }
        )
    results = [
        {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" ({f.evidence})" if f.evidence else "")},
            "locations": [
                {
                    "logicalLocations": [
                        {"name": f.target, "fullyQualifiedName": f"{f.server}/{f.target}", "kind": "member"}
                    ]
                }
            ],
            "properties": {"severity": f.severity.value, "server": f.server},
        }
        for f in report.findings
    ]
    doc = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bastion-scan",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"servers": [s.to_json() for s in report.servers]},
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee}"
    ".critical{background:#b00020;color:#fff}.high{background:#e53935;color:#fff}.medium{background:#fbc02d}"
    ".low{background:#4fc3f7}.info{background:#eee}code{font-size:90%}"
)


def to_html(report: ScanReport) -> str:
    """One self-contained HTML page (inline CSS, no scripts, every value escaped)."""
    e = html.escape
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    summary = ", ".join(f"{n} {sev}" for sev, n in counts.items()) or "no findings"
    servers = "".join(
        f"<tr><td>{e(s.name)}</td><td><code>{e(s.target)}</code></td>"
        f"<td>{len(s.surface.tools) if s.surface else '-'}</td><td>{e(s.error or 'ok')}</td></tr>"
        for s in report.servers
    )
    rows = "".join(
        f"<tr><td class='{f.severity.value}'>{e(f.severity.value)}</td><td><code>{e(f.rule_id)}</code></td>"
        f"<td>{e(f.server)}</td><td><code>{e(f.target)}</code></td><td>{e(f.message)}</td>"
        f"<td><code>{e(f.evidence)}</code></td></tr>"
        for f in report.findings
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">"
        f"<title>bastion scan report</title><style>{_CSS}</style></head><body>"
        f"<h1>bastion scan report</h1><p>{e(summary)}</p>"
        "<h2>Servers</h2><table><tr><th>name</th><th>target</th><th>tools</th><th>status</th></tr>"
        f"{servers}</table><h2>Findings</h2><table><tr><th>severity</th><th>rule</th><th>server</th>"
        f"<th>target</th><th>message</th><th>evidence</th></tr>{rows}</table></body></html>\n"
    )


def to_table(report: ScanReport, console: Console) -> None:
    """Print the findings as a Rich table, then one summary line."""
    table = Table(title="bastion scan", show_lines=False)
    for col in ("severity", "rule", "server", "target", "message"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        table.add_row(
            f"[{_COLOUR[f.severity]}]{f.severity.value}[/]",
            f.rule_id,
            f.server,
            f.target,
            f.message,
            end_section=False,
        )
    console.print(table)
    reached = sum(1 for s in report.servers if s.surface is not None)
    console.print(f"{len(report.servers)} server(s), {reached} reached, {len(report.findings)} finding(s)")


def render(report: ScanReport, fmt: str) -> str:
    """``json``, ``sarif`` or ``html`` as text."""
    writers = {"json": to_json, "sarif": to_sarif, "html": to_html}
    return writers[fmt](report)
