"""The launch plan (pure): what bubblewrap is told, which environment passes, refusals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.errors import IsolationUnavailableError, SpawnError
from mcp_bastion.sandbox import HostCapabilities, build_command, open_stdio
from mcp_bastion.sandbox._seccomp import UnsupportedArchitectureError, seccomp_program

FDS = {"seccomp": 7, "info": 8, "block": 9}
BWRAP_HOST = HostCapabilities(bwrap="/usr/bin/bwrap", landlock_abi=7)
LANDLOCK_HOST = HostCapabilities(bwrap=None, landlock_abi=7)
BARE_HOST = HostCapabilities(bwrap=None, landlock_abi=0)
SCRIPT = str(Path(__file__).with_name("hostile_server.py"))
ENVIRON = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "AWS_SECRET_ACCESS_KEY": "not-a-real-key",
    "BASTION_ADMIN_TOKEN": "not-a-real-token",
}


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_default_profile_plan_is_bubblewrap_with_every_namespace() -> None:
    plan = build_command([sys.executable, SCRIPT], SandboxProfile(), host=BWRAP_HOST, environ=ENVIRON)
    argv = plan.argv(fds=FDS)
    assert plan.isolation == "bubblewrap"
    assert argv[0] == "/usr/bin/bwrap"  # no interpreter stage in front of bubblewrap
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"):
        assert flag in argv
    for flag in ("--unshare-net", "--unshare-cgroup-try", "--die-with-parent", "--new-session"):
        assert flag in argv
    assert _pairs(argv, "--uid") == ["65534"]
    assert _pairs(argv, "--seccomp") == ["7"]
    assert _pairs(argv, "--info-fd") == ["8"]
    assert _pairs(argv, "--userns-block-fd") == ["9"]
    assert _pairs(argv, "--tmpfs") == ["/tmp"]
    assert _pairs(argv, "--remount-ro") == ["/"]
    assert plan.rlimits["RLIMIT_AS"] == (2048 * 1024 * 1024,) * 2
    assert plan.rlimits["RLIMIT_NOFILE"] == (256, 256)
    assert plan.seccomp == seccomp_program()
    # The program runs last, with the script made absolute.
    assert argv[-2:] == [sys.executable, SCRIPT]
    with pytest.raises(KeyError):
        plan.argv()  # a bubblewrap plan cannot run without its descriptors


def test_home_and_system_secrets_are_not_mounted() -> None:
    argv = build_command([sys.executable, SCRIPT], SandboxProfile(), host=BWRAP_HOST, environ=ENVIRON).argv(
        fds=FDS
    )
    mounted = _pairs(argv, "--ro-bind") + _pairs(argv, "--bind") + _pairs(argv, "--ro-bind-try")
    assert "/" not in mounted
    assert "/root" not in mounted
    assert "/etc" not in mounted
    assert "/etc/shadow" not in mounted
    assert not any(path.startswith("/root/.ssh") for path in mounted)
    # The interpreter's prefixes are visible, read-only; the script file alone, read-only.
    assert sys.prefix in _pairs(argv, "--ro-bind")
    assert SCRIPT in _pairs(argv, "--ro-bind")
    assert _pairs(argv, "--bind") == []


def test_only_allow_listed_environment_reaches_the_server() -> None:
    profile = SandboxProfile(env={"GRID_MODE": "demo"})
    plan = build_command([sys.executable, SCRIPT], profile, host=BWRAP_HOST, environ=ENVIRON)
    assert dict(plan.env) == {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/tmp/work",
        "TMPDIR": "/tmp",
        "GRID_MODE": "demo",
    }


def test_network_host_and_declared_paths() -> None:
    profile = SandboxProfile(network="host", read_paths=["/srv/data"], write_paths=["/var/lib/app/db"])
    argv = build_command([sys.executable, SCRIPT], profile, host=BWRAP_HOST, environ=ENVIRON).argv(fds=FDS)
    assert "--unshare-net" not in argv
    assert "/srv/data" in _pairs(argv, "--ro-bind")
    assert _pairs(argv, "--bind") == ["/var/lib/app/db"]


def test_landlock_plan_restricts_itself_and_denies_tcp() -> None:
    plan = build_command(
        [sys.executable, SCRIPT], SandboxProfile(), host=LANDLOCK_HOST, environ=ENVIRON, workdir="/var/tmp/w"
    )
    spec = json.loads(plan.argv("/sys/fs/cgroup/pids/x/cgroup.procs")[4])
    assert plan.isolation == "landlock"
    assert spec["seccomp_mode"] == "self"
    assert spec["cgroup_procs"] == "/sys/fs/cgroup/pids/x/cgroup.procs"
    assert spec["landlock"]["deny_tcp"] is True
    assert "/var/tmp/w" in spec["landlock"]["write"]
    assert "/root" not in spec["landlock"]["read"]
    assert plan.env["HOME"] == "/var/tmp/w"


@pytest.mark.parametrize(
    ("isolation", "host"),
    [
        ("auto", BARE_HOST),
        ("bubblewrap", LANDLOCK_HOST),
        ("landlock", BARE_HOST),
        ("landlock", HostCapabilities(bwrap=None, landlock_abi=3)),  # cannot deny TCP
    ],
)
def test_refuses_when_the_primitive_is_missing(isolation: str, host: HostCapabilities) -> None:
    profile = SandboxProfile.model_validate({"isolation": isolation})
    with pytest.raises(IsolationUnavailableError):
        build_command([sys.executable, SCRIPT], profile, host=host, environ=ENVIRON, workdir="/var/tmp/w")


def test_bwrap_lookup_at_a_missing_path_means_no_bubblewrap() -> None:
    host = HostCapabilities.probe("/nonexistent/bin/bwrap")
    assert host.bwrap is None
    profile = SandboxProfile(isolation="bubblewrap")
    with pytest.raises(IsolationUnavailableError):
        build_command([sys.executable, SCRIPT], profile, host=host, environ=ENVIRON)


@pytest.mark.anyio
async def test_open_stdio_refuses_without_a_primitive_and_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    with pytest.raises(IsolationUnavailableError):
        async with open_stdio(command, profile=SandboxProfile(), host=BARE_HOST):
            pytest.fail("the sandbox must not start")
    assert not marker.exists()


def test_isolation_none_is_explicit_and_still_filters_the_environment() -> None:
    plan = build_command(
        [sys.executable, SCRIPT],
        SandboxProfile(isolation="none"),
        host=BARE_HOST,
        environ=ENVIRON,
        workdir="/w",
    )
    assert plan.argv() == [sys.executable, SCRIPT]
    assert "AWS_SECRET_ACCESS_KEY" not in plan.env
    assert "BASTION_ADMIN_TOKEN" not in plan.env


def test_missing_executable_is_a_spawn_error() -> None:
    with pytest.raises(SpawnError):
        build_command(["no-such-server-binary"], SandboxProfile(), host=BWRAP_HOST, environ=ENVIRON)


def test_profile_rejects_relative_paths_and_bad_names() -> None:
    with pytest.raises(ValueError, match="absolute"):
        SandboxProfile(write_paths=["data/db.sqlite"])
    with pytest.raises(ValueError, match=r"\.\."):
        SandboxProfile(read_paths=["/srv/../root"])
    with pytest.raises(ValueError, match="environment variable"):
        SandboxProfile(env_allow=["BAD NAME"])
    with pytest.raises(ValueError, match="egress"):
        SandboxProfile.model_validate({"network": "egress"})  # no allow list: refused, not ignored
    with pytest.raises(ValueError, match="extra"):
        SandboxProfile.model_validate({"isolaton": "none"})


def test_seccomp_program_shape() -> None:
    program = seccomp_program("x86_64")
    assert len(program) % 8 == 0
    assert len(program) // 8 < 256
    assert seccomp_program("aarch64") != program
    with pytest.raises(UnsupportedArchitectureError):
        seccomp_program("sparc64")
