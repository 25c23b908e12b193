"""Start one sandboxed stdio server and bridge its pipes to the SDK's message streams.

The stream pair is exactly what ``mcp.client.stdio.stdio_client`` yields, so a
``ClientSession`` or a message-level forwarder can use it. Unlike the SDK's transport it
bounds the size of one stdout message, captures stderr to the log with a byte bound,
starts nothing outside the sandbox plan, and emits audit events. With ``network: egress``
it runs the server's egress proxy for exactly the server's lifetime.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import mcp_types
import structlog
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.message import SessionMessage

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.errors import SpawnError
from mcp_bastion.sandbox._handshake import start_bwrap
from mcp_bastion.sandbox.egress import EgressDecision, EgressProxy
from mcp_bastion.sandbox.events import EventKind, EventSink, SpawnEvent, file_sha256
from mcp_bastion.sandbox.host import HostCapabilities, PidsCgroup
from mcp_bastion.sandbox.plan import EgressEndpoint, Isolation, LaunchPlan, build_command, choose_isolation

__all__ = ["MessageTooLargeError", "Running", "egress_proxy", "open_stdio", "spawn"]

log = structlog.get_logger("mcp_bastion.sandbox")

_STDIN_CLOSE_GRACE_S = 2.0
_KILL_GRACE_S = 1.0
_STDERR_LINE_CHARS = 2000
_POLL_S = 0.05
_STDERR_FLUSH_S = 0.5

ReadStream = MemoryObjectReceiveStream[SessionMessage | Exception]
WriteStream = MemoryObjectSendStream[SessionMessage]


class MessageTooLargeError(ValueError):
    """The server wrote a stdout message longer than the profile's ``max_output_bytes``."""


@dataclass
class Running:
    """A live sandboxed server: its streams, process, plan and the event it ends with."""

    read: ReadStream
    write: WriteStream
    process: Process
    plan: LaunchPlan
    sha256: str
    exited: anyio.Event = field(default_factory=anyio.Event)
    stderr_done: anyio.Event = field(default_factory=anyio.Event)


def _event(
    kind: EventKind, plan: LaunchPlan, profile: SandboxProfile, sha: str, **extra: object
) -> SpawnEvent:
    return SpawnEvent(
        kind=kind,
        command=plan.command,
        resolved_executable=plan.resolved_executable,
        sha256=sha,
        profile=profile.model_dump(mode="json"),
        isolation_used=plan.isolation,
        time=time.time(),
        **extra,  # type: ignore[arg-type]
    )


async def _pump_stdout(
    process: Process, sink: MemoryObjectSendStream[SessionMessage | Exception], limit: int
) -> None:
    assert process.stdout is not None
    buffer = b""
    async with sink:
        try:
            async for chunk in process.stdout:
                buffer += chunk
                while (cut := buffer.find(b"\n")) >= 0:
                    line, buffer = buffer[:cut], buffer[cut + 1 :]
                    if line.strip():
                        await sink.send(_parse(line))
                if len(buffer) > limit:
                    # Fail closed: an oversized message ends the connection.
                    await sink.send(MessageTooLargeError(f"server message exceeds {limit} bytes"))
                    return
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError):
            return


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


async def _pump_stdin(
    process: Process,
    source: MemoryObjectReceiveStream[SessionMessage],
    reader: MemoryObjectSendStream[SessionMessage | Exception],
) -> None:
    assert process.stdin is not None
    try:
        async with source:
            async for message in source:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                await process.stdin.send(data.encode())
    except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
        await reader.aclose()  # the server is gone: make the session see the end


