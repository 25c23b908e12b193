"""Egress forwarder, first process of a bubblewrap sandbox with ``network: egress``.

Run as ``python -I -S _forward.py SOCKET PORT -- PROGRAM ARGS...``. It listens on the
sandbox's own ``127.0.0.1:PORT`` (the sandbox has a private network namespace with only
loopback), forks and execs PROGRAM in the child, and relays every connection accepted on
that port to the Unix socket SOCKET: the gateway's egress proxy, bind-mounted in. It
connects nowhere else, so it adds no way out; the proxy decides what is reachable. When
PROGRAM exits, the forwarder exits with its status (which ends bwrap and the sandbox).

Standard library only, run by path like ``_launch.py``. Non-blocking sockets with
per-direction buffers (bounded), so one slow peer cannot stall the others.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys

_BUFFER = 1 << 18  # per direction: stop reading a side whose peer has this much unsent
_CHUNK = 65536
_BACKLOG = 64
_POLL_MS = 1000


class _Side:
    """One socket of a relayed pair: what it still has to send, whether its input ended."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()
        self.eof = False  # this side sent EOF (nothing more to read from it)
        self.shut = False  # we shut down writing towards it
        self.peer: _Side = self


def _pair(client: socket.socket, path: str) -> tuple[_Side, _Side] | None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        upstream.close()
        client.close()
        return None
    client.setblocking(False)
    upstream.setblocking(False)
    a, b = _Side(client), _Side(upstream)
    a.peer, b.peer = b, a
    return a, b


def _step(side: _Side, events: int) -> bool:
    """Move data for ``side``; False when the pair is finished or broken."""
    try:
        if events & (select.POLLIN | select.POLLHUP | select.POLLERR) and not side.eof:
            data = side.sock.recv(_CHUNK)
            if data:
                side.peer.out += data
            else:
                side.eof = True
        if side.out and events & select.POLLOUT:
            sent = side.sock.send(side.out)
            del side.out[:sent]
    except BlockingIOError:
        return True
    except OSError:
        return False
    for end in (side, side.peer):
        if end.peer.eof and not end.out and not end.shut:
            with contextlib.suppress(OSError):
                end.sock.shutdown(socket.SHUT_WR)
            end.shut = True
    return not (side.shut and side.peer.shut)


def _close(side: _Side, sides: dict[int, _Side]) -> None:
    for end in (side, side.peer):
        sides.pop(end.sock.fileno(), None)
        end.sock.close()


def _relay(listener: socket.socket, path: str, child: int, wake: int) -> int:
    sides: dict[int, _Side] = {}
    while True:
        poller = select.poll()
        poller.register(listener, select.POLLIN)
        poller.register(wake, select.POLLIN)
        for fd, side in sides.items():
            mask = 0 if side.eof or len(side.peer.out) >= _BUFFER else select.POLLIN
            poller.register(fd, mask | (select.POLLOUT if side.out else 0))
        for fd, events in poller.poll(_POLL_MS):
            if fd == wake:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake, 512)
            elif fd == listener.fileno():
                with contextlib.suppress(BlockingIOError, InterruptedError):
                    client, _ = listener.accept()
                    pair = _pair(client, path)
                    if pair is not None:
                        for new in pair:
                            sides[new.sock.fileno()] = new
            elif (ready := sides.get(fd)) is not None and not _step(ready, events):
                _close(ready, sides)
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)


def main(argv: list[str]) -> None:
    """Listen, start ``argv[4:]``, relay until it exits; exit with its status (126 on setup failure)."""
    try:
        if len(argv) < 5 or argv[3] != "--":
            raise ValueError("usage: _forward.py SOCKET PORT -- PROGRAM [ARGS...]")
        path, port = argv[1], int(argv[2])
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(_BACKLOG)
        listener.setblocking(False)
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"bastion-sandbox: egress forwarder failed: {exc}\n")
        sys.stderr.flush()
        os._exit(126)
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        try:
            os.execv(argv[4], argv[4:])  # noqa: S606 - argv built by plan.py, never a shell
        except OSError as exc:
            sys.stderr.write(f"bastion-sandbox: exec failed: {exc}\n")
            sys.stderr.flush()
        os._exit(127)
    # The server owns stdin and stdout: hold neither, so its exit ends the pipes at once.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    code = _relay(listener, path, child, wake_read)
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv)
