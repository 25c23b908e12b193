"""What the gateway core needs from its collaborators: chains, an audit recorder, metrics.

Small protocols so the core can be driven by the real pipeline in production and by any
conforming object in tests; each states its contract in its docstring.
"""

from __future__ import annotations

from typing import Protocol

from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.verdict import Verdict

__all__ = ["ChainOutcome", "ChainRunner", "Observer", "Recorder"]


class ChainOutcome(Protocol):
    @property
    def verdict(self) -> Verdict: ...

    @property
    def exchange(self) -> Exchange: ...


class ChainRunner(Protocol):
    async def run(self, exchange: Exchange) -> ChainOutcome: ...


class Observer(Protocol):
    """Metrics hook: told of every decision (labels are chosen by the observer, safely)."""

    def observe(
        self, *, method: str | None, upstream: str | None, tool: str | None, verdict: Verdict, seconds: float
    ) -> None: ...

    def upstream_error(self, upstream: str | None) -> None: ...

    def audit_failure(self) -> None: ...


class Recorder(Protocol):
    """Audit hook: awaited before a result is released (durable for world-changing calls)."""

    async def record(
        self, exchange: Exchange, outcome: ChainOutcome, *, latency_ms: float, durable: bool
    ) -> None: ...
