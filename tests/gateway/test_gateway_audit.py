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
