"""Transport checks of a Streamable HTTP endpoint, with raw HTTP requests (BST-SCAN-501..508).

These look at what the SDK client hides: whether the endpoint answers without credentials,
publishes RFC 9728 protected-resource metadata, checks ``Origin`` (DNS rebinding), hands
out guessable session ids, runs over plain http off loopback, accepts JSON-RPC batches or
bodies larger than the SDK's 4 MiB default, and leaks tracebacks in error responses.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import httpx2

from mcp_bastion.scanner.model import ScanFinding
from mcp_bastion.scanner.rules import SCAN_RULES
from mcp_bastion.scanner.targets import Target

__all__ = ["OVERSIZE_BYTES", "is_loopback", "session_id_weakness", "transport_checks"]

OVERSIZE_BYTES = 6 * 1024 * 1024  # above the SDK's 4 MiB default limit
_TRACEBACK = re.compile(
    r'Traceback \(most recent call last\)|File "[^"]+", line \d+|\bat [\w.$]+\([\w.]+:\d+\)'
)
_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _init(request_id: int | str = 1) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bastion-scan", "version": "1"},
        },
    }


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP literal."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _entropy_bits(text: str) -> float:
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return per_char * len(text)


def session_id_weakness(ids: list[str]) -> str | None:
    """Why these session ids look guessable, or None (needs at least two ids)."""
    if len(ids) < 2:
        return None
    if len(set(ids)) < len(ids):
        return "the same session id was issued twice"
    if all(i.isdigit() for i in ids):
        return "numeric session ids"
    if min(len(i) for i in ids) < 16:
        return "session ids shorter than 16 characters"
    if min(_entropy_bits(i) for i in ids) < 64:
        return "session ids carry less than 64 bits of apparent entropy"
    prefix = len(ids[0])
    for other in ids[1:]:
        prefix = min(
            prefix, next((k for k, (a, b) in enumerate(zip(ids[0], other, strict=False)) if a != b), prefix)
        )
    if len(ids[0]) - prefix < 16:
        return "successive session ids differ only in their last characters"
    return None


def _f(rule: str, target: Target, message: str, evidence: str = "") -> ScanFinding:
    return ScanFinding(rule, SCAN_RULES[rule].severity, target.name, "transport", message, evidence)


def _metadata_urls(url: str) -> list[str]:
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    path = parts.path.rstrip("/")
    return [
        f"{base}/.well-known/oauth-protected-resource{path}",
        f"{base}/.well-known/oauth-protected-resource",
    ]


class _Refused:
    """Stands in for a response when the server cut the connection: nothing was accepted."""

    is_success = False
    status_code = 0
    text = ""
    headers: dict[str, str] = {}  # noqa: RUF012 - read-only stand-in


async def _post(
    http: httpx2.AsyncClient, url: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx2.Response | _Refused:
    try:
        return await http.post(url, content=body, headers={**_HEADERS, **(headers or {})})
    except httpx2.TransportError:
        return _Refused()


async def transport_checks(target: Target, *, timeout_s: float = 30.0) -> list[ScanFinding]:
    """Every transport check against one HTTP target (no-op for stdio targets)."""
    if target.kind != "http":
        return []
    out: list[ScanFinding] = []
    parts = urlsplit(target.url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        out.append(
            _f("BST-SCAN-505", target, "plain http to a non-loopback host: tokens and data travel in clear")
        )
    auth = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(timeout_s), headers=dict(target.headers)) as http:
        if isinstance(await _post(http, target.url, b"{}", auth), _Refused):
            return out  # unreachable: the connection error is reported by the scan itself
        out += await _access_checks(http, target, auth)
        out += await _session_checks(http, target, auth)
        out += await _body_checks(http, target, auth)
    return out


async def _access_checks(http: httpx2.AsyncClient, target: Target, auth: dict[str, str]) -> list[ScanFinding]:
    out: list[ScanFinding] = []
    init = json.dumps(_init()).encode()
    anon = await _post(http, target.url, init)
    if anon.is_success:
        out.append(
            _f("BST-SCAN-501", target, "initialize succeeded without credentials", f"HTTP {anon.status_code}")
        )
    elif anon.status_code == 401 and not await _has_metadata(http, target.url):
        out.append(_f("BST-SCAN-502", target, "401 without RFC 9728 protected-resource metadata"))
    origin = await _post(http, target.url, init, {**auth, "Origin": "http://rebind.bastion-scan.invalid"})
    if origin.is_success:
        out.append(
            _f(
                "BST-SCAN-503",
                target,
                "a request from a foreign Origin was served",
                "Origin: http://rebind...",
            )
        )
    return out


async def _session_checks(
    http: httpx2.AsyncClient, target: Target, auth: dict[str, str]
) -> list[ScanFinding]:
    ids = []
    for n in range(3):
        r = await _post(http, target.url, json.dumps(_init(n + 1)).encode(), auth)
        sid = r.headers.get("mcp-session-id")
        if sid:
            ids.append(sid)
    weak = session_id_weakness(ids)
    return (
        [_f("BST-SCAN-504", target, f"predictable session ids: {weak}", ids[0][:8] + "...")] if weak else []
    )


async def _body_checks(http: httpx2.AsyncClient, target: Target, auth: dict[str, str]) -> list[ScanFinding]:
    out: list[ScanFinding] = []
    batch = json.dumps([_init(101), {"jsonrpc": "2.0", "id": 102, "method": "ping"}]).encode()
    r = await _post(http, target.url, batch, auth)
    if r.is_success and r.text.lstrip().startswith("["):
        out.append(
            _f("BST-SCAN-506", target, "a JSON-RPC batch was accepted (removed from MCP in 2025-06-18)")
        )
    big = _init(201)
    big["params"] = {**_init()["params"], "_meta": {"padding": "x" * OVERSIZE_BYTES}}  # type: ignore[dict-item]
    r = await _post(http, target.url, json.dumps(big).encode(), auth)
    if r.is_success:
        out.append(_f("BST-SCAN-507", target, f"a {OVERSIZE_BYTES >> 20} MiB request body was accepted"))
    broken = (
        b'{"jsonrpc": "2.0", "id": 1, "method": ',
        b'{"jsonrpc":"2.0","id":{"a":[1]},"method":7}',
        b"\xff\xfe",
    )
    for body in broken:
        r = await _post(http, target.url, body, auth)
        if _TRACEBACK.search(r.text):
            out.append(_f("BST-SCAN-508", target, "an error response contains a stack trace"))
            break
    return out


async def _has_metadata(http: httpx2.AsyncClient, url: str) -> bool:
    for meta in _metadata_urls(url):
        r = await http.get(meta)
        if r.is_success:
            try:
                doc = r.json()
            except ValueError:
                continue
            if isinstance(doc, dict) and "resource" in doc:
                return True
    return False
