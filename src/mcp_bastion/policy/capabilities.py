"""A minimal local capability classifier for tools (name, description, input schema).

The detectors issue provides the full classifier (``mcp_bastion.detectors``); the
authorization guard unions its result with this one, so the default policy's
"dangerous capability" rule never depends on one implementation alone. This module
only looks at words: it is deliberately conservative and small.

Capabilities (stable names, used in Cedar as ``resource.capabilities``):

- ``sql``        arbitrary SQL from the caller (``execute_sql``, "run any SQL query")
- ``shell``      shell / command execution (``run_command``, ``bash``)
- ``code_exec``  evaluation of code (``eval``, ``run_python``)
- ``env_read``   reading process environment variables (``get_env_variable``)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["CAPABILITIES", "DANGEROUS", "classify_tool"]

CAPABILITIES = ("sql", "shell", "code_exec", "env_read")
DANGEROUS: frozenset[str] = frozenset({*CAPABILITIES, "arbitrary_sql", "code_execution"})
"""Capabilities that make a tool ``dangerous`` (forbidden by the default policy).

Includes the detectors' names for the same things (``arbitrary_sql``, ``code_execution``)
so either classifier's verdict counts."""

_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_RUN = frozenset(
    {"exec", "execute", "run", "eval", "evaluate", "spawn", "invoke", "raw", "query", "arbitrary"}
)
_SQL_DESC = re.compile(
    r"\b(?:execute|run|perform|issue)s?\s+(?:an?\s+|any\s+|arbitrary\s+|raw\s+)*sql\b", re.I
)
_SHELL_DESC = re.compile(r"\b(?:shell|bash|terminal)\s+command|\brun\s+(?:a\s+|any\s+)?command\b", re.I)
_CODE_DESC = re.compile(
    r"\b(?:execute|run|evaluate)s?\s+(?:any\s+|arbitrary\s+)?(?:python|javascript|code)\b", re.I
)
_ENV_DESC = re.compile(r"\benvironment\s+variable", re.I)


def _tokens(name: str) -> frozenset[str]:
    return frozenset(t.lower() for t in _SPLIT.split(name) if t)


def classify_tool(tool: Mapping[str, Any]) -> frozenset[str]:
    """Capabilities suggested by a tool definition (``name``, ``description``, ``inputSchema``)."""
    name = str(tool.get("name", ""))
    description = str(tool.get("description") or "")
    schema = tool.get("inputSchema")
    props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    params = _tokens(" ".join(str(k) for k in props)) if isinstance(props, Mapping) else frozenset()
    words = _tokens(name)
    found: set[str] = set()
    if ("sql" in words and (words & _RUN or len(words) == 1)) or _SQL_DESC.search(description):
        found.add("sql")
    if (
        words & {"shell", "bash", "sh", "powershell", "terminal", "subprocess"}
        or (words & _RUN and words & {"command", "cmd", "process"})
        or (_SHELL_DESC.search(description) and params & {"command", "cmd", "script"})
    ):
        found.add("shell")
    if (
        "eval" in words
        or (words & _RUN and words & {"python", "javascript", "js", "code", "script"})
        or _CODE_DESC.search(description)
    ):
        found.add("code_exec")
    if words & {"env", "environ", "environment", "getenv"} or _ENV_DESC.search(description):
        found.add("env_read")
    return frozenset(found)
