"""``bastion call`` argument parsing and output (the live calls are in tests/gridops/e2e)."""

from __future__ import annotations

import json

import pytest
import typer
from mcp.types import CallToolResult, TextContent
from typer.testing import CliRunner

from mcp_bastion.cli.call_cmd import parse_arguments, render_result
from mcp_bastion.cli.main import app


def test_values_are_json_when_valid_json() -> None:
    parsed = parse_arguments(["n=12", "f=1.5", "b=true", 'o={"a": [1]}', "s=hello", "q=x'); DROP", "e="])
    assert parsed == {"n": 12, "f": 1.5, "b": True, "o": {"a": [1]}, "s": "hello", "q": "x'); DROP", "e": ""}


def test_equals_inside_value_kept() -> None:
    assert parse_arguments(["reason=a=b"]) == {"reason": "a=b"}


@pytest.mark.parametrize("bad", ["novalue", "=x", "bad key=1", "1x=2"])
def test_malformed_pairs_rejected(bad: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_arguments([bad])


def test_render_structured_and_error() -> None:
    ok = CallToolResult(content=[TextContent(type="text", text="{}")], structured_content={"a": 1})
    assert json.loads(render_result(ok, as_json=False)) == {"a": 1}
    assert json.loads(render_result(ok, as_json=True))["structuredContent"] == {"a": 1}
    err = CallToolResult(content=[TextContent(type="text", text="permission denied")], is_error=True)
    assert render_result(err, as_json=False) == "permission denied"


def test_unknown_target_scheme_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["call", "ftp://example/mcp", "get_topology"])
    assert result.exit_code == 2
    assert "TARGET must be" in result.output
