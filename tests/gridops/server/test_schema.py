"""Every tool advertises a tight input schema, honest annotations and its required role."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from gridops.server.roles import allowed_roles

pytestmark = pytest.mark.anyio

WRITES = {"insert_record", "create_work_order", "operate_switch"}


def _strings(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        variant
        for prop in schema.get("properties", {}).values()
        for variant in prop.get("anyOf", [prop])
        if variant.get("type") == "string"
    ]


async def test_tool_schemas_are_tight(server_for: Any) -> None:
    async with Client(server_for("viewer")) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) == 12
    for tool in tools:
        schema = tool.input_schema
        assert schema["additionalProperties"] is False, tool.name
        for string in _strings(schema):
            if "format" in string:  # date-time strings are parsed, not free text
                continue
            assert "enum" in string or ("maxLength" in string and "pattern" in string), (tool.name, string)
        for prop in schema.get("properties", {}).values():
            if prop.get("type") == "integer":
                assert "minimum" in prop and "maximum" in prop, (tool.name, prop)
        annotations = tool.annotations
        assert annotations is not None
        assert annotations.open_world_hint is False
        assert annotations.read_only_hint is (tool.name not in WRITES), tool.name
        assert annotations.destructive_hint is (tool.name == "operate_switch"), tool.name
        assert tool.description is not None
        assert f"Required role: {' or '.join(allowed_roles(tool.name))}." in tool.description


async def test_no_dangerous_tools(server_for: Any) -> None:
    async with Client(server_for("supervisor")) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert not names & {"execute_sql", "get_env_variable", "run_sql", "query", "shell"}


def test_strict_model_refuses_what_the_sdk_default_ignores() -> None:
    # The attack: smuggle an extra property (here an identity) into a call. The SDK's
    # default argument model silently drops it; strict_tool's model refuses it.
    from mcp.server.mcpserver.tools import Tool
    from pydantic import ValidationError

    from gridops.server.common import strict_tool

    def insert_record(name: str) -> dict[str, Any]:
        return {"name": name}

    smuggled = {"name": "n", "created_by": "admin"}
    lenient = Tool.from_function(insert_record, name="insert_record")
    assert lenient.fn_metadata.arg_model.model_validate(smuggled).model_dump() == {"name": "n"}
    strict = strict_tool(insert_record, name="insert_record", title="t", description="d", read_only=False)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        strict.fn_metadata.arg_model.model_validate(smuggled)
    assert strict.parameters["additionalProperties"] is False
    assert "additionalProperties" not in lenient.parameters
