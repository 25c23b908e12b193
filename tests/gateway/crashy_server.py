"""A stdio MCP server that can be told to die: for the gateway's crash-recovery test."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server: MCPServer = MCPServer("crashy")
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


@server.tool(annotations=READ_ONLY)
def echo(text: str) -> str:
    """Return the text and this process's id."""
    return f"{text} from {os.getpid()}"


@server.tool(annotations=READ_ONLY)
def crash() -> str:
    """Exit the process at once, mid-request."""
    os._exit(3)


if __name__ == "__main__":
    server.run("stdio")
