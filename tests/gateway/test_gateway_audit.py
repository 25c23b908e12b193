"""The gateway's own audit log: every decision recorded, checkpoints signed, chain verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.client._memory import InMemoryTransport
from mcp_types import JSONRPCError, JSONRPCResponse
from seed_server import build_server
from tests.gateway.harness import Harness, principal

from mcp_bastion.audit.signing import CheckpointVerifier, generate_key
from mcp_bastion.audit.verify import verify_log
from mcp_bastion.config import BastionConfig
from mcp_bastion.gateway.runtime import GatewayRuntime
from mcp_bastion.store.factory import open_store

pytestmark = pytest.mark.anyio


async def test_decisions_land_in_a_signed_verifiable_chain(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    public = generate_key(key)
    db = f"sqlite:///{tmp_path}/bastion.db"
    config = BastionConfig.model_validate(
        {
            "upstreams": {"seed": {"command": ["unused-in-process"]}},
            "identities": {"local": {"roles": ["operator"]}},
            "stores": {"pins": db, "approvals": db, "audit": db},
            "audit_log": {"signing_key_file": str(key), "checkpoint_every": 3},
        }
    )
    server = build_server(tmp_path / "seed.db")
    openers: dict[str, Any] = {"seed": lambda: InMemoryTransport(server)}
    async with GatewayRuntime(config, openers=openers) as runtime:
        await runtime.start()
        gw = Harness(runtime, None)
        operator = principal("operator")
        assert isinstance(
            await gw.call(operator, "seed.insert_record", {"name": "a", "address": "b"}), JSONRPCResponse
        )
        assert isinstance(await gw.call(operator, "seed.execute_sql", {"query": "SELECT 1"}), JSONRPCError)
        for _ in range(4):
            await gw.call(operator, "seed.query_records", {})

    store, close = open_store("audit", db)
    try:
        report = await verify_log(store, verifier=CheckpointVerifier.from_file(public))
    finally:
        await close()
    assert report.ok, report.problem
    assert report.checkpoints >= 1 and report.signatures_checked >= 1
    assert report.records >= 6  # the write, the denial, four reads (plus list quarantines, checkpoints)


async def test_sandbox_spawns_are_audited_without_environment_values(tmp_path: Path) -> None:
    """A sandboxed stdio upstream's spawn is an audit record: command, executable digest, profile."""
    import hashlib
    import json
    import sys

    from tests.gateway.procs import ECHO

    from mcp_bastion.pipeline.audit_sink import JsonlSink

    secret = "s3cr3t-value-0123456789"
    config = BastionConfig.model_validate(
        {
            "upstreams": {
                "echo": {
                    "command": [sys.executable, ECHO, "--transport", "stdio"],
                    "env": {"ECHO_TOKEN": secret},
                }
            },
            "identities": {"local": {"roles": ["operator"]}},
            "stores": {"pins": "memory://", "approvals": "memory://", "audit": "memory://"},
        }
    )
    log = tmp_path / "audit.jsonl"
    async with GatewayRuntime(config, extras={"audit_sink": JsonlSink(log)}) as runtime:
        await runtime.start()
        assert isinstance(
            await Harness(runtime, None).call(principal("operator"), "echo.echo", {"text": "hi"}),
            JSONRPCResponse,
        )
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    spawns = [r for r in records if r["method"] == "sandbox/spawn"]
    assert len(spawns) == 1
    spawn = spawns[0]
    assert spawn["upstream"] == "echo" and spawn["direction"] == "sandbox"
    script = hashlib.sha256(Path(ECHO).read_bytes()).hexdigest()  # noqa: ASYNC240 - a small test file
    assert spawn["arguments"]["sha256"] == script
    assert spawn["arguments"]["command"] == [sys.executable, ECHO, "--transport", "stdio"]
    assert "ECHO_TOKEN" in spawn["arguments"]["profile"]["env"]
    assert secret not in log.read_text(encoding="utf-8")
