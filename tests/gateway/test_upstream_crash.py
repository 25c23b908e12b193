"""A crashed upstream gives clean errors and comes back (real sandboxed stdio process)."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from mcp_types import JSONRPCError, JSONRPCResponse
from tests.gateway.harness import Harness, principal

from mcp_bastion.config import BastionConfig
from mcp_bastion.config.identities import Identities, LocalIdentity
from mcp_bastion.config.upstreams import Upstream
from mcp_bastion.gateway.runtime import GatewayRuntime

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SERVER = str(Path(__file__).with_name("crashy_server.py"))
OPERATOR = principal("operator")


async def test_crash_gives_clean_error_then_recovers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/state.db"
    config = BastionConfig.model_validate(
        {
            "upstreams": {"c": Upstream(command=(sys.executable, SERVER))},
            "identities": Identities(local=LocalIdentity(roles=("operator",))),
            "stores": {"pins": db, "approvals": db, "audit": db},
        }
    )
    async with GatewayRuntime(config) as runtime:
        await runtime.start()
        gw = Harness(runtime, None)
        first = await gw.call(OPERATOR, "c.echo", {"text": "hi"})
        assert isinstance(first, JSONRPCResponse), first
        pid_before = first.result["content"][0]["text"].rsplit(" ", 1)[1]

        crashed = await gw.call(OPERATOR, "c.crash", {})
        assert isinstance(crashed, JSONRPCError)
        assert crashed.error.message == "upstream server 'c' is unavailable"
        assert "Traceback" not in crashed.model_dump_json()

        reply: JSONRPCResponse | JSONRPCError = crashed
        with anyio.fail_after(30):
            while not isinstance(reply, JSONRPCResponse):
                await anyio.sleep(0.3)
                reply = await gw.call(OPERATOR, "c.echo", {"text": "again"})
                if isinstance(reply, JSONRPCError):
                    assert "unavailable" in reply.error.message
        pid_after = reply.result["content"][0]["text"].rsplit(" ", 1)[1]
        assert pid_after != pid_before
