"""Turn a command and a ``SandboxProfile`` into the exact launch plan (pure: nothing starts).

Bubblewrap mode runs ``bwrap --unshare-user --uid 65534 ... --seccomp FD --info-fd FD
--userns-block-fd FD -- CMD`` directly. bwrap stops its sandbox child before anything of
CMD runs; the parent (``_handshake``) then writes the user-namespace maps, joins the
child to the per-server pids cgroup, sets its resource limits (``prlimit``) and lets it
go. Landlock mode runs a small launcher stage, ``python -I -S _launch.py SPEC -- CMD``,
which limits and restricts itself (Landlock, seccomp) and execs CMD. ``none`` runs CMD
directly. Every mode gets only the allow-listed environment.

``network: egress``: under bubblewrap the sandbox keeps its private network namespace; the
egress proxy's Unix socket is bind-mounted in and the program runs behind
``python -I -S _forward.py SOCKET PORT -- CMD``, which offers that socket on the sandbox's
own ``127.0.0.1:PORT``. Under Landlock, TCP ``connect`` is allowed to the proxy's
loopback port only. Either way the ``*_PROXY`` variables point the server at it.

Package runners (``uvx``, ``npx``): their cache is shown read-only. Under bubblewrap the
cache directory itself is a private tmpfs holding read-only binds of the cache's entries,
so the runner can take its lock files there; nothing reaches the host's cache.
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
from mcp_bastion.sandbox._paths import (
    ETC_FILES,
    ROOT_LINKS,
    interpreter_paths,
    runner_caches,
    script_of,
    tool_cache_paths,
)
from mcp_bastion.sandbox._seccomp import UnsupportedArchitectureError, seccomp_program
from mcp_bastion.sandbox.host import HostCapabilities

__all__ = [
    "EGRESS_PORT",
    "EGRESS_SOCKET",
    "SANDBOX_UID",
    "SANDBOX_WORKDIR",
    "EgressEndpoint",
    "Isolation",
    "LaunchPlan",
    "build_command",
    "choose_isolation",
]

Isolation = Literal["bubblewrap", "landlock", "none"]

LAUNCHER = str(Path(__file__).with_name("_launch.py"))
FORWARDER = str(Path(__file__).with_name("_forward.py"))
EGRESS_SOCKET = "/run/bastion/egress.sock"  # where the proxy's socket appears inside bubblewrap
EGRESS_PORT = 3128  # the forwarder's port on the sandbox's private loopback (its own netns)
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_LOCK_ENTRIES = (".lock", ".tmp")  # runner-cache entries not shown: the runner makes fresh ones
# Scratch directories a runner writes even on a fully cached run: top-level ones are left
# out (made fresh in the tmpfs), deeper ones get a tmpfs of their own when they exist.
_SCRATCH: dict[str, tuple[str, ...]] = {"npm_config_cache": ("_logs", "_cacache/tmp")}
SANDBOX_UID = 65534  # "nobody" inside the user namespace: no capabilities, no ownership
SANDBOX_WORKDIR = "/tmp/work"  # noqa: S108 - the sandbox's private tmpfs, not the host's /tmp; inside the private /tmp when the profile names no workdir
FD_PREFIX = "@fd:"  # placeholder prefix in a bubblewrap plan's program, see LaunchPlan.argv
_PRIVATE_TMP = "/tmp"  # noqa: S108 - a fresh tmpfs inside the sandbox, never the host's /tmp
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


@dataclass(frozen=True)
class EgressEndpoint:
    """Where the egress proxy of one server listens: a Unix socket (bubblewrap) or a loopback port."""

    unix_path: str | None = None
    tcp_port: int | None = None


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


def choose_isolation(profile: SandboxProfile, host: HostCapabilities) -> Isolation:
    """The isolation ``profile`` gets on ``host``; ``IsolationUnavailableError`` if none fits."""
    wanted = profile.isolation
    if wanted == "none":
        return "none"
    if wanted in {"auto", "bubblewrap"} and host.bwrap:
        return "bubblewrap"
    if wanted in {"auto", "landlock"} and host.landlock_abi >= 1:
        if profile.network != "host" and host.landlock_abi < 4:
            raise IsolationUnavailableError(
                f"Landlock ABI {host.landlock_abi} cannot restrict TCP (needs 4); "
                f"network {profile.network!r} is unenforceable"
            )
        return "landlock"
    raise IsolationUnavailableError(
        f"isolation {wanted!r} requested but not available here "
        f"(bwrap={'yes' if host.bwrap else 'no'}, landlock ABI={host.landlock_abi}); "
        "install bubblewrap or set isolation: none explicitly"
    )


def _environment(
    profile: SandboxProfile,
    environ: Mapping[str, str],
    home: str,
    tmp: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    env = {name: environ[name] for name in profile.env_allow if name in environ}
    env.setdefault("PATH", _DEFAULT_PATH)
    env.setdefault("HOME", home)
    env.setdefault("TMPDIR", tmp)
    env.update(extra or {})
    env.update(profile.env)
    return env


def _runner_env(executable: str, profile: SandboxProfile, environ: Mapping[str, str]) -> dict[str, str]:
    """Point uvx/npx at their (read-only) caches; offline unless the profile grants network."""
    env = dict(runner_caches(executable, {**environ, **profile.env}))
    env.update({var: path for path, var in tool_cache_paths(executable, environ).items() if var})
    name = Path(executable).name
    if profile.network == "none" and name in {"uvx", "uv"}:
        env["UV_OFFLINE"] = "1"
    if profile.network == "none" and name in {"npx", "npm"}:
        env["npm_config_offline"] = "true"
    if name in {"npx", "npm"}:
        env["npm_config_update_notifier"] = "false"
    return env


def _proxy_env(port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return dict.fromkeys(_PROXY_VARS, url)


def _cache_mounts(cache: str, scratch: Sequence[str], size: int) -> list[str]:
    """A private tmpfs at ``cache`` with the host cache's entries bound read-only inside."""
    args = ["--size", str(size), "--tmpfs", cache]
    for entry in sorted(Path(cache).iterdir()):
        # Symbolic links are not followed into the sandbox: they could point anywhere.
        if entry.name.startswith(_LOCK_ENTRIES) or entry.name in scratch or entry.is_symlink():
            continue
        args += ["--ro-bind", str(entry), str(entry)]
    for sub in scratch:
        path = Path(cache, sub)
        if "/" in sub and path.is_dir() and not path.is_symlink():
            args += ["--size", str(size), "--tmpfs", str(path)]
    return args


