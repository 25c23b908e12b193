"""The fuzz loop: send each case, then a sync ``ping``; classify what comes back.

After every case a ``ping`` with a fresh id follows; the case is done when its answer
arrives. No answer within the timeout while the process lives is a **hang**; the end of
the stream is a **crash**; a line that is not a JSON-RPC 2.0 message, or a response to an
id never sent, is **malformed**. After a crash or hang the target is restarted. Each issue
is replayed alone on a fresh target, shrunk while it still fails, and saved as a
reproducer (the case's bytes; replay prefixes the handshake).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio

from mcp_bastion.fuzzer.cases import Case, handshake, make_case
from mcp_bastion.fuzzer.channels import Channel, ChannelFactory

__all__ = ["FuzzIssue", "FuzzOptions", "FuzzReport", "check_line", "fuzz", "replay"]

_MEMORY_GROWTH_BYTES = 256 * 1024 * 1024
_MAX_MINIMISE_REPLAYS = 24
_MAX_SAVED = 20


@dataclass(frozen=True, slots=True)
class FuzzOptions:
    """How many cases, which seed, how long to wait, where reproducers go."""

    cases: int = 1000
    seed: int = 0
    timeout_s: float = 10.0
    reproducers: Path | None = None
    startup_timeout_s: float = 60.0  # start-up plus handshake: servers that load data are slow to start


@dataclass(frozen=True, slots=True)
class FuzzIssue:
    """One problem: crash, hang, malformed or memory; the case that caused it; its reproducer."""

    kind: str
    case_index: int
    case_kind: str
    detail: str
    reproducer: str | None = None


@dataclass(frozen=True, slots=True)
class FuzzReport:
    """The run's totals and issues."""

    cases_run: int
    seconds: float
    issues: tuple[FuzzIssue, ...]
    restarts: int
    rss_start: int | None
    rss_end: int | None
    by_kind: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """A JSON document of the run."""
        out = asdict(self)
        out["cases_per_second"] = round(self.cases_run / self.seconds, 1) if self.seconds else None
        return out


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def check_line(line: bytes, sent: set[str]) -> str | None:
    """Why one output line is not an acceptable JSON-RPC message, or None when it is."""
    try:
        doc = json.loads(line)
    except ValueError:
        return "not JSON"
    except RecursionError:
        return "nested too deeply to parse"
    if not isinstance(doc, dict) or doc.get("jsonrpc") != "2.0":
        return "not a JSON-RPC 2.0 object"
    if "method" in doc:
        return None if isinstance(doc["method"], str) else "method is not a string"
    if ("result" in doc) == ("error" in doc):
        return "a response needs exactly one of result and error"
    if "error" in doc:
        err = doc["error"]
        if (
            not isinstance(err, dict)
            or not isinstance(err.get("code"), int)
            or not isinstance(err.get("message"), str)
        ):
            return "malformed error object"
    rid = doc.get("id")
    if rid is not None and _key(rid) not in sent:
        return f"response to an id never sent: {_key(rid)[:60]}"
    return None


async def _until(chan: Channel, sync_id: str, sent: set[str], timeout_s: float) -> tuple[str, str] | None:
    """Read until the answer to ``sync_id``; ``(kind, detail)`` of the first problem, or None."""
    want = _key(sync_id)
    with anyio.move_on_after(timeout_s):
        while True:
            line = await chan.readline()
            if line is None:
                return "crash", "the target closed its output / exited"
            problem = check_line(line, sent)
            if problem:
                return "malformed", problem
            doc = json.loads(line)
            if "method" not in doc and _key(doc.get("id")) == want:
                return None
    if not chan.alive:
        return "crash", "the target exited"
    return "hang", f"no answer to a ping within {timeout_s:g}s"


async def _exchange(
    chan: Channel, data: bytes, ids: tuple[Any, ...], sync_id: str, sent: set[str], *, timeout_s: float
) -> tuple[str, str] | None:
    sent.update(_key(i) for i in ids)
    sent.add(_key(sync_id))
    try:
        await chan.send(
            data + json.dumps({"jsonrpc": "2.0", "id": sync_id, "method": "ping"}).encode() + b"\n"
        )
    except anyio.BrokenResourceError:
        return "crash", "the target stopped reading its input"
    return await _until(chan, sync_id, sent, timeout_s)


async def _open(
    stack: AsyncExitStack, factory: ChannelFactory, timeout_s: float = 60.0
) -> tuple[Channel, set[str]]:
    chan = await stack.enter_async_context(factory())
    sent: set[str] = set()
    problem = await _exchange(chan, handshake(), ("init",), "sync-init", sent, timeout_s=timeout_s)
    if problem:
        raise RuntimeError(f"handshake failed: {problem[1]}")
    return chan, sent


