"""The scan composition root: connect to each target, fetch its surface, run every check."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.scanner.active import active_probes, authorization_probe, new_context
from mcp_bastion.scanner.baseline import drift
from mcp_bastion.scanner.model import ScanFinding, ScanReport, ServerResult, Surface
from mcp_bastion.scanner.rules import SCAN_RULES
from mcp_bastion.scanner.static import collision_checks, static_checks
from mcp_bastion.scanner.targets import Target, connect
from mcp_bastion.scanner.transport import transport_checks

__all__ = ["ScanOptions", "fetch_surface", "scan", "scan_surface_only"]

Progress = Callable[[Target, str], None]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan: active probes or not, the sandbox profile, a baseline, timeouts."""

    active: bool = False
    profile: SandboxProfile = field(default_factory=SandboxProfile)
    baseline: Mapping[str, Mapping[str, Any]] | None = None
    timeout_s: float = 60.0
    cwd: str | None = None


def _dump(items: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    return tuple(i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in items)


async def fetch_surface(client: Client) -> Surface:
    """Instructions, tools, prompts, resources and templates the connected server advertises."""
    caps = client.server_capabilities
    tools = (await client.list_tools()).tools if caps.tools is not None else []
    prompts = (await client.list_prompts()).prompts if caps.prompts is not None else []
    resources: list[Any] = []
    templates: list[Any] = []
    if caps.resources is not None:
        resources = list((await client.list_resources()).resources)
        templates = list((await client.list_resource_templates()).resource_templates)
    info = client.server_info
    return Surface(
        instructions=client.instructions,
        tools=_dump(tools),
        prompts=_dump(prompts),
        resources=_dump(resources),
        resource_templates=_dump(templates),
        server_info=info.model_dump(mode="json", exclude_none=True) if info is not None else {},
        protocol_version=client.protocol_version,
    )


def scan_surface_only(name: str, surface: Surface, options: ScanOptions) -> list[ScanFinding]:
    """Static checks and baseline drift for one surface (no I/O)."""
    out = static_checks(name, surface)
    if options.baseline is not None:
        out += drift(name, surface, options.baseline.get(name))
    return out


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


async def _scan_one(
    target: Target, options: ScanOptions, progress: Progress | None
) -> tuple[ServerResult, list[ScanFinding]]:
    workdir = (
        Path(tempfile.mkdtemp(prefix="bastion-scan-")) if options.active and target.kind == "stdio" else None
    )
    ctx = new_context(workdir)
    profile = options.profile
    if workdir is not None:
        # The canary variable lives only in the sandboxed server's environment.
        profile = profile.model_copy(
            update={"env": {**profile.env, ctx.env_name: ctx.env_value}, "workdir": str(workdir)}
        )
    findings: list[ScanFinding] = []
    try:
        with anyio.fail_after(options.timeout_s * (4 if options.active else 1)):
            async with connect(
                target, profile=profile, cwd=options.cwd, timeout_s=options.timeout_s
            ) as client:
                if progress:
                    progress(target, "listing")
                surface = await fetch_surface(client)
                findings += scan_surface_only(target.name, surface, options)
                if options.active:
                    if progress:
                        progress(target, "probing")
                    findings += await active_probes(client, target.name, surface, ctx)
                    if target.kind == "stdio" or not target.token:
                        findings += await authorization_probe(client, target.name, surface)
            if target.kind == "http":
                if progress:
                    progress(target, "transport")
                findings += await transport_checks(target, timeout_s=options.timeout_s)
            if options.active and target.kind == "http" and target.token:
                findings += await _anonymous_authorization(target, surface, options)
    except Exception as exc:  # noqa: BLE001 - one unreachable server must not stop the scan of the others
        message = f"could not scan: {_describe(exc)}"
        finding = ScanFinding(
            "BST-SCAN-001", SCAN_RULES["BST-SCAN-001"].severity, target.name, "server", message
        )
        return ServerResult(target.name, target.display, None, message, options.active), [finding]
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return ServerResult(target.name, target.display, surface, None, options.active), findings


async def _anonymous_authorization(
    target: Target, surface: Surface, options: ScanOptions
) -> list[ScanFinding]:
    try:
        async with connect(replace(target, token=None), timeout_s=options.timeout_s) as anon:
            return await authorization_probe(anon, target.name, surface)
    except Exception:  # noqa: BLE001 - refused without a token: authentication works, nothing to report
        return []


async def scan(
    targets: Sequence[Target], options: ScanOptions, progress: Progress | None = None
) -> ScanReport:
    """Scan every target (one after another: servers share 2 CPUs and the sandbox) and report."""
    servers: list[ServerResult] = []
    findings: list[ScanFinding] = []
    for target in targets:
        result, found = await _scan_one(target, options, progress)
        servers.append(result)
        findings += found
        if progress:
            progress(target, "done")
    findings += collision_checks({s.name: s.surface.tools for s in servers if s.surface is not None})
    findings.sort(key=lambda f: (-f.severity.rank, f.server, f.rule_id, f.target))
    return ScanReport(tuple(servers), tuple(dict.fromkeys(findings)))
