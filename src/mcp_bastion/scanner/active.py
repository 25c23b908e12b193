"""Active probes (``--active``): attacks sent to a server you own, confirmed by canaries.

Every probe plants a fresh random canary and reports only what the canary proves: a
string that only evaluated SQL could produce, an environment value only the server's
environment holds, a file only an injected shell command could create, a system file's
content. An error, a timeout or "no error" proves nothing and is never a finding.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcp import Client

from mcp_bastion.detectors import Capability, Severity, classify_capabilities
from mcp_bastion.scanner.calls import (
    CallOutcome,
    call_tool,
    free_strings,
    is_read_tool,
    sample_arguments,
    write_evidence,
)
from mcp_bastion.scanner.model import ScanFinding, Surface
from mcp_bastion.scanner.rules import SCAN_RULES

__all__ = ["ProbeContext", "active_probes", "authorization_probe", "new_context"]

_NAME_PARAM = re.compile(r"(?:^|_)(?:name|key|var|variable|env|setting|config|secret|field)(?:$|_)", re.I)
_PATH_PARAM = re.compile(
    r"(?:^|_)(?:path|file|filename|dir|directory|document|doc|uri|location)(?:$|_)", re.I
)
_PASSWD = re.compile(r"root:[^:\n]*:0:0:")
_TRAVERSALS = (
    "../../../../../../../../etc/passwd",
    "..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/etc/passwd",
)
_SHELL_FORMS = ("; touch {f} #", "$(touch {f})", "`touch {f}`", "| touch {f}", "&& touch {f}")
Log = Callable[[str], None]


def _hex(n: int = 6) -> str:
    return secrets.token_hex(n)


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """Canaries of one scan: an environment variable planted in the server, a work directory."""

    env_name: str
    env_value: str = field(repr=False)
    workdir: Path | None  # host path the sandboxed server can write to; None for HTTP targets


def new_context(workdir: Path | None) -> ProbeContext:
    """Fresh random canaries for one server."""
    return ProbeContext(f"BASTION_SCAN_CANARY_{_hex(4).upper()}", "bstenv" + _hex(10), workdir)


def _f(rule: str, server: str, target: str, message: str, evidence: str) -> ScanFinding:
    return ScanFinding(rule, SCAN_RULES[rule].severity, server, target, message, evidence)


class _Prober:
    def __init__(self, client: Client, server: str, surface: Surface, ctx: ProbeContext) -> None:
        self.client, self.server, self.surface, self.ctx = client, server, surface, ctx
        self.outputs: list[tuple[str, str]] = []  # (tool, output) of every call, for the env canary
        self.findings: list[ScanFinding] = []
        self.filler = "bastionscan" + _hex(3)

    async def call(self, tool: dict[str, object], overrides: dict[str, object]) -> CallOutcome | None:
        args = sample_arguments(tool, overrides, self.filler)
        if args is None:
            return None
        name = str(tool.get("name", ""))
        out = await call_tool(self.client, name, args)
        self.outputs.append((name, out.text))
        return out

    async def read_back(self) -> str:
        """The output of every read-only tool that needs no free input: where stored canaries show."""
        texts: list[str] = []
        for tool in self.surface.tools:
            if is_read_tool(tool):
                out = await self.call(dict(tool), {})
                if out is not None:
                    texts.append(out.text)
        return "\n".join(texts)

    async def sql_injection(self) -> None:
        planted: list[tuple[str, str, str, str]] = []  # (tool, param, payload, joined canary)
        for tool in self.surface.tools:
            name = str(tool.get("name", ""))
            arbitrary = Capability.ARBITRARY_SQL in classify_capabilities(tool)
            for param in free_strings(tool):
                a, b = "bsq" + _hex(4), "q" + _hex(4)
                if arbitrary:
                    out = await self.call(dict(tool), {param: f"SELECT '{a}' || '{b}'"})
                    if out is not None and a + b in out.text:
                        self.findings.append(
                            _f(
                                "BST-SCAN-402",
                                self.server,
                                f"tool:{name}.{param}",
                                f"{name} executed caller-supplied SQL: SELECT 'A' || 'B' returned AB",
                                f"canary {a + b}",
                            )
                        )
                        continue
                for quote in ("'", '"'):
                    payload = f"{a}{quote}||{quote}{b}"
                    out = await self.call(dict(tool), {param: payload})
                    if out is not None:
                        planted.append((name, param, payload, a + b))
                        if a + b in out.text:
                            self._sqli(name, param, payload, a + b, name)
                            planted.pop()
        if planted:
            seen = await self.read_back()
            for name, param, payload, joined in planted:
                if joined in seen:
                    self._sqli(name, param, payload, joined, "a read-only tool")

    def _sqli(self, tool: str, param: str, payload: str, joined: str, where: str) -> None:
        if any(f.rule_id == "BST-SCAN-401" and f.target == f"tool:{tool}.{param}" for f in self.findings):
            return
        self.findings.append(
            _f(
                "BST-SCAN-401",
                self.server,
                f"tool:{tool}.{param}",
                f"{tool}.{param} is concatenated into SQL: the payload {payload!r} came back joined "
                f"(only an SQL engine evaluating || joins it), seen via {where}",
                f"canary {joined}",
            )
        )

    async def sql_differential(self) -> None:
        for tool in self.surface.tools:
            if not is_read_tool(tool):
                continue
            name = str(tool.get("name", ""))
            for param in free_strings(tool):
                if any(f.target == f"tool:{name}.{param}" for f in self.findings):
                    continue
                base = "zq" + _hex(3)
                variants = {"base": base, "true": f"{base}' OR 'a'='a", "false": f"{base}' AND 'a'='b"}
                texts: dict[str, str] = {}
                for key, value in variants.items():
                    out = await self.call(dict(tool), {param: value})
                    if out is None or not out.ok:
                        break
                    texts[key] = out.text.replace(value, "")
                if len(texts) == 3 and texts["base"] == texts["false"] and texts["true"] != texts["false"]:
                    self.findings.append(
                        _f(
                            "BST-SCAN-401",
                            self.server,
                            f"tool:{name}.{param}",
                            f"{name}.{param}: an always-true condition changed the result, an "
                            "always-false one did not (boolean differential)",
                            f"payload {variants['true']!r}",
                        )
                    )

    async def environment(self) -> None:
        for tool in self.surface.tools:
            env_tool = Capability.ENV_READ in classify_capabilities(tool)
            for param in free_strings(tool):
                if env_tool or _NAME_PARAM.search(param):
                    await self.call(dict(tool), {param: self.ctx.env_name})
        for tool_name, text in self.outputs:
            if self.ctx.env_value in text:
                self.findings.append(
                    _f(
                        "BST-SCAN-403",
                        self.server,
                        f"tool:{tool_name}",
                        f"{tool_name} returned the value of an environment variable planted by the scanner",
                        f"canary variable {self.ctx.env_name}",
                    )
                )
                return

    async def command_injection(self) -> None:
        if self.ctx.workdir is None:
            return
        planted: dict[Path, str] = {}
        for tool in self.surface.tools:
            name = str(tool.get("name", ""))
            for param in free_strings(tool):
                for form in _SHELL_FORMS:
                    path = self.ctx.workdir / f"bstcmd{_hex(4)}"
                    payload = self.filler + " " + form.format(f=path)
                    if await self.call(dict(tool), {param: payload}) is not None:
                        planted[path] = f"{name}.{param}"
                        if path.exists():
                            break
        for path, where in planted.items():
            if path.exists():
                self.findings.append(
                    _f(
                        "BST-SCAN-405",
                        self.server,
                        f"tool:{where}",
                        f"{where} runs its input in a shell: an injected touch created the canary file",
                        f"canary file {path.name}",
                    )
                )

    async def path_traversal(self) -> None:
        for tool in self.surface.tools:
            name = str(tool.get("name", ""))
            for param in free_strings(tool):
                if not _PATH_PARAM.search(param):
                    continue
                for payload in _TRAVERSALS:
                    out = await self.call(dict(tool), {param: payload})
                    if out is not None and _PASSWD.search(out.text):
                        self.findings.append(
                            _f(
                                "BST-SCAN-406",
                                self.server,
                                f"tool:{name}.{param}",
                                f"{name}.{param} read /etc/passwd",
                                f"payload {payload!r}",
                            )
                        )
                        break
        for tmpl in self.surface.resource_templates:
            uri = str(tmpl.get("uriTemplate", ""))
            if "{" not in uri:
                continue
            for payload in _TRAVERSALS:
                concrete = re.sub(r"\{[^}]*\}", payload.lstrip("/"), uri, count=1)
                concrete = re.sub(r"\{[^}]*\}", "x", concrete)
                try:
                    result = await self.client.read_resource(concrete)
                except Exception:  # noqa: BLE001, S112 - a refused read is the right answer, not an error of the scan
                    continue
                text = " ".join(str(getattr(c, "text", "")) for c in getattr(result, "contents", []))
                if _PASSWD.search(text):
                    self.findings.append(
                        _f(
                            "BST-SCAN-406",
                            self.server,
                            f"resource:{uri}",
                            f"resource template {uri} read /etc/passwd",
                            f"uri {concrete!r}",
                        )
                    )
                    break


async def authorization_probe(client: Client, server: str, surface: Surface) -> list[ScanFinding]:
    """Call each write tool with benign arguments and no credentials; success is a finding."""
    out: list[ScanFinding] = []
    filler = "bastionscan" + _hex(3)
    for tool in surface.tools:
        strength = write_evidence(tool)
        if strength is None:
            continue
        args = sample_arguments(tool, {}, filler)
        if args is None:
            continue
        name = str(tool.get("name", ""))
        result = await call_tool(client, name, args)
        if result.ok:
            finding = _f(
                "BST-SCAN-404",
                server,
                f"tool:{name}",
                f"{name} changes state and ran for an anonymous / lowest-privilege caller",
                "call succeeded without credentials",
            )
            if strength == "weak":  # "add_numbers" may be a pure function: say so, rate it lower
                finding = replace(
                    finding,
                    severity=Severity.MEDIUM,
                    message=f"{name} may change state (its name suggests so) and ran for an anonymous caller",
                )
            out.append(finding)
    return out


async def active_probes(
    client: Client, server: str, surface: Surface, ctx: ProbeContext
) -> list[ScanFinding]:
    """Every content probe (SQL, environment, shell, paths) against one connected server."""
    p = _Prober(client, server, surface, ctx)
    await p.sql_injection()
    await p.sql_differential()
    await p.command_injection()
    await p.path_traversal()
    await p.environment()
    return p.findings