async def replay(
    factory: ChannelFactory,
    data: bytes,
    ids: tuple[Any, ...],
    timeout_s: float,
    startup_timeout_s: float = 60.0,
) -> str | None:
    """Run ``data`` alone on a fresh target after the handshake; the issue kind, or None."""
    async with AsyncExitStack() as stack:
        chan, sent = await _open(stack, factory, startup_timeout_s)
        problem = await _exchange(chan, data, ids, "sync-replay", sent, timeout_s=timeout_s)
        return problem[0] if problem else None


def _shrinks(doc: Any) -> list[Any]:
    """Smaller variants of a JSON value: each dict key or list item removed, each container emptied."""
    out: list[Any] = []
    if isinstance(doc, dict):
        out += [{kk: v for kk, v in doc.items() if kk != k} for k in doc]
        for k, v in doc.items():
            out += [doc | {k: s} for s in _shrinks(v)[:4]]
    elif isinstance(doc, list):
        out += [doc[:i] + doc[i + 1 :] for i in range(min(len(doc), 4))]
        if doc:
            out.append([])
    elif isinstance(doc, str) and len(doc) > 16:
        out.append(doc[: len(doc) // 2])
    return out


async def _minimise(factory: ChannelFactory, case: Case, kind: str, timeout_s: float) -> bytes | None:
    """The smallest variant of ``case`` that still shows ``kind``; None if it does not reproduce."""
    if await replay(factory, case.data, case.ids, timeout_s) != kind:
        return None
    lines = case.data.splitlines()
    if len(lines) != 1:
        return case.data
    try:
        best: Any = json.loads(lines[0])
    except (ValueError, RecursionError):
        return case.data
    budget = _MAX_MINIMISE_REPLAYS
    improved = True
    while improved and budget > 0:
        improved = False
        for candidate in _shrinks(best):
            budget -= 1
            data = json.dumps(candidate).encode() + b"\n"
            rid = candidate.get("id") if isinstance(candidate, dict) else None
            if await replay(factory, data, (rid,), timeout_s) == kind:
                best, improved = candidate, True
                break
            if budget <= 0:
                break
    return json.dumps(best).encode() + b"\n"


async def fuzz(
    factory: ChannelFactory,
    options: FuzzOptions,
    tools: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
) -> FuzzReport:
    """Run ``options.cases`` cases against the target that ``factory`` connects to."""
    issues: list[tuple[FuzzIssue, Case]] = []
    by_kind: dict[str, int] = {}
    restarts = 0
    rss_start = rss_end = None
    started = time.perf_counter()
    index = 0
    while index < options.cases:
        async with AsyncExitStack() as stack:
            chan, sent = await _open(stack, factory, options.startup_timeout_s)
            if rss_start is None:
                rss_start = chan.rss_bytes()
            while index < options.cases:
                case = make_case(options.seed, index, tools)
                by_kind[case.kind] = by_kind.get(case.kind, 0) + 1
                index += 1
                problem = await _exchange(
                    chan, case.data, case.ids, f"sync-{index}", sent, timeout_s=options.timeout_s
                )
                if progress is not None and index % 100 == 0:
                    progress(index)
                if problem is not None:
                    issues.append((FuzzIssue(problem[0], case.index, case.kind, problem[1]), case))
                    if problem[0] in ("crash", "hang"):
                        restarts += 1
                        break
            else:
                rss_end = chan.rss_bytes()
    seconds = time.perf_counter() - started
    saved = [await _save(factory, issue, case, options) for issue, case in issues[:_MAX_SAVED]]
    saved += [issue for issue, _ in issues[_MAX_SAVED:]]
    if (
        rss_start is not None
        and rss_end is not None
        and rss_end - rss_start > max(_MEMORY_GROWTH_BYTES, rss_start)
    ):
        saved.append(
            FuzzIssue(
                "memory", options.cases - 1, "-", f"RSS grew from {rss_start >> 20} to {rss_end >> 20} MiB"
            )
        )
    return FuzzReport(options.cases, seconds, tuple(saved), restarts, rss_start, rss_end, by_kind)


async def _save(factory: ChannelFactory, issue: FuzzIssue, case: Case, options: FuzzOptions) -> FuzzIssue:
    if options.reproducers is None:
        return issue
    data = await _minimise(factory, case, issue.kind, options.timeout_s)
    if data is None:
        return FuzzIssue(
            issue.kind, issue.case_index, issue.case_kind, issue.detail + " (did not reproduce alone)"
        )
    options.reproducers.mkdir(parents=True, exist_ok=True)
    path = options.reproducers / f"{issue.kind}-seed{options.seed}-case{case.index}.jsonl"
    path.write_bytes(data)
    return FuzzIssue(issue.kind, issue.case_index, issue.case_kind, issue.detail, str(path))
