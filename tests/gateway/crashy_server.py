"""A stdio MCP server that can be told to die: for the gateway's crash-recovery test."""

from __future__ import annotations

import os
import uuid

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server: MCPServer = MCPServer("crashy")
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
BOOT = uuid.uuid4().hex  # pids repeat inside a pid namespace; this does not


@server.tool(annotations=READ_ONLY)
def echo(text: str) -> str:
    """Return the text and this process's boot id."""
    return f"{text} from {BOOT}"


@server.tool(annotations=READ_ONLY)
def crash() -> str:
    """Exit the process at once, mid-request."""
    os._exit(3)


if __name__ == "__main__":
    server.run("stdio")
