"""A test server with command injection and path traversal, and its fixed twin (``--safe``).

Used by ``tests/scanner/test_active.py``: the probes must fire against the vulnerable build
and stay silent against the safe one. Never deploy it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources.templates import ResourceSecurity

__all__ = ["build_server"]


def build_server(*, safe: bool) -> MCPServer[Any]:
    """The probe target; ``safe`` uses argv lists and confines paths to the work directory."""
    server: MCPServer[Any] = MCPServer(name="probe-target")
    root = Path.cwd().resolve()

    @server.tool()
    def ping_host(host: str) -> str:
        """Echo a host name back through the system shell."""
        if safe:
            return subprocess.run(["echo", host], capture_output=True, text=True, check=False).stdout
        # VULNERABLE: the argument is pasted into a shell command line.
        return subprocess.run(f"echo {host}", shell=True, capture_output=True, text=True, check=False).stdout

    @server.tool()
    def read_file(path: str) -> str:
        """Read a text file."""
        target = Path(path) if not safe else (root / path).resolve()
        if safe and not target.is_relative_to(root):
            raise ToolError("path outside the data directory")
        try:
            return target.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError as exc:
            raise ToolError("cannot read that file") from exc

    # VULNERABLE (unless safe): the SDK's traversal guard is switched off for ``name``.
    security = ResourceSecurity() if safe else ResourceSecurity(exempt_params={"name"})

    @server.resource("notes://{name}", security=security)
    def note(name: str) -> str:
        """A note file by name."""
        return (root / name).read_text(encoding="utf-8", errors="replace")[:4000]

    return server


if __name__ == "__main__":
    build_server(safe="--safe" in sys.argv).run("stdio")
