"""DELIBERATELY VULNERABLE MCP SERVER - FOR TESTING AND TEACHING ONLY. NEVER DEPLOY IT.

This is the insecure "database server" that MCP security guides use as their cautionary
example, on the current ``mcp`` API (``MCPServer``). Every tool here is a textbook flaw:

- ``insert_record(name, address)`` builds SQL with an f-string and runs it with
  ``executescript``: ``address = "x'); DROP TABLE records;--"`` drops the table
  (CWE-89, SQL injection).
- ``query_records()`` returns every record to anyone: no identity, no authorization
  (CWE-862, missing authorization).
- ``execute_sql(query)`` runs arbitrary SQL from the caller (CWE-89 by design).
- ``get_env_variable(name)`` returns any environment variable, secrets included
  (CWE-526 / CWE-200, information exposure).

The secure counterpart is ``gridops`` (``bastion gridops serve``). The tests in
``tests/examples/`` show each attack succeeding here and failing against gridops; later
the gateway and scanner are tested against this server. It is not installed as an entry
point; run it from a checkout:

    python examples/vulnerable/seed_server.py [--transport stdio|http] [--port 8766]

The SQLite file is ``$VULN_DB_PATH`` or ``seed.db`` in a fresh temporary directory.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

__all__ = ["build_server", "main"]


def _connect(db_path: Path) -> sqlite3.Connection:
    # VULNERABLE: one shared read-write connection for everything, no read-only separation.
    conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, name TEXT, address TEXT)")
    return conn


def build_server(db_path: Path) -> MCPServer[Any]:
    """The vulnerable server over the SQLite file ``db_path``."""
    conn = _connect(db_path)
    server: MCPServer[Any] = MCPServer(name="vulnerable-seed-server")

    @server.tool()
    def insert_record(name: str, address: str) -> str:
        """Insert a record into the database."""
        # VULNERABLE: string-built SQL executed as a script (stacked queries work).
        conn.executescript(f"INSERT INTO records (name, address) VALUES ('{name}', '{address}');")
        return "Record inserted"

    @server.tool()
    def query_records() -> list[dict[str, Any]]:
        """Return all records."""
        # VULNERABLE: no authentication or authorization at all.
        rows = conn.execute("SELECT id, name, address FROM records").fetchall()
        return [{"id": r[0], "name": r[1], "address": r[2]} for r in rows]

    @server.tool()
    def execute_sql(query: str) -> list[list[Any]]:
        """Execute any SQL query."""
        # VULNERABLE: arbitrary SQL from the caller.
        return [list(row) for row in conn.execute(query).fetchall()]

    @server.tool()
    def get_env_variable(name: str) -> str:
        """Read an environment variable."""
        # VULNERABLE: exposes secrets from the server's environment.
        return os.environ.get(name, "")

    return server


def main(argv: list[str] | None = None) -> int:
    """Run the vulnerable server over stdio or Streamable HTTP (loopback)."""
    parser = argparse.ArgumentParser(description="DELIBERATELY VULNERABLE MCP server (testing only)")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    db = os.environ.get("VULN_DB_PATH") or str(Path(tempfile.mkdtemp(prefix="vuln-seed-")) / "seed.db")
    server = build_server(Path(db))
    if args.transport == "stdio":
        server.run("stdio")
    else:
        import uvicorn

        uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
