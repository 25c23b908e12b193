"""A hostile stdio MCP server: each tool attempts one escape from its sandbox, on command.

Every tool returns JSON ``{"ok": bool, "detail": str}``: ``ok`` is true when the attack
worked. The server survives every attempt, so the tests can check it keeps answering.
Run as ``python hostile_server.py`` (stdio transport).
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import resource
import signal
import socket
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer

server = MCPServer("hostile")

_PTRACE_ATTACH = 16
_PTRACE_DETACH = 17
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWNET = 0x40000000


def _result(ok: bool, detail: str) -> str:
    return json.dumps({"ok": ok, "detail": detail})


@server.tool()
def alive() -> str:
    """Answer, to show the server still works after an attempt."""
    return _result(True, f"pid {os.getpid()}")


@server.tool()
def read_ssh_key() -> str:
    """Read ~/.ssh/id_rsa of whatever HOME the process has."""
    try:
        text = Path("~/.ssh/id_rsa").expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        return _result(False, type(exc).__name__)
    return _result(True, text)


@server.tool()
def read_env(name: str) -> str:
    """Read one environment variable."""
    value = os.environ.get(name)
    return _result(value is not None, value or "")


@server.tool()
def connect_tcp(port: int) -> str:
    """Connect to 127.0.0.1:port and read the greeting."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
            return _result(True, conn.recv(64).decode("ascii", "replace"))
    except OSError as exc:
        return _result(False, type(exc).__name__)


@server.tool()
def proxy_connect(host: str, port: int) -> str:
    """Ask the proxy named by HTTPS_PROXY for a tunnel to host:port and read the greeting."""
    proxy = os.environ.get("HTTPS_PROXY", "")
    if not proxy.startswith("http://"):
        return _result(False, "no HTTPS_PROXY")
    proxy_host, _, proxy_port = proxy.removeprefix("http://").rstrip("/").rpartition(":")
    try:
        with socket.create_connection((proxy_host, int(proxy_port)), timeout=5) as conn:
            conn.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
            status, _, rest = answer.partition(b"\r\n\r\n")
            if not status.startswith(b"HTTP/1.1 200"):
                return _result(False, status.split(b"\r\n")[0].decode("ascii", "replace"))
            greeting = rest or conn.recv(64)
            return _result(True, greeting.decode("ascii", "replace"))
    except OSError as exc:
        return _result(False, type(exc).__name__)


@server.tool()
def write_file(path: str) -> str:
    """Write a file at an absolute path."""
    try:
        Path(path).write_text("pwned\n", encoding="utf-8")
    except OSError as exc:
        return _result(False, type(exc).__name__)
    return _result(True, path)


@server.tool()
def fork_many(count: int) -> str:
    """Fork up to ``count`` sleeping children (bounded by the caller), then kill them all."""
    children: list[int] = []
    error = ""
    for _ in range(count):
        try:
            pid = os.fork()
        except OSError as exc:
            error = type(exc).__name__
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return _result(len(children) == count, f"{len(children)} {error}")


@server.tool()
def allocate(megabytes: int) -> str:
    """Map ``megabytes`` of anonymous memory (not touched, so the test machine stays fine)."""
    try:
        region = mmap.mmap(-1, megabytes * 1024 * 1024)
    except (OSError, MemoryError, OverflowError) as exc:
        return _result(False, type(exc).__name__)
    region.close()
    return _result(True, f"{megabytes} MB")


@server.tool()
def ptrace_child() -> str:
    """Fork a child and try to PTRACE_ATTACH to it."""
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        if libc.ptrace(_PTRACE_ATTACH, pid, None, None) != 0:
            return _result(False, os.strerror(ctypes.get_errno()))
        os.waitpid(pid, os.WUNTRACED)
        libc.ptrace(_PTRACE_DETACH, pid, None, None)
        return _result(True, f"attached to {pid}")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@server.tool()
def unshare_ns() -> str:
    """In a forked child, try to enter new network and UTS namespaces (unshare)."""
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        failed = libc.unshare(_CLONE_NEWNET | _CLONE_NEWUTS) != 0
        os._exit(ctypes.get_errno() if failed else 0)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return _result(code == 0, "entered new namespaces" if code == 0 else os.strerror(code))


@server.tool()
def confinement() -> str:
    """Report this process's no_new_privs, seccomp mode and uid (from /proc/self/status)."""
    fields = ("NoNewPrivs", "Seccomp", "Uid")
    lines = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    found = {line.split(":")[0]: line.split(":")[1].split()[0] for line in lines if line.startswith(fields)}
    return _result(True, json.dumps(found, sort_keys=True))


@server.tool()
def limits() -> str:
    """Report this process's hard limits on open files and address space."""
    found = {name: resource.getrlimit(getattr(resource, name))[1] for name in ("RLIMIT_NOFILE", "RLIMIT_AS")}
    return _result(True, json.dumps(found))


@server.tool()
def crash(code: int) -> str:
    """Exit at once with ``code`` (a crash, for the supervisor tests)."""
    os._exit(code)


@server.tool()
def freeze() -> str:
    """Stop this process (SIGSTOP): it stays alive but answers nothing, health checks fail."""
    os.kill(os.getpid(), signal.SIGSTOP)
    return _result(True, "resumed")


if __name__ == "__main__":
    server.run("stdio")
