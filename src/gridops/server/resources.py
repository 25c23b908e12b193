"""Resources: ``grid://topology/{region}``, ``grid://load/{dataset_id}``, ``grid://assets/{asset_id}``.

Template parameters are checked against a strict pattern before anything reaches the
service; an unknown or malformed value is a clear ``ResourceError``, never a path or SQL.
``dataset_id`` is the asset id of a load or static generator (``load:3``, ``sgen:7``); the
resource is that asset's load pattern (peak, mean, minimum, load factor) over the last
7 days of the stored series.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from gridops.errors import GridOpsError
from gridops.grid.measurements import EPOCH_END
from gridops.server.common import ASSET_ID_PATTERN, INTERNAL_ERROR_MESSAGE, REGION_PATTERN, ToolEnv
from gridops.server.roles import authorize

__all__ = ["LOAD_DATASET_PATTERN", "register_resources"]

LOAD_DATASET_PATTERN = r"^(load|sgen):(0|[1-9][0-9]{0,8})$"
_REGION = re.compile(REGION_PATTERN)
_ASSET = re.compile(ASSET_ID_PATTERN)
_DATASET = re.compile(LOAD_DATASET_PATTERN)
_SUMMARY_WINDOW = timedelta(days=7)


def _read(env: ToolEnv, value: str, pattern: re.Pattern[str], what: str, call: Callable[[], Any]) -> str:
    """Authorize, validate ``value`` and run ``call``; errors become ``ResourceError`` messages."""
    try:
        authorize(env.principal(), "read_resource")
    except ToolError as exc:
        raise ResourceError(str(exc)) from exc
    if len(value) > 64 or not pattern.fullmatch(value):
        raise ResourceError(f"invalid {what}: expected {pattern.pattern}")
    try:
        return json.dumps(call(), sort_keys=True)
    except GridOpsError as exc:
        raise ResourceError(exc.public_message) from exc
    except Exception as exc:
        raise ResourceError(INTERNAL_ERROR_MESSAGE) from exc


def register_resources(server: MCPServer[Any], env: ToolEnv) -> None:
    """Register the three resource templates on ``server``."""

    @server.resource(
        "grid://topology/{region}",
        name="topology",
        title="Region topology",
        description="The assets of one region (names from get_topology).",
        mime_type="application/json",
    )
    def topology(region: str) -> str:
        return _read(env, region, _REGION, "region", lambda: env.service.get_topology(region))

    @server.resource(
        "grid://load/{dataset_id}",
        name="load",
        title="Load summary",
        description="Load pattern of a load or static generator (dataset id 'load:N' or 'sgen:N') "
        "over the last 7 days of measurements.",
        mime_type="application/json",
    )
    def load(dataset_id: str) -> str:
        return _read(
            env,
            dataset_id,
            _DATASET,
            "dataset id",
            lambda: env.service.analyze_load_pattern(dataset_id, EPOCH_END - _SUMMARY_WINDOW, EPOCH_END),
        )

    @server.resource(
        "grid://assets/{asset_id}",
        name="asset",
        title="Asset",
        description="One asset by typed id, e.g. 'line:5'.",
        mime_type="application/json",
    )
    def asset(asset_id: str) -> str:
        return _read(env, asset_id, _ASSET, "asset id", lambda: env.service.get_asset(asset_id))
