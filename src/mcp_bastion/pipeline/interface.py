"""The Guard protocol: one concern, one signature.

Contract: ``check`` decides about one Exchange and returns a Verdict. "Denied" is a
verdict, not an exception. A guard that raises, exceeds its time budget, or cannot reach
its store is turned into a DENY by the chain (fail closed). Guards may be called
concurrently for different exchanges; state they keep must be safe for that. Decision
logic stays pure; I/O goes through a store passed in at construction.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.verdict import Verdict

__all__ = ["Guard"]


@runtime_checkable
class Guard(Protocol):
    """A pipeline stage."""

    name: str

    async def check(self, exchange: Exchange) -> Verdict:
        """Decide about ``exchange``."""
        ...
