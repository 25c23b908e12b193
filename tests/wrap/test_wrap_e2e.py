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