async def _pump_stderr(process: Process, limit: int, pid: int, done: anyio.Event) -> None:
    """Log stderr line by line until ``limit`` bytes were seen; drain (unlogged) after that."""
    assert process.stderr is not None
    room = limit
    buffer = b""
    quiet = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)
    try:
        with contextlib.suppress(*quiet):
            async for chunk in process.stderr:
                if room <= 0:
                    continue  # keep draining so the server never blocks on a full pipe
                buffer += chunk[:room]
                room -= len(chunk)
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    log.info(
                        "sandbox.stderr", pid=pid, line=line.decode("utf-8", "replace")[:_STDERR_LINE_CHARS]
                    )
                if room <= 0:
                    log.warning("sandbox.stderr_truncated", pid=pid, limit_bytes=limit)
    finally:
        done.set()


async def _wait_exit(process: Process, grace_s: float) -> bool:
    """Poll ``returncode``: ``wait()`` also waits for pipe EOF, which a stray child can hold."""
    deadline = anyio.current_time() + grace_s
    while process.returncode is None:
        if anyio.current_time() >= deadline:
            return False
        await anyio.sleep(_POLL_S)
    return True


def _temp_workdir(profile: SandboxProfile, host: HostCapabilities) -> str | None:
    """A fresh host work directory, unless the profile names one or bwrap's tmpfs serves."""
    in_tmpfs = profile.isolation in {"auto", "bubblewrap"} and host.bwrap is not None
    if profile.workdir is not None or in_tmpfs:
        return None
    return tempfile.mkdtemp(prefix="bastion-work-")


def _egress_reporter(
    on_event: EventSink | None, started: list[Running], profile: SandboxProfile, attempt: int
) -> Callable[[EgressDecision], None]:
    """Turn the proxy's decisions into ``egress`` events of the running server."""

    def report(decision: EgressDecision) -> None:
        if on_event is None or not started:
            return  # nothing runs yet that could have asked
        running = started[0]
        detail = {
            "decision": "allowed" if decision.allowed else "refused",
            "reason": decision.reason,
            "host": decision.host,
            "port": decision.port,
            "address": decision.address,
        }
        pid = running.process.pid
        on_event(
            _event("egress", running.plan, profile, running.sha256, pid=pid, attempt=attempt, detail=detail)
        )

    return report


