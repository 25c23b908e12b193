"""``bastion wrap --install PATH``: rewrite a desktop client's MCP config to wrap every server.

Formats: Claude Desktop and Cursor (``{"mcpServers": {name: {command, args, env}}}``) and
VS Code (``{"servers": {name: {type, command, args}}}``, or the same under ``"mcp"`` in a
``settings.json``). Each stdio server ``CMD ARGS`` becomes ``BASTION wrap -- CMD ARGS``; its
``env`` stays where the client puts it. Servers reached by URL are left as they are (put
the HTTP gateway in front of them instead). Already wrapped servers are not wrapped twice.
The original file is kept as ``PATH.bak-<UTC timestamp>`` and the new one replaces it
atomically. The transform is pure (``wrap_servers``) so it is tested without files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_bastion.errors import ConfigError

__all__ = ["InstallReport", "install", "wrap_servers"]


@dataclass(frozen=True, slots=True)
class InstallReport:
    path: Path
    backup: Path | None
    wrapped: tuple[str, ...]
    skipped: tuple[str, ...]  # url servers and already wrapped ones


def _server_tables(doc: dict[str, Any]) -> list[dict[str, Any]]:
    tables = [doc[key] for key in ("mcpServers", "servers") if isinstance(doc.get(key), dict)]
    mcp = doc.get("mcp")
    if isinstance(mcp, dict) and isinstance(mcp.get("servers"), dict):
        tables.append(mcp["servers"])
    return tables


def _is_wrapped(entry: dict[str, Any], bastion: Sequence[str]) -> bool:
    args = entry.get("args")
    return entry.get("command") == bastion[0] and isinstance(args, list) and "wrap" in args[:3]


def wrap_servers(
    doc: dict[str, Any], bastion: Sequence[str], extra_args: Sequence[str] = ()
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Return (new document, wrapped names, skipped names); ``doc`` is not modified."""
    new = json.loads(json.dumps(doc))
    tables = _server_tables(new)
    if not tables:
        raise ConfigError("no 'mcpServers', 'servers' or 'mcp.servers' table in this file")
    wrapped: list[str] = []
    skipped: list[str] = []
    for table in tables:
        for name, entry in table.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
                skipped.append(name)
                continue
            if _is_wrapped(entry, bastion):
                skipped.append(name)
                continue
            args = entry.get("args") or []
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise ConfigError(f"server {name!r}: 'args' must be a list of strings")
            entry["args"] = [*bastion[1:], "wrap", *extra_args, "--", entry["command"], *args]
            entry["command"] = bastion[0]
            wrapped.append(name)
    return new, wrapped, skipped


def install(path: Path, bastion: Sequence[str], extra_args: Sequence[str] = ()) -> InstallReport:
    """Rewrite ``path`` in place (backup kept); raises ``ConfigError`` on a malformed file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read a JSON MCP client configuration ({type(exc).__name__})"
        ) from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object")
    new, wrapped, skipped = wrap_servers(doc, bastion, extra_args)
    backup: Path | None = None
    if wrapped:
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        shutil.copy2(path, backup)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    return InstallReport(path, backup, tuple(wrapped), tuple(skipped))
