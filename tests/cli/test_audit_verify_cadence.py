"""``bastion audit verify --checkpoint-every``: a rewrite that turns checkpoints into events.

An insider with write access edits an old record, rehashes everything after it and turns
every later signed checkpoint into an ordinary record, so there is no signature left to
forge. ``verify --pubkey`` accepts that log; given the writers' cadence (the option, or
``audit_log.checkpoint_every`` of the configuration) it names record 10.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import anyio
import pytest
import yaml
from typer.testing import CliRunner

from mcp_bastion.audit import AuditEvent, AuditLog, CheckpointSigner
from mcp_bastion.audit.signing import generate_key
from mcp_bastion.canonical import canonical_json
from mcp_bastion.cli.audit_cmd import app
from mcp_bastion.store.sqlite import SQLiteDatabase
from mcp_bastion.store.sqlite_audit import SQLiteAuditStore

runner = CliRunner()
EVERY = 10
EVENTS = 45  # records 1..49: checkpoints at 10, 20, 30, 40


class Log:
    """A real SQLite audit log written by a signing ``AuditLog``, and a config naming it."""

    def __init__(self, tmp_path: Path, events: int = EVENTS) -> None:
        self.dir = tmp_path
        self.db = tmp_path / "audit.db"
        self.url = f"sqlite:///{self.db}"
        self.key = tmp_path / "audit.key"
        self.pub = generate_key(self.key)
        anyio.run(self._fill, events)

    async def _fill(self, events: int) -> None:
        store = SQLiteAuditStore(SQLiteDatabase(self.db))
        async with AuditLog(
            store, signer=CheckpointSigner.from_file(self.key), checkpoint_every=EVERY
        ) as log:
            for i in range(events):
                event = AuditEvent(
                    principal=f"user{i % 3}",
                    method="tools/call",
                    tool="open_breaker",
                    verdict="allow",
                    arguments={"i": i},
                )
                await log.append(event, durable=i % 4 == 0)
        await store.close()

    def config(self, name: str = "bastion.yaml", **audit_log: object) -> Path:
        path = self.dir / name
        path.write_text(yaml.safe_dump({"stores": {"audit": self.url}, "audit_log": audit_log}))
        return path

    def verify(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["verify", *args])
        return result.exit_code, result.output

    def rewrite_checkpoints_away(self) -> None:
        """Record 3 now says ``deny``; every later record is rehashed, checkpoints become events."""
        with sqlite3.connect(self.db, isolation_level=None) as conn:

            def body(seq: int) -> dict[str, object]:
                row = conn.execute("SELECT body FROM audit_log WHERE seq = ?", (seq,)).fetchone()
                return dict(json.loads(row[0]))

            def put(seq: int, data: dict[str, object]) -> str:
                raw = canonical_json(data)
                digest = "sha256:" + hashlib.sha256(raw).hexdigest()
                conn.execute("UPDATE audit_log SET body = ?, hash = ? WHERE seq = ?", (raw, digest, seq))
                return digest

            template = body(1)
            prev = put(3, body(3) | {"verdict": "deny"})
            last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
            for seq in range(4, last + 1):
                data = body(seq)
                if data["kind"] == "checkpoint":
                    data = template | {k: data[k] for k in ("id", "time", "seq")}
                prev = put(seq, data | {"prev": prev})
            conn.execute("UPDATE audit_head SET hash = ?", (prev,))


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path)


def test_rewritten_checkpoints_pass_without_cadence_and_fail_with_it(log: Log) -> None:
    code, out = log.verify("--db", log.url, "--pubkey", str(log.pub), "--checkpoint-every", str(EVERY))
    assert code == 0, out
    assert "OK: 49 records (records 1..49), 4 checkpoints, 4 signatures checked" in out
    log.rewrite_checkpoints_away()
    # The attack succeeds against the checks verify ran before it knew the cadence.
    code, out = log.verify("--db", log.url, "--pubkey", str(log.pub))
    assert code == 0, out
    assert "OK: 49 records (records 1..49), 0 checkpoints, 0 signatures checked" in out
    assert "no signed checkpoints in the log" in out  # a warning only
    # Given the cadence, the first record that should be a checkpoint is named, on every path.
    for extra in ([], ["--deep"]):
        code, out = log.verify(
            "--db", log.url, "--pubkey", str(log.pub), "--checkpoint-every", str(EVERY), *extra
        )
        assert code == 1, out
        assert "FAIL: record 10 bad_checkpoint: record 10 should be a checkpoint (one every 10)" in out
        assert "verified before it: 9 records (records 1..9)" in out
    # An unfiltered export of the rewritten log is caught the same way.
    export = log.dir / "export.jsonl"
    assert runner.invoke(app, ["export", "--db", log.url, "-o", str(export)]).exit_code == 0
    assert log.verify("--jsonl", str(export), "--pubkey", str(log.pub))[0] == 0
    code, out = log.verify("--jsonl", str(export), "--pubkey", str(log.pub), "--checkpoint-every", "10")
    assert code == 1, out
    assert "FAIL: record 10 bad_checkpoint" in out


def test_cadence_from_config_and_the_option_wins(log: Log) -> None:
    config = str(log.config(signing_key_file=str(log.key), checkpoint_every=EVERY))
    code, out = log.verify("--config", config, "--pubkey", str(log.pub))
    assert code == 0, out
    assert "checking checkpoint cadence: every 10 records (audit_log.checkpoint_every)" in out
    # An explicit cadence wins over the configuration's: 7 is not where this log's checkpoints are.
    code, out = log.verify("--config", config, "--checkpoint-every", "7")
    assert code == 1, out
    assert "FAIL: record 7 bad_checkpoint" in out
    log.rewrite_checkpoints_away()
    code, out = log.verify("--config", config, "--pubkey", str(log.pub))
    assert code == 1, out
    assert "FAIL: record 10 bad_checkpoint" in out
    # --db names the store; --config still says how its writers were configured.
    assert log.verify("--db", log.url, "--config", config)[0] == 1
    # 0 turns the configured check off (and the rewrite is accepted again).
    assert log.verify("--config", config, "--pubkey", str(log.pub), "--checkpoint-every", "0")[0] == 0


def test_cadence_from_the_working_directorys_bastion_yaml(log: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    log.config(signing_key_file="audit.key")  # checkpoint_every left at its default
    other = log.dir / "elsewhere"
    other.mkdir()
    (other / "bastion.yaml").write_text(
        yaml.safe_dump(
            {"stores": {"audit": log.url}, "audit_log": {"signing_key_file": "k", "checkpoint_every": EVERY}}
        )
    )
    log.rewrite_checkpoints_away()
    monkeypatch.chdir(other)
    code, out = log.verify("--pubkey", str(log.pub))
    assert code == 1, out
    assert "FAIL: record 10 bad_checkpoint" in out
    # With --db and no --config, ./bastion.yaml is not read: no cadence.
    assert log.verify("--db", log.url, "--pubkey", str(log.pub))[0] == 0
    # A configured key without checkpoint_every: the writers' default cadence, 1000, applies.
    code, out = log.verify("--config", str(log.dir / "bastion.yaml"))
    assert code == 0, out
    assert "every 1000 records" in out


def test_no_cadence_from_config_without_a_signing_key(log: Log) -> None:
    """Writers without a key write no checkpoints, so their cadence says nothing about the log."""
    config = str(log.config(checkpoint_every=EVERY))
    log.rewrite_checkpoints_away()
    code, out = log.verify("--config", config)
    assert code == 0, out
    assert "audit_log.checkpoint_every not checked: the configuration has no signing_key_file" in out


def test_bad_cadence_and_bad_config_are_usage_errors(log: Log) -> None:
    for bad in ("1", "-10"):
        code, out = log.verify("--db", log.url, "--checkpoint-every", bad)
        assert code == 2, out
        assert "--checkpoint-every must be 0 (no cadence check) or at least 2" in out
    assert log.verify("--db", log.url, "--checkpoint-every", "ten")[0] == 2
    missing = log.dir / "missing.yaml"
    code, out = log.verify("--config", str(missing))
    assert code == 2, out
    assert "cannot read configuration" in out
    typo = log.dir / "typo.yaml"
    typo.write_text(yaml.safe_dump({"audit_log": {"checkpoint_evry": 10}}))
    code, out = log.verify("--config", str(typo))
    assert code == 2, out
    assert "checkpoint_evry" in out


def test_rotate_writes_with_the_configured_cadence(tmp_path: Path) -> None:
    """The CLI's own writes keep the cadence verify then checks (here: the record due at 30)."""
    log = Log(tmp_path, events=27)  # records 1..29, checkpoints at 10 and 20
    config = str(log.config(signing_key_file=str(log.key), checkpoint_every=EVERY))
    rotated = runner.invoke(
        app, ["rotate", "--config", config, "--archive", str(tmp_path / "arch"), "--key", str(log.key)]
    )
    assert rotated.exit_code == 0, rotated.output
    assert "log starts at 20" in rotated.output
    code, out = log.verify("--config", config, "--pubkey", str(log.pub))
    assert code == 0, out
    assert "(records 20..31), 2 checkpoints" in out  # checkpoint 30, then the retention record
