"""stdio for the downstream client of ``bastion wrap``: newline-delimited JSON-RPC.

Why not the SDK's ``stdio_server``: it reads unbounded lines and decodes invalid UTF-8
with replacement characters, so a wrapper could neither cap message size nor refuse
invalid UTF-8 as the limits require. This reader is bounded (``max_message_bytes``): an
overlong line is discarded up to its newline and answered with a JSON-RPC error; every
other line is checked (UTF-8, no batch) and parsed once by the SDK's types.

Requests are handled concurrently (bounded by ``max_concurrency``); replies are written
whole, one per line, under a lock. Nothing else may write to stdout: logs go to stderr.
Writes go through a non-blocking pipe writer: a client that is busy writing a large
message and not yet reading must not stall the wrapper's event loop (a blocking write on a
full pipe would stop it reading stdin too: a deadlock, found by the fuzzer). Where stdout
is a regular file (no pipe transport possible) it is written directly.

The gateway may send the client a request of its own (an upstream's elicitation or
sampling, relayed): ``ask`` writes it with a fresh id and waits (at most
``ask_timeout``) for the client's response, which is routed back here, not to the handler.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from typing import BinaryIO

import anyio
from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCRequest, JSONRPCResponse

from mcp_bastion.transports.downstream import Downstream, MessageHandler, PendingAsks
from mcp_bastion.transports.jsonrpc import (
    INVALID_REQUEST,
    MessageParseError,
    RawCheck,
    dump_message,
    error_response,
    framing_error,
    parse_message,
)

__all__ = ["StdioDownstream"]


class StdioDownstream:
    """Serve one stdio client until its stdin closes."""

    def __init__(
        self,
        handler: MessageHandler,
        downstream: Downstream,
        *,
        max_message_bytes: int = 1_048_576,
        max_concurrency: int = 64,
        raw_check: RawCheck = framing_error,
        ask_timeout: float = 600.0,
    ) -> None:
        self._raw_check = raw_check
        self._handler = handler
        self._downstream = replace(downstream, ask=self.ask)
        self._asks = PendingAsks(ask_timeout)
        self._max = max_message_bytes
        self._slots = anyio.Semaphore(max_concurrency)
        self._write_lock = anyio.Lock()
        self._out: BinaryIO = sys.stdout.buffer
        self._writer: asyncio.StreamWriter | None = None

    async def serve(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=self._max + 1)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin or sys.stdin.buffer)
        if stdout is not None:
            self._out = stdout
        try:
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, self._out)
            self._writer = asyncio.StreamWriter(transport, protocol, None, loop)
        except (ValueError, OSError):
            self._writer = None  # a regular file: writes never block for long
        async with anyio.create_task_group() as tg:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial.strip():
                        await self._dispatch(tg, exc.partial)
                    break
                except asyncio.LimitOverrunError:
                    await self._discard_overlong(reader)
                    await self.send(error_response(None, INVALID_REQUEST, "message too large"))
                    continue
                if line.strip():
                    await self._dispatch(tg, line)

    async def _discard_overlong(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                await reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return

    async def _dispatch(self, tg: anyio.abc.TaskGroup, line: bytes) -> None:
        framing = self._raw_check(line.rstrip(b"\r\n"))
        if framing is not None:
            await self.send(error_response(None, framing[0], framing[1]))
            return
        try:
            message = parse_message(line)
        except MessageParseError as exc:
            await self.send(error_response(None, exc.code, str(exc)))
            return
        if isinstance(message, JSONRPCResponse | JSONRPCError):
            self._asks.answer(message)
            return
        await self._slots.acquire()
        tg.start_soon(self._handle, message)

    async def _handle(self, message: JSONRPCMessage) -> None:
        try:
            reply = await self._handler(message, self._downstream)
            if reply is not None:
                await self.send(reply)
        finally:
            self._slots.release()

    async def ask(self, request: JSONRPCRequest) -> JSONRPCMessage:
        """Send ``request`` to the client under a fresh id; its answer (or a timeout error)."""
        return await self._asks.ask(request, self.send)

    async def send(self, message: JSONRPCMessage) -> None:
        data = dump_message(message) + b"\n"
        async with self._write_lock:
            if self._writer is not None:
                self._writer.write(data)
                await self._writer.drain()
                return
            self._out.write(data)
            self._out.flush()
