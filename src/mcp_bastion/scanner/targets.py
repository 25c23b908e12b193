"""Scan targets: ``stdio:<command line>``, http(s) URLs, and MCP client configuration files.

Shared with ``bastion call``: :func:`parse_target` is the one parser of a TARGET argument.
Client configuration files (Claude Desktop, Cursor, Windsurf: ``mcpServers``; VS Code:
``servers`` or ``mcp.servers``) yield one target per server; :func:`discover_configs`
lists the files that exist in their usual places.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.sandbox import SandboxedStdio

__all__ = [
    "Target",
    "TargetError",
    "connect",
    "discover_configs",
    "load_client_config",
    "parse_target",
    "resolve_targets",
]


class TargetError(ValueError):
    """A TARGET argument or configuration entry that cannot be used."""


@dataclass(frozen=True, slots=True)
class Target:
    """One MCP server to talk to: a sandboxed command line or an HTTP endpoint.

    ``env`` holds variables a client configuration gives the server (often credentials): they
    reach the sandboxed process only and are never shown (``display`` omits them).
    """

    name: str
    kind: Literal["stdio", "http"]
    argv: tuple[str, ...] = ()
    url: str = ""
    token: str | None = field(default=None, repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def display(self) -> str:
        """The target as a user would type it (no token, no environment, no URL credentials)."""
        if self.kind == "stdio":
            return "stdio:" + shlex.join(self.argv)
        return self.url.split("?")[0]


_INTERPRETERS = re.compile(r"^(?:python[0-9.]*|node|npx|uvx|uv|deno|bun|sh|bash|env|pipx)$")


def _command_name(argv: Sequence[str]) -> str:
    """A short server name from a command line: the script or program, not the interpreter."""
    for arg in argv:
        stem = Path(arg).stem
        if not arg.startswith("-") and not _INTERPRETERS.match(Path(arg).name) and stem:
            return stem
    return Path(argv[0]).name or "server"


def parse_target(text: str, *, token: str | None = None, name: str | None = None) -> Target:
    """``stdio:<command line>`` or an ``http(s)://`` URL -> a :class:`Target`."""
    if text.startswith("stdio:"):
        argv = tuple(shlex.split(text.removeprefix("stdio:")))
        if not argv:
            raise TargetError("stdio: needs a command line, e.g. stdio:'bastion gridops serve'")
        return Target(name=name or _command_name(argv), kind="stdio", argv=argv)
    if text.startswith(("http://", "https://")):
        return Target(
            name=name or text.split("://", 1)[1].split("/", 1)[0], kind="http", url=text, token=token
        )
    raise TargetError(
        "TARGET must be an http(s):// URL, stdio:<command line>, or a client configuration file"
    )


def _entry(name: str, spec: Any) -> Target:
    if not isinstance(spec, Mapping):
        raise TargetError(f"server {name!r}: not an object")
    env = spec.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
        raise TargetError(f"server {name!r}: env must map names to strings")
    url = spec.get("url") or spec.get("serverUrl")
    if isinstance(url, str):
        headers = spec.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise TargetError(f"server {name!r}: headers must be an object")
        return replace(parse_target(url, name=name), headers={str(k): str(v) for k, v in headers.items()})
    command = spec.get("command")
    args = spec.get("args") or []
    if not isinstance(command, str) or not command or not isinstance(args, list):
        raise TargetError(f"server {name!r}: needs a command (and args as a list) or a url")
    argv = (*shlex.split(command), *(str(a) for a in args))
    return Target(name=name, kind="stdio", argv=argv, env={str(k): str(v) for k, v in env.items()})


def load_client_config(path: Path) -> list[Target]:
    """Every server of a Claude Desktop / Cursor / Windsurf / VS Code configuration file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TargetError(f"{path}: not a readable JSON file") from exc
    if not isinstance(doc, Mapping):
        raise TargetError(f"{path}: not a JSON object")
    servers = doc.get("mcpServers")
    if servers is None:
        servers = doc.get("servers")
    if servers is None and isinstance(doc.get("mcp"), Mapping):
        servers = doc["mcp"].get("servers")
    if not isinstance(servers, Mapping):
        raise TargetError(f"{path}: no mcpServers / servers / mcp.servers object")
    return [_entry(str(name), spec) for name, spec in servers.items()]


def discover_configs(home: Path | None = None, cwd: Path | None = None) -> list[Path]:
    """Client configuration files that exist in the usual places (user and project)."""
    home = home if home is not None else Path.home()
    cwd = cwd if cwd is not None else Path.cwd()
    candidates = [
        home / "Library/Application Support/Claude/claude_desktop_config.json",
        home / ".config/Claude/claude_desktop_config.json",
        home / "AppData/Roaming/Claude/claude_desktop_config.json",
        home / ".cursor/mcp.json",
        home / ".codeium/windsurf/mcp_config.json",
        home / ".config/Code/User/mcp.json",
        home / "Library/Application Support/Code/User/mcp.json",
        cwd / ".cursor/mcp.json",
        cwd / ".vscode/mcp.json",
        cwd / ".mcp.json",
    ]
    seen: list[Path] = []
    for path in candidates:
        if path.is_file() and path.resolve() not in {p.resolve() for p in seen}:
            seen.append(path)
    return seen


def resolve_targets(texts: Sequence[str], *, token: str | None = None) -> list[Target]:
    """TARGET arguments -> targets; a path to an existing file is read as a client configuration."""
    out: list[Target] = []
    for text in texts:
        if text.startswith(("stdio:", "http://", "https://")):
            out.append(parse_target(text, token=token))
        elif Path(text).is_file():
            out.extend(load_client_config(Path(text)))
        else:
            raise TargetError(f"{text!r} is not a URL, stdio:<command line>, or an existing config file")
    names: dict[str, int] = {}
    unique: list[Target] = []
    for t in out:  # two servers with one name would merge in the report: number them
        names[t.name] = names.get(t.name, 0) + 1
        unique.append(t if names[t.name] == 1 else replace(t, name=f"{t.name}#{names[t.name]}"))
    return unique


@asynccontextmanager
async def connect(
    target: Target,
    *,
    profile: SandboxProfile | None = None,
    cwd: str | None = None,
    timeout_s: float = 30.0,
) -> AsyncIterator[Client]:
    """An open ``mcp.Client`` to ``target``: stdio servers run sandboxed by ``profile``."""
    if target.kind == "stdio":
        base = profile if profile is not None else SandboxProfile()
        if target.env:
            base = base.model_copy(update={"env": {**base.env, **target.env}})
        transport = SandboxedStdio(target.argv, base, cwd=cwd if cwd is not None else str(Path.cwd()))
        async with Client(transport, read_timeout_seconds=timeout_s) as client:
            yield client
        return
    headers = dict(target.headers)
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(timeout_s, read=300.0)) as http,
        Client(
            streamable_http_client(target.url, http_client=http), read_timeout_seconds=timeout_s
        ) as client,
    ):
        yield client
