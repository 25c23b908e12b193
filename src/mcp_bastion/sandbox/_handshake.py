"""Start bubblewrap and confine its child before the child runs anything of the server.

bwrap is started with ``--info-fd`` (it reports its sandbox child's pid) and
``--userns-block-fd`` (the child waits, in its fresh namespaces, until we say go). In
that window we write the user-namespace maps (the one sandbox uid onto ours), move the
child into the per-server pids cgroup and set its resource limits with ``prlimit``; its
descendants, the server included, inherit both. Any failure kills bwrap: fail closed.
No interpreter stage runs, which keeps the added start-up to bwrap's own few milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
from collections.abc import Mapping

import anyio
from anyio.abc import Process

from mcp_bastion.errors import SpawnError
from mcp_bastion.sandbox.host import PidsCgroup
from mcp_bastion.sandbox.plan import SANDBOX_UID, LaunchPlan

__all__ = ["start_bwrap"]

_INFO_TIMEOUT_S = 10.0
_CHILD_PID = re.compile(rb'"child-pid":\s*(\d+)')


async def _read_info(fd: int) -> int:
    """Read bwrap's info JSON until it names the child pid (bwrap writes it in one go)."""
    data = b""
    with anyio.fail_after(_INFO_TIMEOUT_S):
        while (found := _CHILD_PID.search(data)) is None or not data.rstrip().endswith(b"}"):
            await anyio.wait_readable(fd)
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    if found is None:
        raise SpawnError("bubblewrap did not report its sandbox process")
    return int(found.group(1))


def _confine(child: int, rlimits: Mapping[str, tuple[int, int]], cgroup: PidsCgroup | None) -> None:
    proc = f"/proc/{child}"
    with open(f"{proc}/setgroups", "w", encoding="ascii") as handle:  # noqa: PTH123 - procfs control file
        handle.write("deny")
    with open(f"{proc}/uid_map", "w", encoding="ascii") as handle:  # noqa: PTH123 - procfs control file
        handle.write(f"{SANDBOX_UID} {os.geteuid()} 1\n")
    with open(f"{proc}/gid_map", "w", encoding="ascii") as handle:  # noqa: PTH123 - procfs control file
        handle.write(f"{SANDBOX_UID} {os.getegid()} 1\n")
    if cgroup is not None:
        with open(cgroup.procs, "w", encoding="ascii") as handle:  # noqa: PTH123 - cgroupfs control file
            handle.write(str(child))
    for name, (soft, hard) in rlimits.items():
        which = getattr(resource, name)
        # Never above our own hard limit: raising it needs CAP_SYS_RESOURCE, which a
        # container may lack; a lower limit than asked for is the safe direction.
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)  # noqa: PLW2901 - clamped copy
        resource.prlimit(child, which, (soft, hard))


async def start_bwrap(plan: LaunchPlan, cgroup: PidsCgroup | None) -> Process:
    """Start the plan's bwrap, confine its child, release it; return the bwrap process."""
    seccomp = os.memfd_create("bastion-seccomp", 0)
    info_read, info_write = os.pipe()
    block_read, block_write = os.pipe()
    child_ends: tuple[int, ...] = (seccomp, info_write, block_read)
    process: Process | None = None
    try:
        os.write(seccomp, plan.seccomp)
        os.lseek(seccomp, 0, os.SEEK_SET)
        argv = plan.argv(fds={"seccomp": seccomp, "info": info_write, "block": block_read})
        process = await anyio.open_process(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(plan.env),
            start_new_session=True,
            pass_fds=child_ends,
        )
        for fd in child_ends:
            os.close(fd)
        child_ends = ()
        child = await _read_info(info_read)
        _confine(child, plan.rlimits, cgroup)
        os.write(block_write, b"1")
    except (OSError, SpawnError, TimeoutError) as exc:
        if process is not None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            with anyio.CancelScope(shield=True):
                await process.wait()
        if isinstance(exc, SpawnError):
            raise
        raise SpawnError(f"could not start the bubblewrap sandbox: {exc}") from exc
    finally:
        for fd in (*child_ends, info_read, block_write):
            with contextlib.suppress(OSError):
                os.close(fd)
    return process
