"""Read-only tools: topology, assets, measurements, outages, analysis, records, reports.

All of them run on the service's read-only connection and need role ``viewer`` or above.
"""

# No ``from __future__ import annotations``: run_report's argument type closes over the
# report catalogue, and the SDK evaluates string annotations against module globals only.

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import AfterValidator, Field

from gridops.server.common import PRINTABLE, REGION_PATTERN, AssetIdArg, ToolEnv, guarded, strict_tool
from gridops.service import Weather

__all__ = ["MAX_WINDOW", "read_tools"]

MAX_WINDOW = timedelta(days=7)

Region = Annotated[
    Annotated[str, Field(max_length=32, pattern=REGION_PATTERN)] | None,
    Field(description="Region name from get_topology; omit for all."),
]
Start = Annotated[datetime, Field(description="Window start, ISO-8601 (UTC when no offset is given).")]
End = Annotated[datetime, Field(description="Window end (exclusive), ISO-8601; at most 7 days after start.")]
ReportParamValue = Annotated[str, Field(max_length=200)] | int | float | bool
ReportParamName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise ToolError("invalid time window: end must be after start")
    if end - start > MAX_WINDOW:
        raise ToolError("invalid time window: at most 7 days per request")
    return start, end


def _catalogue(env: ToolEnv) -> tuple[list[str], str]:
    """Report names and a description of each (its parameters' properties as JSON Schema)."""
    names, lines = [], []
    for report in env.service.list_reports():
        schema = report.get("params_schema", {})
        params = json.dumps(schema.get("properties", {}), separators=(",", ":"), sort_keys=True)
        names.append(str(report["name"]))
        lines.append(f"- {report['name']}: {report.get('description', '')} params: {params}")
    return names, "\n".join(lines)


def read_tools(env: ToolEnv) -> list[Tool]:
    """The read-only tools bound to ``env``."""

    def get_topology(region: Region = None) -> dict[str, Any]:
        env.authorized("get_topology")
        return guarded(lambda: env.service.get_topology(region))

    def get_asset(asset_id: AssetIdArg) -> dict[str, Any]:
        env.authorized("get_asset")
        return guarded(lambda: env.service.get_asset(asset_id))

    def query_measurements(
        asset_id: AssetIdArg,
        start: Start,
        end: End,
        limit: Annotated[int, Field(ge=1, le=2000, description="Maximum rows returned.")] = 500,
    ) -> dict[str, Any]:
        env.authorized("query_measurements")
        lo, hi = _window(start, end)
        return guarded(lambda: env.service.query_measurements(asset_id, lo, hi, limit))

    def list_outages(
        status: Annotated[
            Literal["open", "resolved"] | None, Field(description="Filter by status; omit for all.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        env.authorized("list_outages")
        return guarded(lambda: env.service.list_outages(status, limit))

    def analyze_load_pattern(asset_id: AssetIdArg, start: Start, end: End) -> dict[str, Any]:
        env.authorized("analyze_load_pattern")
        lo, hi = _window(start, end)
        return guarded(lambda: env.service.analyze_load_pattern(asset_id, lo, hi))

    def predict_outage_risk(
        asset_id: AssetIdArg,
        temperature_c: Annotated[float, Field(ge=-40, le=55, description="Air temperature, deg C.")] = 15.0,
        wind_speed_ms: Annotated[float, Field(ge=0, le=60, description="Wind speed, m/s.")] = 0.0,
        ice: Annotated[bool, Field(description="Icing conditions.")] = False,
        storm: Annotated[bool, Field(description="Storm warning in force.")] = False,
    ) -> dict[str, Any]:
        env.authorized("predict_outage_risk")
        weather = Weather(temperature_c=temperature_c, wind_speed_ms=wind_speed_ms, ice=ice, storm=storm)
        return guarded(lambda: env.service.predict_outage_risk(asset_id, weather))

    def query_records(
        name_contains: Annotated[
            Annotated[str, Field(max_length=100, pattern=PRINTABLE)] | None,
            Field(description="Substring of the name."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        offset: Annotated[int, Field(ge=0, le=100_000)] = 0,
    ) -> dict[str, Any]:
        env.authorized("query_records")
        return guarded(lambda: env.service.query_records(name_contains, limit, offset))

    names, catalogue = guarded(lambda: _catalogue(env))

    def _known_report(value: str) -> str:
        if value not in names:
            raise ValueError(f"unknown report; choose one of {', '.join(names)}")
        return value

    def run_report(
        name: Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                pattern=r"^[a-z][a-z0-9_]{0,63}$",
                json_schema_extra={"enum": names},
                description="Report name from the catalogue.",
            ),
            AfterValidator(_known_report),
        ],
        params: Annotated[
            dict[ReportParamName, ReportParamValue],
            Field(max_length=16, description="Report parameters (see the catalogue)."),
        ] = {},  # noqa: B006 - pydantic copies defaults; the schema needs a literal default
    ) -> dict[str, Any]:
        env.authorized("run_report")
        return guarded(lambda: env.service.run_report(name, dict(params)))

    return [
        strict_tool(
            get_topology,
            name="get_topology",
            title="Grid topology",
            description="Regions, substations and counts of buses, lines, transformers, switches, "
            "loads and generators; with a region, that region's assets.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            get_asset,
            name="get_asset",
            title="Asset details",
            description="One asset (bus, line, transformer, switch, load or static generator) with "
            "its ratings, state and region.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            query_measurements,
            name="query_measurements",
            title="Measurements",
            description="15-minute active power (MW) of a load or generator over a window of at "
            "most 7 days, at most 2000 rows.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            list_outages,
            name="list_outages",
            title="Outages",
            description="Outages and grid events, newest first, optionally filtered by status.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            analyze_load_pattern,
            name="analyze_load_pattern",
            title="Load pattern",
            description="Peak, mean, minimum and load factor of an asset's load over a window of at "
            "most 7 days.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            predict_outage_risk,
            name="predict_outage_risk",
            title="Outage risk",
            description="A deterministic outage risk score (0..1) for an asset from its loading, "
            "age and ratings and the given weather, with the contributing factors.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            query_records,
            name="query_records",
            title="Records",
            description="Records (id, name, address), filtered by a name substring, paginated.",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            run_report,
            name="run_report",
            title="Named report",
            description="Run one report of the fixed catalogue (the safe replacement for free-form "
            f"SQL; there is no arbitrary query tool). Catalogue:\n{catalogue}",
            read_only=True,
            idempotent=True,
        ),
    ]
