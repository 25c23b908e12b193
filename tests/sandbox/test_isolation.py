"""Each escape attempt of the hostile server works unconfined and fails in the sandbox.

The same profile is used for both runs except ``isolation`` (and, for the environment
test, the allow-list, which is the control for that attack). HOME points at a temporary
home with a planted ``~/.ssh/id_rsa`` in both runs: even told where the key is, the
sandboxed server cannot read it. After every attempt the server must still answer.
"""

from __future__ import annotations

import hashlib
import json
import resource
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from mcp import ClientSession
from tests.sandbox.conftest import call_json

from mcp_bastion.config.sandbox import DEFAULT_ENV_ALLOW, SandboxProfile
from mcp_bastion.sandbox import HostCapabilities, SpawnEvent, open_stdio

HOSTILE = str(Path(__file__).with_name("hostile_server.py"))

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SECRET_NAME = "BASTION_TEST_UPSTREAM_SECRET"
SECRET_VALUE = "not-a-real-secret-7f3a"
KEY_TEXT = "-----BEGIN FAKE TEST KEY-----\n"
HOST = HostCapabilities.probe()
SCRIPT_SHA256 = hashlib.sha256(Path(HOSTILE).read_bytes()).hexdigest()
needs_bwrap = pytest.mark.skipif(
    HOST.bwrap is None, reason="bubblewrap is not installed (make install-dev installs it)"
)
needs_landlock = pytest.mark.skipif(
    HOST.landlock_abi < 4, reason="Landlock ABI >= 4 is not available on this kernel"
)


async def _attack(
    command: list[str], profile: SandboxProfile, port: int, outside: Path, events: list[SpawnEvent]
) -> dict[str, dict[str, Any]]:
    """Run every attack in one session; check the server answers after each."""
    attacks: list[tuple[str, dict[str, Any]]] = [
        ("read_ssh_key", {}),
        ("read_env", {"name": SECRET_NAME}),
        ("connect_tcp", {"port": port}),
        ("write_file", {"path": str(outside / "pwned.txt")}),
        ("fork_many", {"count": 100}),
        ("allocate", {"megabytes": 4096}),
        ("ptrace_child", {}),
        ("unshare_ns", {}),
    ]
    results: dict[str, dict[str, Any]] = {}
    async with (
        open_stdio(command, profile=profile, on_event=events.append) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        for tool, args in attacks:
            results[tool] = await call_json(session, tool, **args)
            assert (await call_json(session, "alive"))["ok"], f"server stopped answering after {tool}"
        results["confinement"] = json.loads((await call_json(session, "confinement"))["detail"])
    return results


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(KEY_TEXT, encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    outside = tmp_path / "outside"
    outside.mkdir()
    return outside


async def test_every_attack_succeeds_unconfined(
    hostile_command: list[str], tcp_listener: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = _home(tmp_path, monkeypatch)
    profile = SandboxProfile(isolation="none", env_allow=[*DEFAULT_ENV_ALLOW, "HOME", SECRET_NAME])
    events: list[SpawnEvent] = []
    results = await _attack(hostile_command, profile, tcp_listener, outside, events)
    assert results["read_ssh_key"] == {"ok": True, "detail": KEY_TEXT}
    assert results["read_env"] == {"ok": True, "detail": SECRET_VALUE}
    assert results["connect_tcp"] == {"ok": True, "detail": "hello"}
    assert results["write_file"]["ok"]
    assert (outside / "pwned.txt").exists()
    assert results["fork_many"]["ok"], results["fork_many"]
    assert results["allocate"]["ok"], results["allocate"]
    assert results["ptrace_child"]["ok"], results["ptrace_child"]
    assert results["unshare_ns"]["ok"], results["unshare_ns"]
    assert results["confinement"]["Seccomp"] == "0"
    assert [event.isolation_used for event in events] == ["none", "none"]


async def _confined(
    isolation: Literal["auto", "landlock"],
    command: list[str],
    port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[SpawnEvent]:
    outside = _home(tmp_path, monkeypatch)
    # The default profile, told where HOME is, with the target directory visible read-only.
    profile = SandboxProfile(
        isolation=isolation,
        env_allow=[*DEFAULT_ENV_ALLOW, "HOME"],
        read_paths=[str(outside)],
        max_processes=32,
    )
    events: list[SpawnEvent] = []
    results = await _attack(command, profile, port, outside, events)
    assert not results["read_ssh_key"]["ok"]
    assert KEY_TEXT not in json.dumps(results)
    assert results["read_env"] == {"ok": False, "detail": ""}
    assert not results["connect_tcp"]["ok"], results["connect_tcp"]
    assert not results["write_file"]["ok"]
    assert not (outside / "pwned.txt").exists()
    assert not results["fork_many"]["ok"], results["fork_many"]
    assert not results["allocate"]["ok"], results["allocate"]
    assert not results["ptrace_child"]["ok"], results["ptrace_child"]
    assert not results["unshare_ns"]["ok"], results["unshare_ns"]
    assert results["confinement"]["NoNewPrivs"] == "1"
    assert results["confinement"]["Seccomp"] == "2"  # a filter is installed
    return events


@needs_bwrap
async def test_every_attack_fails_under_the_default_profile(
    hostile_command: list[str], tcp_listener: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = await _confined("auto", hostile_command, tcp_listener, tmp_path, monkeypatch)
    spawn, exit_ = events
    assert (spawn.kind, exit_.kind) == ("spawn", "exit")
    assert spawn.isolation_used == "bubblewrap"
    assert spawn.pid is not None
    assert spawn.command == tuple(hostile_command)
    assert spawn.resolved_executable == hostile_command[0]
    assert spawn.profile["isolation"] == "auto"
    assert spawn.sha256 == SCRIPT_SHA256


@needs_landlock
async def test_every_attack_fails_under_landlock(
    hostile_command: list[str], tcp_listener: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = await _confined("landlock", hostile_command, tcp_listener, tmp_path, monkeypatch)
    assert events[0].isolation_used == "landlock"


@needs_bwrap
async def test_limits_reach_the_server_clamped_to_the_gateways_own(hostile_command: list[str]) -> None:
    # More open files than this process may have: the server gets our ceiling, never an error.
    profile = SandboxProfile(max_open_files=1_000_000, memory_mb=768)
    async with (
        open_stdio(hostile_command, profile=profile) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        limits = json.loads((await call_json(session, "limits"))["detail"])
    assert limits["RLIMIT_NOFILE"] == min(1_000_000, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    assert limits["RLIMIT_AS"] == 768 * 1024 * 1024


@needs_bwrap
@pytest.mark.skipif(HOST.pids_cgroup is None, reason="no writable pids cgroup on this machine")
async def test_the_per_server_cgroup_is_removed_after_exit(hostile_command: list[str]) -> None:
    events: list[SpawnEvent] = []
    async with (
        open_stdio(hostile_command, profile=SandboxProfile(), on_event=events.append) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await call_json(session, "fork_many", count=5)  # children that were killed, not left running
        cgroup = anyio.Path(events[0].detail["cgroup"])
        assert (await (cgroup / "pids.max").read_text(encoding="ascii")).strip() == "64"
    assert not await cgroup.exists()
