"""``bastion audit ...`` end to end on a real SQLite log (the CLI module's own Typer app)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from mcp_bastion.audit import AuditEvent, AuditLog, CheckpointSigner
from mcp_bastion.cli.audit_cmd import app
from mcp_bastion.store.sqlite import SQLiteDatabase
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

runner = CliRunner()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, Path]:
    key = tmp_path / "audit.key"
    result = runner.invoke(app, ["keygen", "--out", str(key)])
    assert result.exit_code == 0, result.output
    pub = Path(result.output.strip())
    assert pub == tmp_path / "audit.key.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert runner.invoke(app, ["keygen", "--out", str(key)]).exit_code == 2  # never overwrites a key

    async def fill() -> None:
        store = SQLiteAuditStore(SQLiteDatabase(tmp_path / "audit.db"))
        async with AuditLog(store, signer=CheckpointSigner.from_file(key), checkpoint_every=10) as log:
            for i in range(30):
                await log.append(
                    AuditEvent(
                        principal="alice" if i % 2 else "bob",
                        method="tools/call",
                        tool="set_breaker" if i % 3 == 0 else "get_asset",
                        verdict="deny" if i % 5 == 0 else "allow",
                        reason="rule BST=1|x\nnext" if i % 5 == 0 else None,
                        arguments={"i": i},
                    ),
                    durable=True,
                )
        await store.close()

    anyio.run(fill)
    return f"sqlite:///{tmp_path / 'audit.db'}", pub


def test_verify_ok_then_tampered(setup: tuple[str, Path], tmp_path: Path) -> None:
    url, pub = setup
    ok = runner.invoke(app, ["verify", "--db", url, "--pubkey", str(pub)])
    assert ok.exit_code == 0, ok.output
    assert "OK: 33 records" in ok.output
    assert "3 signatures checked" in ok.output
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("UPDATE audit_log SET body = replace(body, 'alice', 'alicf') WHERE seq = 8")
    bad = runner.invoke(app, ["verify", "--db", url, "--pubkey", str(pub)])
    assert bad.exit_code == 1
    assert "FAIL: record 8 modified" in bad.output


def test_search_tail_export_cef(setup: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = setup
    found = runner.invoke(
        app, ["search", "--db", url, "--principal", "bob", "--verdict", "deny", "-f", "jsonl"]
    )
    assert found.exit_code == 0, found.output
    rows = [json.loads(line) for line in found.output.splitlines()]
    assert rows
    assert {(r["principal"], r["verdict"]) for r in rows} == {("bob", "deny")}
    assert runner.invoke(app, ["search", "--db", url, "--since", "2999-01-01"]).output == ""
    assert runner.invoke(app, ["search", "--db", url, "--since", "not a time"]).exit_code == 2
    tail = runner.invoke(app, ["tail", "--db", url, "-n", "2"])
    assert [line.split()[0] for line in tail.output.splitlines()] == ["32", "33"]
    cef = runner.invoke(app, ["export", "--db", url, "--format", "cef", "--tool", "set_breaker"])
    lines = [line for line in cef.output.splitlines() if line.startswith("CEF:0|")]
    assert len(lines) == 10
    deny = next(line for line in lines if "|event:deny|" in line)
    assert deny.split("|")[6] == "7"
    assert "reason=rule BST\\=1|x\\nnext" in deny  # '=' and newlines escaped in extensions
    assert "suser=" in deny


def test_export_jsonl_verifies_and_torn_line_detected(setup: tuple[str, Path], tmp_path: Path) -> None:
    url, pub = setup
    out = tmp_path / "export.jsonl"
    assert runner.invoke(app, ["export", "--db", url, "-o", str(out)]).exit_code == 0
    ok = runner.invoke(app, ["verify", "--jsonl", str(out), "--pubkey", str(pub)])
    assert ok.exit_code == 0, ok.output
    data = out.read_bytes()
    out.write_bytes(data[: len(data) - 40])  # the writer died mid-line
    torn = runner.invoke(app, ["verify", "--jsonl", str(out)])
    assert torn.exit_code == 1
    assert "FAIL: record 33 torn" in torn.output


def test_repair_and_rotate(setup: tuple[str, Path], tmp_path: Path) -> None:
    url, pub = setup
    key = str(tmp_path / "audit.key")
    assert "nothing to repair" in runner.invoke(app, ["repair", "--db", url, "--key", key]).output
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("UPDATE audit_log SET body = substr(body, 1, 50) WHERE seq = 33")
    assert "torn" in runner.invoke(app, ["verify", "--db", url]).output
    fixed = runner.invoke(app, ["repair", "--db", url, "--key", key])
    assert fixed.exit_code == 0, fixed.output
    assert "removed 1 torn record(s) after 32; repair record 33" in fixed.output
    assert runner.invoke(app, ["verify", "--db", url, "--pubkey", str(pub)]).exit_code == 0
    rotated = runner.invoke(app, ["rotate", "--db", url, "--archive", str(tmp_path / "arch"), "--key", key])
    assert rotated.exit_code == 0, rotated.output
    assert "log starts at 30" in rotated.output
    segment = next((tmp_path / "arch").glob("*.jsonl"))
    # The live log, the archive alone, and archive + live log all verify.
    assert runner.invoke(app, ["verify", "--db", url, "--pubkey", str(pub)]).exit_code == 0
    assert runner.invoke(app, ["verify", "--jsonl", str(segment), "--pubkey", str(pub)]).exit_code == 0
    both = runner.invoke(app, ["verify", "--jsonl", str(segment), "--db", url, "--pubkey", str(pub)])
    assert both.exit_code == 0, both.output
    assert "records 1..34" in both.output  # 32 events and checkpoints, the repair, the retention record
    # Deleting more than the retention record says is caught.
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 30")
    assert runner.invoke(app, ["verify", "--db", url]).exit_code == 1


def test_checkpoint_command_and_unreachable_store(setup: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = setup
    done = runner.invoke(app, ["checkpoint", "--db", url, "--key", str(tmp_path / "audit.key")])
    assert done.exit_code == 0, done.output
    assert "checkpoint 34 signs record 33" in done.output
    down = runner.invoke(app, ["verify", "--db", "postgresql://postgres@127.0.0.1:1/none"])
    assert down.exit_code == 2
    assert "unavailable" in down.output
