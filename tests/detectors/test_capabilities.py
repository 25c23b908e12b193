"""Dangerous capabilities from names, descriptions and schemas."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_bastion.detectors import Capability, Severity, classify_capabilities, scan_tool


def tool(tool_name: str, description: str = "", **props: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": tool_name,
        "description": description,
        "inputSchema": {"type": "object", "properties": props},
    }


S = {"type": "string"}

CASES = [
    (tool("execute_sql", "Run a query", query=S), {Capability.ARBITRARY_SQL}),
    (tool("query", "Run a read-only SQL query", sql=S), {Capability.ARBITRARY_SQL}),
    (
        tool("read_query", "Execute a SELECT query on the SQLite database", query=S),
        {Capability.ARBITRARY_SQL},
    ),
    (tool("run_command", "Run a shell command", command=S), {Capability.SHELL}),
    (tool("eval", "Evaluate an expression", expression=S), {Capability.CODE_EXECUTION}),
    (tool("execute_python", "Execute Python code in a kernel", code=S), {Capability.CODE_EXECUTION}),
    (
        tool("puppeteer_evaluate", "Execute JavaScript in the browser console", script=S),
        {Capability.CODE_EXECUTION},
    ),
    (tool("get_env_variable", "Return an environment variable", name=S), {Capability.ENV_READ}),
    (tool("read_file", "Read the complete contents of a file", path=S), {Capability.FILE_READ}),
    (
        tool("write_file", "Create a new file or overwrite an existing file", path=S, content=S),
        {Capability.FILE_WRITE},
    ),
    (tool("delete_file", "Delete a file", path=S), {Capability.FILE_DELETE}),
    (tool("fetch", "Fetches a URL from the internet", url=S), {Capability.NETWORK_FETCH}),
    (tool("send_email", "Sends a new email", to=S, body=S), {Capability.SEND_MESSAGE}),
]


@pytest.mark.parametrize(("t", "expected"), CASES, ids=[c[0]["name"] for c in CASES])
def test_capabilities_are_recognised(t: dict[str, Any], expected: set[Capability]) -> None:
    assert expected <= classify_capabilities(t)


@pytest.mark.parametrize(
    "t",
    [
        tool("get_forecast", "Get weather forecast for a location.", latitude={"type": "number"}),
        tool("search_issues", "Search for issues and pull requests", q=S),
        tool("git_commit", "Records changes to the repository", message=S),
        tool("convert_time", "Convert time between timezones", time=S),
        tool("create_issue", "Create a new issue in a GitHub repository", title=S, body=S),
        tool("set_mode", "Set the mode", command={"type": "string", "enum": ["start", "stop"]}),
    ],
    ids=lambda t: t["name"],
)
def test_harmless_tools_have_no_dangerous_capability(t: dict[str, Any]) -> None:
    assert classify_capabilities(t) == frozenset()


def test_capabilities_are_info_findings() -> None:
    found = [
        f
        for f in scan_tool(tool("run_command", "Run a shell command", command=S))
        if f.rule_id == "BST-CAP-001"
    ]
    assert found and all(f.severity is Severity.INFO for f in found)
    assert "shell" in found[0].message
