"""Keep a sandboxed server available: health checks, restart with backoff after a crash.

``Supervisor.run(serve)`` starts the server and calls ``serve(read, write)`` with the SDK's
stream pair. If the process dies or stops answering health pings while ``serve`` is
running, that is a crash: ``serve`` is cancelled, a ``crash`` event is emitted, and after
an exponential backoff the server is restarted (``restart`` event) and ``serve`` called
again with fresh streams. After ``max_restarts`` restarts the next crash raises
``UpstreamError``. When ``serve`` returns, the server is stopped and ``run`` returns.

The health check is a JSON-RPC ``ping`` the supervisor itself sends with an id in its own
namespace (``bastion-health-N``); its answer (result or error: either proves the server
is alive and reading) is taken out of the stream before ``serve`` sees it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Sequence

import anyio
import mcp_types
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.errors import UpstreamError
from mcp_bastion.sandbox.events import EventKind, EventSink, SpawnEvent
from mcp_bastion.sandbox.host import HostCapabilities
from mcp_bastion.sandbox.process import ReadStream, Running, WriteStream, spawn

__all__ = ["HEALTH_ID_PREFIX", "Serve", "Supervisor"]

log = structlog.get_logger("mcp_bastion.sandbox")

HEALTH_ID_PREFIX = "bastion-health-"
Serve = Callable[[ReadStream, WriteStream], Awaitable[None]]


class _CrashError(Exception):
    """The server died or failed its health check while being served."""


class Supervisor:
    """Run one stdio server under a profile, restarting it after crashes (see module doc)."""

    def __init__(
        self,
        command: Sequence[str],
        profile: SandboxProfile,
        *,
        cwd: str | None = None,
        on_event: EventSink | None = None,
        host: HostCapabilities | None = None,
    ) -> None:
        self.command = tuple(command)
        self.profile = profile
        self.cwd = cwd
        self.on_event = on_event
        self.host = host
        self.restarts = 0
        self._ping_ids = itertools.count(1)

    def _emit(self, running: Running, kind: EventKind, returncode: int | None) -> None:
        if self.on_event is None:
            return
        plan = running.plan
        self.on_event(
            SpawnEvent(
                kind=kind,
                command=plan.command,
                resolved_executable=plan.resolved_executable,
                sha256=running.sha256,
                profile=self.profile.model_dump(mode="json"),
                pid=running.process.pid,
                isolation_used=plan.isolation,
                time=time.time(),
                returncode=returncode,
                attempt=self.restarts,
            )
        )

    def backoff(self, restart: int) -> float:
        """Seconds to wait before restart number ``restart`` (1-based): doubling, capped."""
        policy = self.profile.restart
        return float(min(policy.backoff_initial_s * 2 ** (restart - 1), policy.backoff_max_s))

    async def run(self, serve: Serve) -> None:
        """Serve until ``serve`` returns; restart after crashes; ``UpstreamError`` past the limit."""
        while True:
            crashed_with = await self._incarnation(serve)
            if crashed_with is None:
                return
            running, returncode = crashed_with
            self._emit(running, "crash", returncode)
            log.warning(
                "sandbox.crash", pid=running.process.pid, returncode=returncode, restarts=self.restarts
            )
            if self.restarts >= self.profile.restart.max_restarts:
                raise UpstreamError(f"server crashed after {self.restarts} restarts; giving up")
            self.restarts += 1
            await anyio.sleep(self.backoff(self.restarts))
            self._emit(running, "restart", None)

    async def _incarnation(self, serve: Serve) -> tuple[Running, int | None] | None:
        """One process lifetime: None when ``serve`` finished, else (running, returncode)."""
        async with spawn(
            self.command,
            profile=self.profile,
            cwd=self.cwd,
            on_event=self.on_event,
            host=self.host,
            attempt=self.restarts,
        ) as running:
            to_serve, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
            write, from_serve = anyio.create_memory_object_stream[SessionMessage](0)
            answered: dict[str, anyio.Event] = {}
            crashed = False
            eof = anyio.Event()
            ready = anyio.Event()
            try:
                async with anyio.create_task_group() as tg:

                    async def served() -> None:
                        async with read, write:
                            await serve(read, write)
                        if eof.is_set():
                            raise _CrashError  # serve returned because the server went away
                        tg.cancel_scope.cancel()

                    async def died() -> None:
                        await running.exited.wait()
                        raise _CrashError

                    tg.start_soon(self._relay_in, running.read, to_serve, answered, eof, ready)
                    tg.start_soon(self._relay_out, from_serve, running.write)
                    tg.start_soon(self._health, running.write, answered, ready)
                    tg.start_soon(died)
                    tg.start_soon(served)
            except* _CrashError:
                crashed = True
            except* Exception:
                # serve failed: if the process died under it, that is a crash; otherwise re-raise.
                if running.process.returncode is None and not eof.is_set():
                    raise
                crashed = True
            if not crashed:
                return None
            return running, running.process.returncode

    async def _relay_in(
        self,
        source: ReadStream,
        sink: MemoryObjectSendStream[SessionMessage | Exception],
        answered: dict[str, anyio.Event],
        eof: anyio.Event,
        ready: anyio.Event,
    ) -> None:
        async with sink:
            async for item in source:
                ready.set()
                if isinstance(item, SessionMessage):
                    message = item.message
                    if (
                        isinstance(message, mcp_types.JSONRPCResponse | mcp_types.JSONRPCError)
                        and isinstance(message.id, str)
                        and message.id in answered
                    ):
                        answered[message.id].set()
                        continue
                await sink.send(item)
            eof.set()

    @staticmethod
    async def _relay_out(source: MemoryObjectReceiveStream[SessionMessage], sink: WriteStream) -> None:
        async with source:
            async for item in source:
                await sink.send(item)

    async def _health(self, sink: WriteStream, answered: dict[str, anyio.Event], ready: anyio.Event) -> None:
        policy = self.profile.restart
        # Start-up (interpreter, imports) is not a health failure: ping once the server has spoken.
        await ready.wait()
        while True:
            await anyio.sleep(policy.health_interval_s)
            ping_id = f"{HEALTH_ID_PREFIX}{next(self._ping_ids)}"
            answered[ping_id] = anyio.Event()
            ping = mcp_types.JSONRPCRequest(jsonrpc="2.0", id=ping_id, method="ping")
            with anyio.move_on_after(policy.health_timeout_s):
                await sink.send(SessionMessage(ping))
                await answered[ping_id].wait()
            if not answered.pop(ping_id).is_set():
                log.warning("sandbox.health_failed", timeout_s=policy.health_timeout_s)
                raise _CrashError
