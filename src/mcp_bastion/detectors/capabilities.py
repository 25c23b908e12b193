"""Dangerous capabilities recognised from a tool's name, description and schema (BST-CAP-001)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mcp_bastion.detectors.types import RULES, Capability, Finding, Severity, rule

__all__ = ["capability_findings", "classify_capabilities"]

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT_RE = re.compile(r"[^a-z0-9]+")


def _tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in _SPLIT_RE.split(_CAMEL_RE.sub("_", name).lower()) if t)


def _free_strings(schema: Any) -> dict[str, str]:
    """Top-level parameters that accept any string: name -> lower-cased description."""
    out: dict[str, str] = {}
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return out
    for prop, sub in props.items():
        if not isinstance(sub, Mapping) or "enum" in sub or "const" in sub:
            continue
        types = sub.get("type", "string")
        if types == "string" or (isinstance(types, list) and "string" in types) or types == "array":
            out[str(prop).lower()] = str(sub.get("description", "")).lower()
    return out


_RUN = frozenset({"run", "execute", "exec", "eval", "evaluate", "invoke", "call"})
_DESC = {
    Capability.ARBITRARY_SQL: re.compile(
        r"\b(?:execut|run|perform|issu)\w*\b[^.\n]{0,40}\b(?:sql|queries|query|statements?)\b[^.\n]{0,40}"
        r"|\bsql (?:query|queries|statements?)\b"
    ),
    Capability.CODE_EXECUTION: re.compile(
        r"\b(?:execut|run|evaluat|interpret)\w*\b[^.\n]{0,30}\b(?:python|javascript|js|code|scripts?|expressions?"
        r"|snippets?)\b"
    ),
    Capability.SHELL: re.compile(
        r"\b(?:shell|terminal|bash|powershell|command[- ]line|system|os) commands?\b"
        r"|\b(?:execut|run)\w*\s+(?:a\s+|the\s+|any\s+|arbitrary\s+)?commands?\b"
    ),
    Capability.ENV_READ: re.compile(
        r"\b(?:read|get|return|list|print|dump|retriev|show)\w*\b[^.\n]{0,30}\benvironment variables?\b"
    ),
    Capability.FILE_READ: re.compile(
        r"\b(?:read|get|return|retriev|open|view|load)\w*\b[^.\n]{0,30}"
        r"\b(?:contents? of (?:a |the )?files?|files?)\b"
    ),
    Capability.FILE_WRITE: re.compile(
        r"\b(?:write|creat|overwrit|edit|modif|append|sav|mov|renam)\w*\b[^.\n]{0,30}\b(?:files?|director(?:y|ies))\b"
    ),
    Capability.FILE_DELETE: re.compile(
        r"\b(?:delet|remov|unlink|eras)\w*\b[^.\n]{0,20}\b(?:files?|director(?:y|ies))\b"
    ),
    Capability.NETWORK_FETCH: re.compile(
        r"\b(?:fetch|retriev|download|navigat|request|scrap|crawl|brows|open)\w*\b[^.\n]{0,40}"
        r"\b(?:urls?|web ?pages?|websites?|internet|https?)\b"
    ),
    Capability.SEND_MESSAGE: re.compile(
        r"\b(?:send|post|publish|reply)\w*\b[^.\n]{0,30}\b(?:e-?mails?|messages?|sms|tweets?|notifications?)\b"
    ),
}
_PATH_PARAMS = frozenset(
    {"path", "file", "filepath", "file_path", "filename", "paths", "source", "destination"}
)
_URL_PARAMS = frozenset({"url", "uri", "href", "link", "endpoint", "urls"})


def classify_capabilities(tool: Mapping[str, Any]) -> frozenset[Capability]:
    """The dangerous capabilities ``tool`` appears to have, for policy to deny or gate by default."""
    name = str(tool.get("name", ""))
    tokens = _tokens(name)
    desc = str(tool.get("description", "")).lower()
    params = _free_strings(tool.get("inputSchema"))
    text = " ".join([desc, *params.values()])
    caps: set[Capability] = set()

    def said(cap: Capability) -> bool:
        return _DESC[cap].search(text) is not None

    if (
        "sql" in tokens
        or {"sql", "statement"} & params.keys()
        or (
            ({"query"} & params.keys() or tokens & _RUN or "query" in tokens)
            and said(Capability.ARBITRARY_SQL)
            and ("sql" in text or "database" in text)
        )
    ):
        caps.add(Capability.ARBITRARY_SQL)
    if (
        tokens & {"eval", "repl", "interpreter"}
        or (
            tokens & (_RUN | {"evaluate"})
            and tokens & {"code", "python", "javascript", "js", "script", "snippet"}
        )
        or (
            {"code", "script", "expression", "javascript", "program"} & params.keys()
            and said(Capability.CODE_EXECUTION)
        )
    ):
        caps.add(Capability.CODE_EXECUTION)
    if (
        tokens & {"shell", "bash", "terminal", "powershell", "subprocess", "zsh"}
        or (
            tokens & (_RUN | {"command", "commands", "cmd"})
            and ({"command", "cmd", "commands"} & (tokens | params.keys()))
        )
        or said(Capability.SHELL)
    ):
        caps.add(Capability.SHELL)
    if tokens & {"env", "environ", "getenv", "environment"} or said(Capability.ENV_READ):
        caps.add(Capability.ENV_READ)
    has_path = bool(_PATH_PARAMS & params.keys())
    file_name = bool(tokens & {"file", "files", "directory", "dir", "folder"})
    if (tokens & {"read", "cat", "open", "view", "load", "head", "tail", "get"} and file_name) or (
        has_path and said(Capability.FILE_READ)
    ):
        caps.add(Capability.FILE_READ)
    if (
        tokens & {"write", "edit", "create", "save", "append", "move", "rename", "mkdir", "put", "upload"}
        and file_name
    ) or (has_path and said(Capability.FILE_WRITE)):
        caps.add(Capability.FILE_WRITE)
    if (tokens & {"delete", "remove", "rm", "unlink", "trash", "rmdir"} and file_name) or (
        has_path and said(Capability.FILE_DELETE)
    ):
        caps.add(Capability.FILE_DELETE)
    if _URL_PARAMS & params.keys() and (
        tokens
        & {
            "fetch",
            "download",
            "curl",
            "wget",
            "http",
            "request",
            "scrape",
            "crawl",
            "browse",
            "navigate",
            "get",
            "open",
            "visit",
        }
        or said(Capability.NETWORK_FETCH)
    ):
        caps.add(Capability.NETWORK_FETCH)
    if tokens & {"send", "post", "reply", "publish", "notify"} and tokens & {
        "email",
        "mail",
        "message",
        "messages",
        "sms",
        "tweet",
        "notification",
        "dm",
    }:
        caps.add(Capability.SEND_MESSAGE)
    return frozenset(caps)


_SEVERITY = {
    Capability.ARBITRARY_SQL: Severity.HIGH,
    Capability.CODE_EXECUTION: Severity.CRITICAL,
    Capability.SHELL: Severity.CRITICAL,
    Capability.ENV_READ: Severity.HIGH,
    Capability.FILE_READ: Severity.MEDIUM,
    Capability.FILE_WRITE: Severity.HIGH,
    Capability.FILE_DELETE: Severity.HIGH,
    Capability.NETWORK_FETCH: Severity.MEDIUM,
    Capability.SEND_MESSAGE: Severity.MEDIUM,
}


@rule(
    "BST-CAP-001", "Dangerous capability", Severity.INFO, cwe="CWE-749", owasp="LLM06", category="capability"
)
def capability_findings(tool: Mapping[str, Any], location: str) -> list[Finding]:
    """A tool that can run SQL, code or shell commands, read the environment or files, write or
    delete files, fetch URLs or send messages.

    Recognised from name tokens (``execute_sql``, ``run_command``, ``eval``,
    ``get_env_variable``, ``read_file``, ``fetch``), description phrases ("Run a read-only
    SQL query", "Execute a shell command") and free-form parameters (a ``query``/``sql``
    string, ``command``, ``code``, ``path``, ``url`` without an ``enum``). Reported as INFO
    (it is what the tool is for, not an attack); the message names the capability and its
    inherent risk, and policy uses :func:`classify_capabilities` to deny or require approval.
    """
    this = RULES["BST-CAP-001"]
    caps = sorted(classify_capabilities(tool))
    return [
        this.finding(
            f"capability {cap.value} (inherent risk {_SEVERITY[cap].value})",
            location,
            confidence=0.8,
            evidence=cap.value,
        )
        for cap in caps
    ]
