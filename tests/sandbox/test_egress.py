"""``network: egress``: from inside the sandbox, only listed hosts are reachable, through the proxy.

Two loopback listeners play the outside world: the "allowed" one is listed (as
``localhost:PORT``, with ``127.0.0.0/8`` opted in, since a name resolving to loopback is
otherwise refused), the "other" one is not. The hostile server asks the proxy named by
``HTTPS_PROXY`` for tunnels and also tries a direct connection. With ``network: host``
the direct connection works (the attack succeeds without the control).
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from mcp import ClientSession
from tests.sandbox.conftest import call_json

from mcp_bastion.config.sandbox import EgressPolicy, SandboxProfile
from mcp_bastion.sandbox import HostCapabilities, SpawnEvent, open_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

HOST = HostCapabilities.probe()
needs_bwrap = pytest.mark.skipif(HOST.bwrap is None, reason="bubblewrap is not installed")
needs_landlock = pytest.mark.skipif(HOST.landlock_abi < 4, reason="Landlock ABI >= 4 is not available")


async def _attempts(
    command: list[str], profile: SandboxProfile, allowed: int, other: int, events: list[SpawnEvent]
) -> dict[str, dict[str, Any]]:
    async with (
        open_stdio(command, profile=profile, on_event=events.append) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        out = {
            "tunnel_allowed": await call_json(session, "proxy_connect", host="localhost", port=allowed),
            "tunnel_other": await call_json(session, "proxy_connect", host="localhost", port=other),
            "tunnel_ip": await call_json(session, "proxy_connect", host="127.0.0.1", port=allowed),
            "direct_allowed": await call_json(session, "connect_tcp", port=allowed),
            "direct_other": await call_json(session, "connect_tcp", port=other),
        }
        assert (await call_json(session, "alive"))["ok"]
    return out


def _profile(isolation: Literal["auto", "landlock"], allowed: int, **policy: Any) -> SandboxProfile:
    return SandboxProfile(
        isolation=isolation,
        network="egress",
        egress=EgressPolicy(allow=[f"localhost:{allowed}"], **policy),
    )


async def _egress_holds(
    isolation: Literal["auto", "landlock"], command: list[str], allowed: int, other: int
) -> list[SpawnEvent]:
    events: list[SpawnEvent] = []
    profile = _profile(isolation, allowed, private_networks=["127.0.0.0/8"])
    results = await _attempts(command, profile, allowed, other, events)
    assert results["tunnel_allowed"] == {"ok": True, "detail": "hello"}
    assert results["tunnel_other"] == {"ok": False, "detail": "HTTP/1.1 403 Forbidden"}
    assert results["tunnel_ip"] == {"ok": False, "detail": "HTTP/1.1 403 Forbidden"}  # not listed as an IP
    assert not results["direct_allowed"]["ok"], results["direct_allowed"]
    assert not results["direct_other"]["ok"], results["direct_other"]
    egress = [event.detail for event in events if event.kind == "egress"]
    assert {"decision": "allowed", "reason": "allowed", "host": "localhost", "port": allowed} == {
        key: egress[0][key] for key in ("decision", "reason", "host", "port")
    }
    assert egress[0]["address"] == "127.0.0.1"
    assert [(e["decision"], e["reason"], e["host"], e["port"]) for e in egress[1:]] == [
        ("refused", "not-listed", "localhost", other),
        ("refused", "not-listed", "127.0.0.1", allowed),
    ]
    assert all(event.pid is not None for event in events)
    return events


@needs_bwrap
async def test_bubblewrap_egress_reaches_only_listed_hosts_through_the_proxy(
    hostile_command: list[str], tcp_listener: int, other_listener: int
) -> None:
    events = await _egress_holds("auto", hostile_command, tcp_listener, other_listener)
    assert events[0].isolation_used == "bubblewrap"


@needs_landlock
async def test_landlock_egress_reaches_only_listed_hosts_through_the_proxy(
    hostile_command: list[str], tcp_listener: int, other_listener: int
) -> None:
    events = await _egress_holds("landlock", hostile_command, tcp_listener, other_listener)
    assert events[0].isolation_used == "landlock"


@needs_bwrap
async def test_a_listed_name_resolving_to_loopback_is_refused_without_the_opt_in(
    hostile_command: list[str], tcp_listener: int, other_listener: int
) -> None:
    events: list[SpawnEvent] = []
    results = await _attempts(
        hostile_command, _profile("auto", tcp_listener), tcp_listener, other_listener, events
    )
    assert results["tunnel_allowed"] == {"ok": False, "detail": "HTTP/1.1 403 Forbidden"}
    refused = [e.detail for e in events if e.kind == "egress" and e.detail["host"] == "localhost"]
    assert refused[0]["reason"] == "address-not-permitted"


@needs_bwrap
async def test_without_the_control_the_direct_connection_succeeds(
    hostile_command: list[str], tcp_listener: int, other_listener: int
) -> None:
    events: list[SpawnEvent] = []
    profile = SandboxProfile(network="host")
    results = await _attempts(hostile_command, profile, tcp_listener, other_listener, events)
    assert results["direct_other"] == {"ok": True, "detail": "other"}
    assert results["direct_allowed"] == {"ok": True, "detail": "hello"}
    assert results["tunnel_allowed"] == {"ok": False, "detail": "no HTTPS_PROXY"}
    assert not [e for e in events if e.kind == "egress"]
