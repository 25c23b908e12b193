"""``bastion wrap`` over real stdio: a real client, the wrapper process, a sandboxed server."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
BASTION = str(Path(sys.executable).with_name("bastion"))
SEED = str(ROOT / "examples" / "vulnerable" / "seed_server.py")
PAYLOAD = "x'); DROP TABLE records;--"


def wrap_params(tmp_path: Path, role: str = "operator") -> tuple[StdioServerParameters, Path]:
    db = tmp_path / "work" / "seed.db"
    db.parent.mkdir()
    config = tmp_path / "bastion.yaml"
    config.write_text(
        f"""version: 1
identities:
  local: {{subject: tester, roles: [{role}]}}
upstreams:
  server:
    command: [placeholder]
    env: {{VULN_DB_PATH: "{db}"}}
    sandbox:
      write_paths: ["{db.parent}"]
stores:
  pins: sqlite:///{tmp_path}/state.db
  approvals: sqlite:///{tmp_path}/state.db
  audit: sqlite:///{tmp_path}/state.db
""",
        encoding="utf-8",
    )
    params = StdioServerParameters(
        command=BASTION, args=["wrap", "--policy", str(config), "--", sys.executable, SEED], cwd=str(tmp_path)
    )
    return params, db


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_wrapped_vulnerable_server_is_defended_over_stdio(tmp_path: Path, mode: str) -> None:
    params, db = wrap_params(tmp_path)
    async with Client(params, mode=mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"insert_record", "query_records"}  # dangerous tools hidden by policy
        with pytest.raises(MCPError) as refused:
            await client.call_tool("execute_sql", {"query": "SELECT 1"})
        assert "permission denied" in str(refused.value)
        with pytest.raises(MCPError):
            await client.call_tool("insert_record", {"name": "x", "address": PAYLOAD})
        ok = await client.call_tool("insert_record", {"name": "Ann Neil", "address": "Main St"})
        assert not ok.is_error
        rows = await client.call_tool("query_records", {})
        assert rows.structured_content == {"result": [{"id": 1, "name": "Ann Neil", "address": "Main St"}]}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (1,)


def test_wrapper_keeps_reading_while_its_client_is_not(tmp_path: Path) -> None:
    """A client that writes a lot before reading must not deadlock the wrapper (fuzzer finding).

    The wrapper's replies fill the stdout pipe while the client is still writing; a blocking
    write in the wrapper would stop it reading stdin, and both sides would wait forever.
    """
    import json
    import subprocess
    import threading

    params, _ = wrap_params(tmp_path)
    proc = subprocess.Popen(
        [params.command, *params.args],
        cwd=params.cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    # 40 replies of ~8 KB each (the id is echoed) overfill the 64 KiB stdout pipe; then a
    # 3 MB line the wrapper must read (and refuse as too large) before the client reads.
    big_ids = [f"{i}-" + "x" * 8000 for i in range(40)]
    pings = b"".join(
        json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping"}).encode() + b"\n" for rid in big_ids
    )
    pings += b"y" * 3_000_000 + b"\n"
    done = threading.Event()

    def write() -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(init).encode() + b"\n" + pings)
        proc.stdin.close()
        done.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    # Read nothing until the writer is through (or clearly stuck): the deadlock check.
    finished = done.wait(timeout=60)
    try:
        assert finished, "the wrapper stopped reading its input while its output was full"
        out = proc.stdout.read()
        answered = {json.loads(line)["id"] for line in out.splitlines() if line.strip()}
        assert {0, *big_ids} <= answered
    finally:
        proc.kill()
        proc.wait(timeout=10)
