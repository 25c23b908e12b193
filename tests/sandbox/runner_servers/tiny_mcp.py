"""A dependency-free MCP stdio server, installed by ``uvx`` from a wheel the test builds.

The JSON-RPC is written by hand: ``uvx`` runs it in an isolated environment of its own,
and offline (no network in tests) that environment cannot get the ``mcp`` SDK or its
dependencies, so the server may depend on nothing. It answers ``initialize``, ``ping``,
``tools/list`` and ``tools/call`` for three tools: ``hello``, ``read`` and ``touch``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TOOLS = [
    {"name": "hello", "description": "Say hello.", "inputSchema": {"type": "object", "properties": {}}},
    {
        "name": "read",
        "description": "Read a file.",
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
    {
        "name": "touch",
        "description": "Create a file.",
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
]


def _call(name: str, args: dict[str, Any]) -> str:
    if name == "hello":
        return "hello from tiny-mcp (python)"
    try:
        if name == "read":
            return "ok " + Path(args["path"]).read_text(encoding="utf-8")
        Path(args["path"]).write_text("x", encoding="utf-8")
        return "ok"
    except OSError as exc:
        return "error " + type(exc).__name__


def _answer(message: dict[str, Any]) -> dict[str, Any] | None:
    method, params = message.get("method"), message.get("params") or {}
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion", "2025-11-25"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "tiny-mcp", "version": "0.1"},
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "tools/call":
        text = _call(str(params.get("name")), params.get("arguments") or {})
        return {"content": [{"type": "text", "text": text}], "isError": False}
    return None


def main() -> None:
    """Answer JSON-RPC requests, one per line, until stdin ends."""
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue  # a notification
        result = _answer(message)
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if result is None:
            reply["error"] = {"code": -32601, "message": "method not found"}
        else:
            reply["result"] = result
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
