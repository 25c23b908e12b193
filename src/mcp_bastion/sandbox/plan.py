"""Turn a command and a ``SandboxProfile`` into the exact launch plan (pure: nothing starts).

Bubblewrap mode runs ``bwrap --unshare-user --uid 65534 ... --seccomp FD --info-fd FD
--userns-block-fd FD -- CMD`` directly. bwrap stops its sandbox child before anything of
CMD runs; the parent (``_handshake``) then writes the user-namespace maps, joins the
child to the per-server pids cgroup, sets its resource limits (``prlimit``) and lets it
go. Landlock mode runs a small launcher stage, ``python -I -S _launch.py SPEC -- CMD``,
which limits and restricts itself (Landlock, seccomp) and execs CMD. ``none`` runs CMD
directly. Every mode gets only the allow-listed environment.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.errors import IsolationUnavailableError, SpawnError
from mcp_bastion.sandbox._paths import ETC_FILES, ROOT_LINKS, interpreter_paths, script_of, tool_cache_paths
from mcp_bastion.sandbox._seccomp import UnsupportedArchitectureError, seccomp_program
from mcp_bastion.sandbox.host import HostCapabilities

__all__ = ["SANDBOX_UID", "SANDBOX_WORKDIR", "Isolation", "LaunchPlan", "build_command"]

Isolation = Literal["bubblewrap", "landlock", "none"]

LAUNCHER = str(Path(__file__).with_name("_launch.py"))
SANDBOX_UID = 65534  # "nobody" inside the user namespace: no capabilities, no ownership
SANDBOX_WORKDIR = "/tmp/work"  # noqa: S108 - the sandbox's private tmpfs, not the host's /tmp; inside the private /tmp when the profile names no workdir
FD_PREFIX = "@fd:"  # placeholder prefix in a bubblewrap plan's program, see LaunchPlan.argv
_PRIVATE_TMP = "/tmp"  # noqa: S108 - a fresh tmpfs inside the sandbox, never the host's /tmp
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


@dataclass(frozen=True)
class LaunchPlan:
    """Everything needed to start one sandboxed server; ``argv()`` is what gets executed."""

    isolation: Isolation
    command: tuple[str, ...]
    resolved_executable: str
    script: str | None
    program: tuple[str, ...]
    env: Mapping[str, str]
    rlimits: Mapping[str, tuple[int, int]]
    workdir: str | None
    cwd: str | None
    launcher_spec: Mapping[str, Any] = field(default_factory=dict)
    max_processes: int = 0
    seccomp: bytes = b""

    def argv(self, cgroup_procs: str | None = None, fds: Mapping[str, int] | None = None) -> list[str]:
        """The full argv.

        Bubblewrap: ``fds`` gives the descriptor numbers for ``seccomp``, ``info`` and
        ``block`` (placeholders in ``program``). Landlock: the launcher stage joins
        ``cgroup_procs`` when given. None: the program itself.
        """
        if self.isolation == "none":
            return list(self.program)
        if self.isolation == "bubblewrap":
            numbers = fds or {}
            return [
                str(numbers[arg[len(FD_PREFIX) :]]) if arg.startswith(FD_PREFIX) else arg
                for arg in self.program
            ]
        spec = dict(self.launcher_spec, cgroup_procs=cgroup_procs)
        compact = json.dumps(spec, separators=(",", ":"), sort_keys=True)
        return [sys.executable, "-I", "-S", LAUNCHER, compact, "--", *self.program]


def _choose(profile: SandboxProfile, host: HostCapabilities) -> Isolation:
    wanted = profile.isolation
    if wanted == "none":
        return "none"
    if wanted in {"auto", "bubblewrap"} and host.bwrap:
        return "bubblewrap"
    if wanted in {"auto", "landlock"} and host.landlock_abi >= 1:
        if profile.network == "none" and host.landlock_abi < 4:
            raise IsolationUnavailableError(
                f"Landlock ABI {host.landlock_abi} cannot deny TCP (needs 4); network 'none' is unenforceable"
            )
        return "landlock"
    raise IsolationUnavailableError(
        f"isolation {wanted!r} requested but not available here "
        f"(bwrap={'yes' if host.bwrap else 'no'}, landlock ABI={host.landlock_abi}); "
        "install bubblewrap or set isolation: none explicitly"
    )


def _environment(profile: SandboxProfile, environ: Mapping[str, str], home: str, tmp: str) -> dict[str, str]:
    env = {name: environ[name] for name in profile.env_allow if name in environ}
    env.setdefault("PATH", _DEFAULT_PATH)
    env.setdefault("HOME", home)
    env.setdefault("TMPDIR", tmp)
    env.update(profile.env)
    return env


def _outermost(paths: Sequence[str]) -> list[str]:
    """Drop paths inside another listed path (one bind covers them; nesting breaks bwrap)."""
    kept: list[str] = []
    for path in sorted({os.path.normpath(p) for p in paths}):
        if not any(path == top or path.startswith(top.rstrip("/") + "/") for top in kept):
            kept.append(path)
    return kept


def _rlimits(profile: SandboxProfile) -> dict[str, tuple[int, int]]:
    memory = profile.memory_mb * 1024 * 1024
    return {
        "RLIMIT_CPU": (profile.cpu_seconds, profile.cpu_seconds + 5),  # SIGXCPU, then SIGKILL
        "RLIMIT_AS": (memory, memory),
        "RLIMIT_NOFILE": (profile.max_open_files, profile.max_open_files),
        # Counts per real uid and is ignored for uid 0; the pids cgroup is the real bound there.
        "RLIMIT_NPROC": (profile.max_processes, profile.max_processes),
        "RLIMIT_CORE": (0, 0),
    }


def _bwrap_args(
    bwrap: str,
    profile: SandboxProfile,
    *,
    read: Sequence[str],
    write: Sequence[str],
    workdir: str,
    bind_workdir: bool,
    chdir: str,
) -> list[str]:
    # No --disable-userns: bwrap refuses it with --userns-block-fd. Nested user namespaces
    # are refused by the seccomp program instead (unshare, clone flags, clone3).
    args = [bwrap, "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if profile.network == "none":
        args.append("--unshare-net")
    args += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    args += ["--ro-bind", "/usr", "/usr"]
    for link in ROOT_LINKS:
        if Path(link).is_symlink():
            args += ["--symlink", str(Path(link).readlink()), link]
        elif Path(link).is_dir():
            args += ["--ro-bind", link, link]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(profile.tmpfs_mb * 1024 * 1024), "--tmpfs", _PRIVATE_TMP]
    for path in read:
        args += ["--ro-bind", path, path]
    for path in write:
        args += ["--bind", path, path]
    if bind_workdir:
        args += ["--bind", workdir, workdir]
    else:
        args += ["--dir", workdir]
    # The root is bwrap's own tmpfs: read-only, so nothing is written outside declared paths.
    args += ["--remount-ro", "/", "--chdir", chdir]
    # Filled in at spawn time: the seccomp program, the info pipe, the go-ahead pipe.
    args += ["--seccomp", f"{FD_PREFIX}seccomp", "--info-fd", f"{FD_PREFIX}info"]
    args += ["--userns-block-fd", f"{FD_PREFIX}block", "--"]
    return args


def build_command(
    command: Sequence[str],
    profile: SandboxProfile,
    *,
    workdir: str | None = None,
    cwd: str | None = None,
    host: HostCapabilities | None = None,
    environ: Mapping[str, str] | None = None,
) -> LaunchPlan:
    """Plan the launch of ``command`` under ``profile``; nothing is started or written.

    ``workdir`` is the private work directory when the profile names none (bubblewrap
    mode defaults to a directory inside the private ``/tmp``; the other modes need one).
    Raises ``IsolationUnavailableError`` when the profile's isolation cannot be had and
    ``SpawnError`` when the executable cannot be found.
    """
    if not command:
        raise SpawnError("empty command")
    host = host if host is not None else HostCapabilities.probe()
    environ = os.environ if environ is None else environ
    isolation = _choose(profile, host)
    search_path = profile.env.get("PATH") or environ.get("PATH", _DEFAULT_PATH)
    executable = command[0] if "/" in command[0] else shutil.which(command[0], path=search_path)
    if executable is None or not os.access(executable, os.X_OK):
        raise SpawnError(f"executable not found: {command[0]}")
    executable = str(Path(executable).absolute())
    args = list(command[1:])
    found = script_of(executable, args)
    script = None
    if found is not None:
        # Absolute, since the server runs in its work directory, not the caller's.
        index, script = found
        args[index] = script
    work = profile.workdir or workdir
    if isolation != "bubblewrap" and work is None:
        raise SpawnError(f"isolation {isolation!r} needs a work directory")
    rlimits = _rlimits(profile)
    program: tuple[str, ...] = (executable, *args)

    def plan(  # noqa: PLR0917 - a local constructor helper, called four times
        isolation: Isolation,
        program: tuple[str, ...],
        env: dict[str, str],
        cwd: str | None,
        spec: dict[str, Any] | None = None,
        seccomp: bytes = b"",
    ) -> LaunchPlan:
        return LaunchPlan(
            isolation=isolation,
            command=tuple(command),
            resolved_executable=executable,
            script=script,
            program=program,
            env=env,
            rlimits=rlimits,
            workdir=work,
            cwd=cwd,
            launcher_spec=spec or {},
            max_processes=profile.max_processes,
            seccomp=seccomp,
        )

    if isolation == "none":
        assert work is not None
        return plan("none", program, _environment(profile, environ, work, work), cwd or work)
    try:
        seccomp = seccomp_program()
    except UnsupportedArchitectureError as exc:
        raise IsolationUnavailableError(str(exc)) from exc
    read = interpreter_paths(executable) + tool_cache_paths(executable, environ) + list(profile.read_paths)
    if script is not None:
        read.append(script)
    read = _outermost(read)
    write = _outermost(profile.write_paths)
    spec: dict[str, Any] = {"rlimits": rlimits, "seccomp_hex": seccomp.hex()}
    if isolation == "bubblewrap":
        assert host.bwrap is not None
        inner_work = work or SANDBOX_WORKDIR
        env = _environment(profile, environ, inner_work, _PRIVATE_TMP)
        prefix = _bwrap_args(
            host.bwrap,
            profile,
            read=read,
            write=write,
            workdir=inner_work,
            bind_workdir=work is not None,
            chdir=cwd or inner_work,
        )
        return plan("bubblewrap", (*prefix, *program), env, None, seccomp=seccomp)
    assert work is not None
    env = _environment(profile, environ, work, work)
    system = ["/usr", *ROOT_LINKS, *ETC_FILES, "/proc"]
    spec["seccomp_mode"] = "self"
    spec["landlock"] = {
        "read": [*system, *read],
        "write": [*_DEVICES, work, *write],
        "deny_tcp": profile.network == "none",
    }
    return plan("landlock", program, env, cwd or work, spec)
