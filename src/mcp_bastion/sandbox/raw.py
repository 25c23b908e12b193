"""Raw byte pipes to a sandboxed stdio server, for the fuzzer (no JSON parsing in between).

``open_raw_stdio`` starts the command exactly like :func:`mcp_bastion.sandbox.open_stdio`
(same launch plan, bubblewrap hand-shake, pids cgroup, stop sequence) but hands the caller
the process's byte streams: the fuzzer must write invalid UTF-8 and see every byte the
server answers. Output is still bounded: a line longer than ``max_output_bytes`` ends the
connection (fail closed), and stderr is drained so the server never blocks on it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import anyio
from anyio.abc import Process

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.sandbox.host import HostCapabilities, PidsCgroup
from mcp_bastion.sandbox.plan import build_command, choose_isolation
from mcp_bastion.sandbox.process import _start, _temp_workdir, close_transport, egress_proxy, stop_process

__all__ = ["RawStdio", "open_raw_stdio"]

_GRACE_S = 1.0


@dataclass
class RawStdio:
    """A running sandboxed server seen as bytes: write lines, read lines, watch the process."""

    process: Process
    limit: int
    _buffer: bytes = b""
    _eof: bool = False
    lines_read: int = field(default=0)

    @property
    def pid(self) -> int:
        """The pid of the started process (bwrap's, under bubblewrap)."""
        return self.process.pid

    @property
    def alive(self) -> bool:
        """True while the process has not exited and its stdout is open."""
        return self.process.returncode is None and not self._eof

    async def send(self, data: bytes) -> None:
        """Write ``data`` to stdin; raises ``anyio.BrokenResourceError`` when the server is gone."""
        assert self.process.stdin is not None
        try:
            await self.process.stdin.send(data)
        except (OSError, anyio.ClosedResourceError) as exc:
            raise anyio.BrokenResourceError from exc

    async def readline(self) -> bytes | None:
        """The next stdout line without its newline; None at end of stream or over the bound."""
        assert self.process.stdout is not None
        while (cut := self._buffer.find(b"\n")) < 0:
            if self._eof or len(self._buffer) > self.limit:
                self._eof = True
                return None
            try:
                self._buffer += await self.process.stdout.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                self._eof = True
                return None
        line, self._buffer = self._buffer[:cut], self._buffer[cut + 1 :]
        self.lines_read += 1
        return line


async def _drain(process: Process) -> None:
    assert process.stderr is not None
    with contextlib.suppress(
        anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError
    ):
        async for _chunk in process.stderr:
            pass  # the fuzzer provokes noise on purpose; it is not logged


@asynccontextmanager
async def open_raw_stdio(
    command: Sequence[str],
    *,
    profile: SandboxProfile,
    cwd: str | None = None,
    host: HostCapabilities | None = None,
) -> AsyncIterator[RawStdio]:
    """Start ``command`` sandboxed by ``profile``; yield its raw pipes; stop it on exit."""
    host = host if host is not None else HostCapabilities.probe()
    isolation = choose_isolation(profile, host)
    stack = AsyncExitStack()
    temp_dir = _temp_workdir(profile, host)
    cgroup: PidsCgroup | None = None
    try:
        endpoint = await stack.enter_async_context(egress_proxy(profile, isolation))
        plan = build_command(command, profile, workdir=temp_dir, cwd=cwd, host=host, egress=endpoint)
        if plan.isolation != "none" and host.pids_cgroup is not None:
            cgroup = PidsCgroup.create(host.pids_cgroup, profile.max_processes)
        process = await _start(plan, cgroup)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_drain, process)
            try:
                yield RawStdio(process, profile.max_output_bytes)
            finally:
                with anyio.CancelScope(shield=True):
                    await stop_process(process, stdin_grace_s=_GRACE_S)
                    close_transport(process)
                tg.cancel_scope.cancel()
    finally:
        if cgroup is not None:
            with anyio.CancelScope(shield=True):
                await cgroup.remove_when_empty()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        # Not under a shield scope: the proxy's task group must exit in its own scope.
        await stack.aclose()