def _outermost(paths: Sequence[str]) -> list[str]:
    """Drop paths inside another listed path (one bind covers them; nesting breaks bwrap)."""
    kept: list[str] = []
    for path in sorted({os.path.normpath(p) for p in paths}):
        if not _inside(path, kept):
            kept.append(path)
    return kept


def _inside(path: str, tops: Sequence[str]) -> bool:
    return any(path == top or path.startswith(top.rstrip("/") + "/") for top in tops)


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
    caches: Mapping[str, Sequence[str]] | None = None,
    egress_socket: str | None = None,
) -> list[str]:
    # No --disable-userns: bwrap refuses it with --userns-block-fd. Nested user namespaces
    # are refused by the seccomp program instead (unshare, clone flags, clone3).
    args = [bwrap, "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if profile.network != "host":  # egress too: its only way out is the proxy's socket
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
    for cache, scratch in (caches or {}).items():
        args += _cache_mounts(cache, scratch, profile.tmpfs_mb * 1024 * 1024)
    if egress_socket is not None:
        args += ["--ro-bind", egress_socket, EGRESS_SOCKET]
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


def _resolve(
    command: Sequence[str], profile: SandboxProfile, environ: Mapping[str, str]
) -> tuple[str, list[str], str | None]:
    """The absolute executable, the arguments (script made absolute) and the script, if any."""
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
    return executable, args, script


def _check_egress(profile: SandboxProfile, isolation: Isolation, egress: EgressEndpoint | None) -> None:
    if profile.network != "egress":
        return
    if isolation == "bubblewrap" and (egress is None or egress.unix_path is None):
        raise SpawnError("network 'egress' under bubblewrap needs the proxy's Unix socket")
    if isolation == "landlock" and (egress is None or egress.tcp_port is None):
        raise SpawnError("network 'egress' under Landlock needs the proxy's loopback port")


def build_command(
    command: Sequence[str],
    profile: SandboxProfile,
    *,
    workdir: str | None = None,
    cwd: str | None = None,
    host: HostCapabilities | None = None,
    environ: Mapping[str, str] | None = None,
    egress: EgressEndpoint | None = None,
) -> LaunchPlan:
    """Plan the launch of ``command`` under ``profile``; nothing is started or written.

    ``workdir`` is the private work directory when the profile names none (bubblewrap
    mode defaults to a directory inside the private ``/tmp``; the other modes need one).
    ``egress`` is where the server's egress proxy listens (``network: egress`` only: a
    Unix socket under bubblewrap, a loopback port under Landlock). Raises
    ``IsolationUnavailableError`` when the profile's isolation cannot be had and
    ``SpawnError`` when the executable cannot be found or the proxy endpoint is missing.
    """
    if not command:
        raise SpawnError("empty command")
    host = host if host is not None else HostCapabilities.probe()
    environ = os.environ if environ is None else environ
    isolation = choose_isolation(profile, host)
    executable, args, script = _resolve(command, profile, environ)
    _check_egress(profile, isolation, egress)
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
    # A cache the profile names itself (profile.env) wins over the caller's.
    found_caches = runner_caches(executable, {**environ, **profile.env})
    caches = list(found_caches.values())
    extra_env = _runner_env(executable, profile, environ)
    read = (
        interpreter_paths(executable) + list(tool_cache_paths(executable, environ)) + list(profile.read_paths)
    )
    if script is not None:
        read.append(script)
    spec: dict[str, Any] = {"rlimits": rlimits, "seccomp_hex": seccomp.hex()}
    if isolation == "bubblewrap":
        assert host.bwrap is not None
        socket_path = egress.unix_path if egress is not None and profile.network == "egress" else None
        if socket_path is not None:
            read += [*interpreter_paths(sys.executable), FORWARDER]
            extra_env.update(_proxy_env(EGRESS_PORT))
            forward = (sys.executable, "-I", "-S", FORWARDER, EGRESS_SOCKET, str(EGRESS_PORT), "--")
            program = (*forward, *program)
        inner_work = work or SANDBOX_WORKDIR
        env = _environment(profile, environ, inner_work, _PRIVATE_TMP, extra_env)
        prefix = _bwrap_args(
            host.bwrap,
            profile,
            read=_outermost(read),
            write=_outermost(profile.write_paths),
            workdir=inner_work,
            bind_workdir=work is not None,
            chdir=cwd or inner_work,
            # A cache the profile makes writable (a first run that fills it) is bound as such.
            caches={
                path: _SCRATCH.get(var, ())
                for var, path in found_caches.items()
                if not _inside(path, profile.write_paths)
            },
            egress_socket=socket_path,
        )
        return plan("bubblewrap", (*prefix, *program), env, None, seccomp=seccomp)
    assert work is not None
    read = _outermost(read + caches)
    write = _outermost(profile.write_paths)
    connect_ports: list[int] = []
    if profile.network == "egress" and egress is not None and egress.tcp_port is not None:
        connect_ports.append(egress.tcp_port)
        extra_env.update(_proxy_env(egress.tcp_port))
    env = _environment(profile, environ, work, work, extra_env)
    system = ["/usr", *ROOT_LINKS, *ETC_FILES, "/proc"]
    spec["seccomp_mode"] = "self"
    spec["landlock"] = {
        "read": [*system, *read],
        "write": [*_DEVICES, work, *write],
        "deny_tcp": profile.network != "host",
        "connect_ports": connect_ports,
    }
    return plan("landlock", program, env, cwd or work, spec)
