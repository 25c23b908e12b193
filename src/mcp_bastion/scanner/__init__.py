"""``bastion scan``: inventory, static checks, transport checks and active probes of MCP servers.

``scan(targets, ScanOptions(...))`` connects to each target (stdio servers run in the
sandbox), fetches its surface, runs the detectors, capability and schema-hygiene checks,
baseline drift and (with ``active=True``) canary-confirmed attack probes, and returns a
:class:`ScanReport` that ``report`` renders as JSON, SARIF 2.1.0, HTML or a Rich table.
"""

from mcp_bastion.scanner.model import SCHEMA_VERSION, ScanFinding, ScanReport, ServerResult, Surface
from mcp_bastion.scanner.report import render, to_html, to_json, to_sarif, to_table
from mcp_bastion.scanner.rules import SCAN_RULES, ScanRule
from mcp_bastion.scanner.runner import ScanOptions, fetch_surface, scan, scan_surface_only
from mcp_bastion.scanner.targets import (
    Target,
    TargetError,
    connect,
    discover_configs,
    load_client_config,
    parse_target,
    resolve_targets,
)

__all__ = [
    "SCAN_RULES",
    "SCHEMA_VERSION",
    "ScanFinding",
    "ScanOptions",
    "ScanReport",
    "ScanRule",
    "ServerResult",
    "Surface",
    "Target",
    "TargetError",
    "connect",
    "discover_configs",
    "fetch_surface",
    "load_client_config",
    "parse_target",
    "render",
    "resolve_targets",
    "scan",
    "scan_surface_only",
    "to_html",
    "to_json",
    "to_sarif",
    "to_table",
]
