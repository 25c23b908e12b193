"""Launcher stage: apply limits and confinement to itself, then exec the next program.

Landlock mode only. Run as ``python -I -S _launch.py SPEC_JSON -- PROGRAM ARGS...``. It uses
the standard library only (it is run by path, not imported from the package, so that it
needs nothing but the interpreter) and it never returns: it ``execv``s ``PROGRAM`` with
the environment it was given, which the parent has already reduced to the allow-list.

In order: join the per-server cgroup (process limit), set the resource limits, set
``no_new_privs``, restrict itself with Landlock, install the seccomp program. Any failure
exits with status 126 and one line on stderr: fail closed. (Bubblewrap mode needs no
launcher: the parent applies limits to bwrap's stopped child, see ``_handshake``.)
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

_SYS_LANDLOCK_CREATE_RULESET = 444  # same number on every architecture (generic table)
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_RULE_PATH_BENEATH = 1
_LANDLOCK_RULE_NET_PORT = 2
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

# Landlock file-system rights by ABI version (linux/landlock.h).
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ABI1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2

_libc = ctypes.CDLL(None, use_errno=True)


class _LaunchError(Exception):
    pass


def _check(result: int, what: str) -> int:
    if result < 0:
        raise _LaunchError(f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


def _handled_fs(abi: int) -> int:
    rights = _FS_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def _landlock(spec: dict[str, Any]) -> None:
    abi = _check(_libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, 1), "landlock ABI")
    handled = _handled_fs(abi)
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if spec["deny_tcp"] and abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
    attr = (ctypes.c_uint64 * 3)(handled, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(
        _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock ruleset",
    )
    read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
    for paths, rights in ((spec["read"], read), (spec["write"], handled)):
        for path in paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # optional system paths differ between distributions
            allowed = rights & handled
            if not Path(path).is_dir():
                allowed &= _FILE_ONLY
            # struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
            rule = ctypes.create_string_buffer(allowed.to_bytes(8, "little") + fd.to_bytes(4, "little"), 12)
            _check(
                _libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, rule, 0),
                "landlock rule",
            )
            os.close(fd)
    for port in spec.get("connect_ports", []):
        if not net:
            raise _LaunchError("TCP connect rules need Landlock ABI 4")
        # struct landlock_net_port_attr is packed: u64 allowed_access, u64 port.
        rule = ctypes.create_string_buffer(
            _NET_CONNECT_TCP.to_bytes(8, "little") + int(port).to_bytes(8, "little"), 16
        )
        _check(
            _libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_NET_PORT, rule, 0),
            "landlock port rule",
        )
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock restrict")
    os.close(ruleset)


def _seccomp_self(program: bytes) -> None:
    buf = ctypes.create_string_buffer(program, len(program))

    class _Fprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    fprog = _Fprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def _apply(spec: dict[str, Any]) -> None:
    if spec.get("cgroup_procs"):
        Path(spec["cgroup_procs"]).write_text(str(os.getpid()), encoding="ascii")
    for name, (soft, hard) in spec["rlimits"].items():
        which = getattr(resource, name)
        ceiling = resource.getrlimit(which)[1]  # never above ours: the safe direction
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)  # noqa: PLW2901 - clamped copy
        resource.setrlimit(which, (soft, hard))
    program = bytes.fromhex(spec["seccomp_hex"]) if spec.get("seccomp_hex") else b""
    if spec.get("landlock") is not None:
        _landlock(spec["landlock"])
    if spec.get("seccomp_mode") == "self":
        _seccomp_self(program)


def main(argv: list[str]) -> None:
    """Apply the spec in ``argv[1]`` and exec ``argv[3:]``; exit 126 on any failure."""
    try:
        if len(argv) < 4 or argv[2] != "--":
            raise _LaunchError("usage: _launch.py SPEC -- PROGRAM [ARGS...]")
        _apply(json.loads(argv[1]))
        os.execv(argv[3], argv[3:])  # noqa: S606 - argv built by plan.py, never a shell
    except (OSError, ValueError, KeyError, _LaunchError) as exc:
        sys.stderr.write(f"bastion-sandbox: launch failed: {exc}\n")
        sys.stderr.flush()
        os._exit(126)


if __name__ == "__main__":
    main(sys.argv)