@asynccontextmanager
async def egress_proxy(
    profile: SandboxProfile, isolation: Isolation, report: Callable[[EgressDecision], None] | None = None
) -> AsyncIterator[EgressEndpoint | None]:
    """Run the egress proxy of one server (``network: egress``), else yield None.

    Bubblewrap: a Unix socket in a fresh 0700 directory (removed afterwards), to be
    bind-mounted into the sandbox. Landlock: a free port on ``127.0.0.1``.
    """
    if profile.network != "egress" or isolation == "none":
        yield None
        return
    assert profile.egress is not None
    proxy = EgressProxy(profile.egress, on_decision=report)
    if isolation == "landlock":
        async with proxy.serve_tcp() as port:
            yield EgressEndpoint(tcp_port=port)
        return
    directory = tempfile.mkdtemp(prefix="bastion-egress-")
    try:
        async with proxy.serve_unix(f"{directory}/proxy.sock") as path:
            yield EgressEndpoint(unix_path=path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _start(plan: LaunchPlan, cgroup: PidsCgroup | None) -> Process:
    try:
        if plan.isolation == "bubblewrap":
            return await start_bwrap(plan, cgroup)
        return await anyio.open_process(
            plan.argv(cgroup.procs if cgroup else None),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(plan.env),
            cwd=plan.cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise SpawnError(f"could not start {plan.resolved_executable}: {exc.strerror}") from exc


@asynccontextmanager
async def spawn(
    command: Sequence[str],
    *,
    profile: SandboxProfile,
    cwd: str | None = None,
    on_event: EventSink | None = None,
    host: HostCapabilities | None = None,
    attempt: int = 0,
) -> AsyncIterator[Running]:
    """Start ``command`` under ``profile``; yield the running server; stop it on exit."""
    host = host if host is not None else HostCapabilities.probe()
    started: list[Running] = []
    stack = AsyncExitStack()
    temp_dir = _temp_workdir(profile, host)
    cgroup: PidsCgroup | None = None
    try:
        reporter = _egress_reporter(on_event, started, profile, attempt)
        endpoint = await stack.enter_async_context(
            egress_proxy(profile, choose_isolation(profile, host), reporter)
        )
        plan = build_command(command, profile, workdir=temp_dir, cwd=cwd, host=host, egress=endpoint)
        if plan.isolation != "none" and host.pids_cgroup is not None:
            cgroup = PidsCgroup.create(host.pids_cgroup, profile.max_processes)
        sha = file_sha256(plan.script or plan.resolved_executable)
        process = await _start(plan, cgroup)
        read_writer, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
        running = Running(read=read, write=write, process=process, plan=plan, sha256=sha)
        started.append(running)
        if on_event is not None:
            detail = {"cgroup": str(cgroup.path)} if cgroup is not None else {}
            on_event(_event("spawn", plan, profile, sha, pid=process.pid, attempt=attempt, detail=detail))
        log.info(
            "sandbox.spawn", pid=process.pid, isolation=plan.isolation, executable=plan.resolved_executable
        )

        async def watch() -> None:
            # Polled, not awaited: wait() would also wait for a stray child's pipe ends.
            while process.returncode is None:  # noqa: ASYNC110 - no event exists to wait on
                await anyio.sleep(_POLL_S)
            running.exited.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(_pump_stdout, process, read_writer, profile.max_output_bytes)
            tg.start_soon(_pump_stdin, process, write_reader, read_writer)
            tg.start_soon(_pump_stderr, process, profile.max_output_bytes, process.pid, running.stderr_done)
            tg.start_soon(watch)
            try:
                yield running
            finally:
                with anyio.CancelScope(shield=True):
                    await _stop(process, running)
                    if on_event is not None:
                        code = process.returncode
                        on_event(
                            _event(
                                "exit", plan, profile, sha, pid=process.pid, returncode=code, attempt=attempt
                            )
                        )
                tg.cancel_scope.cancel()
    finally:
        if cgroup is not None:
            with anyio.CancelScope(shield=True):
                await cgroup.remove_when_empty()
        # Not under a shield scope: the proxy's task group must exit in its own scope.
        await stack.aclose()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


async def stop_process(process: Process, *, stdin_grace_s: float = _STDIN_CLOSE_GRACE_S) -> None:
    """Close stdin, give the process a grace period, then kill its whole process group."""
    assert process.stdin is not None
    with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await process.stdin.aclose()
    if not await _wait_exit(process, stdin_grace_s):
        await terminate_posix_process_tree(process, _KILL_GRACE_S)
        await _wait_exit(process, _KILL_GRACE_S)
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers that outlived the leader


def close_transport(process: Process) -> None:
    """Close the asyncio transport now, not at garbage collection after the loop is gone.

    The SDK's stdio client does the same; nothing public exposes it.
    """
    transport = getattr(getattr(process, "_process", None), "_transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        with contextlib.suppress(PermissionError):
            close()


async def _stop(process: Process, running: Running) -> None:
    """Stop the server, keeping its last stderr lines."""
    running.write.close()
    running.read.close()
    await stop_process(process)
    with anyio.move_on_after(_STDERR_FLUSH_S):
        await running.stderr_done.wait()  # the server's last words, while they are still there
    close_transport(process)


@asynccontextmanager
async def open_stdio(
    command: Sequence[str],
    *,
    profile: SandboxProfile,
    cwd: str | None = None,
    on_event: EventSink | None = None,
    host: HostCapabilities | None = None,
) -> AsyncIterator[tuple[ReadStream, WriteStream]]:
    """Start ``command`` sandboxed by ``profile`` and yield the SDK's (read, write) stream pair.

    The process is stopped when the block exits (stdin closed, grace period, then the
    process group killed). Raises ``IsolationUnavailableError`` or ``SpawnError``.
    """
    async with spawn(command, profile=profile, cwd=cwd, on_event=on_event, host=host) as running:
        yield running.read, running.write
