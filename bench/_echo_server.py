"""A trivial MCP server for the gateway benchmark: one read-only ``echo`` tool.

``python -m bench._echo_server --transport http --port P`` or ``--transport stdio``.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

__all__ = ["build", "main"]


def build() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("echo")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["http", "stdio"], default="http")
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    server = build()
    if args.transport == "stdio":
        server.run("stdio")
        return
    app = server.streamable_http_app(json_response=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
