"""What every tool shares: bounded argument types, strict schemas, error mapping, the call context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.types import ToolAnnotations
from pydantic import ConfigDict, Field

from gridops.errors import GridOpsError
from gridops.server.roles import Principal, allowed_roles, authorize, current_principal
from gridops.server.settings import ServerSettings
from gridops.server.simulation import SimulationTokens
from gridops.service import GridService

__all__ = [
    "ASSET_ID_PATTERN",
    "INTERNAL_ERROR_MESSAGE",
    "PRINTABLE",
    "REGION_PATTERN",
    "TEXT_BLOCK",
    "Action",
    "AssetIdArg",
    "ToolEnv",
    "guarded",
    "strict_tool",
]

_log = logging.getLogger("gridops.server")

T = TypeVar("T")

ASSET_ID_PATTERN = r"^(bus|line|trafo|switch|load|sgen):(0|[1-9][0-9]{0,8})$"
REGION_PATTERN = r"^[a-z0-9-]{1,32}$"
# Printable text: no C0/C1 control characters (line breaks included); hostile text is fine.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
# Multi-line text: as PRINTABLE, but tab, line feed and carriage return are allowed.
TEXT_BLOCK = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
INTERNAL_ERROR_MESSAGE = "internal error: the request could not be completed"

AssetIdArg = Annotated[
    str,
    Field(
        min_length=5,
        max_length=20,
        pattern=ASSET_ID_PATTERN,
        description="Typed asset id, e.g. 'bus:12', 'line:5', 'trafo:1', 'switch:100', 'load:3', 'sgen:7'.",
    ),
]
Action = Literal["open", "close"]


@dataclass(frozen=True)
class ToolEnv:
    """What a tool handler needs: the service, the settings and the simulation token book."""

    service: GridService
    settings: ServerSettings
    simulations: SimulationTokens

    def principal(self) -> Principal:
        """The caller of the current request."""
        return current_principal(self.settings.local_principal())

    def authorized(self, action: str) -> Principal:
        """The caller, after checking it may do ``action`` (``ToolError`` otherwise)."""
        principal = self.principal()
        authorize(principal, action)
        return principal


def guarded(call: Callable[[], T]) -> T:
    """Run ``call``; map domain errors to their public message and anything else to a generic one.

    The caller never sees SQL, paths or tracebacks: ``GridOpsError.public_message`` is safe by
    contract, ``ToolError`` messages are ours, and any other exception is logged server-side only.
    """
    try:
        return call()
    except ToolError:
        raise
    except GridOpsError as exc:
        raise ToolError(exc.public_message) from exc
    except Exception as exc:
        _log.exception("tool failed unexpectedly")
        raise ToolError(INTERNAL_ERROR_MESSAGE) from exc


def strict_tool(
    fn: Callable[..., Any],
    *,
    name: str,
    title: str,
    description: str,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
) -> Tool:
    """A ``Tool`` whose argument model forbids unknown properties (``additionalProperties: false``).

    The SDK's argument model ignores extra keys; a caller smuggling ``role`` or ``sql`` into
    a call should be told no instead. The role needed is appended to the description.
    """
    roles = " or ".join(allowed_roles(name))
    tool = Tool.from_function(
        fn,
        name=name,
        title=title,
        description=f"{description}\n\nRequired role: {roles}.",
        annotations=ToolAnnotations(
            title=title,
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=idempotent,
            open_world_hint=False,
        ),
        structured_output=True,
    )
    base = tool.fn_metadata.arg_model
    strict: type[ArgModelBase] = type(
        f"{base.__name__}Strict",
        (base,),
        {"model_config": ConfigDict(extra="forbid", arbitrary_types_allowed=True), "__module__": __name__},
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = strict.model_json_schema(by_alias=True)
    return tool
