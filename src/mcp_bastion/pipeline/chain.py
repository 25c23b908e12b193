"""The chain: runs guards in configured order over one Exchange; fail closed.

Rules: the first DENY or ASK stops the chain and is the result; a MODIFY replaces the
message and later guards see the modified exchange; a guard that raises, cannot reach
its store, or is still running when the chain's time budget expires becomes a DENY that
names the guard with a generic reason (the exception goes to ``Verdict.detail`` as its
class name only, never its text, which may hold SQL, paths or secrets).

Hot path: one time-budget scope per run, not one per guard: ``asyncio.timeout`` on
asyncio (about half the cost of ``anyio.fail_after``, measured in ``bench/pipeline.py``),
``anyio.fail_after`` on other event loops; no per-call allocations beyond the verdict list.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import anyio

from mcp_bastion.config import BastionConfig, GuardSettings
from mcp_bastion.errors import ConfigError, GuardError, StoreUnavailableError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.guards import GUARD_FACTORIES, GUARD_MODULES, GuardFactory
from mcp_bastion.pipeline.interface import Guard
from mcp_bastion.pipeline.verdict import Decision, Verdict
from mcp_bastion.store.interface import ApprovalStore, PinStore, RateLimitStore, StateStore
from mcp_bastion.types import Direction

__all__ = ["BOTH_DIRECTIONS", "BuildContext", "Chain", "ChainResult", "GuardStores", "build_chain"]

BOTH_DIRECTIONS: frozenset[Direction] = frozenset(Direction)

_ALLOW = Verdict.allow("chain")


@dataclass(frozen=True, slots=True)
class ChainResult:
    """The outcome of one run: final verdict, the (possibly modified) exchange, every verdict."""

    verdict: Verdict
    exchange: Exchange
    verdicts: tuple[Verdict, ...]

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed


class Chain:
    """An ordered list of guards with a time budget for one run."""

    __slots__ = ("_guards", "_names", "_timeout_s")

    def __init__(self, guards: Sequence[Guard], *, timeout_s: float = 2.0) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._guards: tuple[Guard, ...] = tuple(guards)
        self._names: tuple[str, ...] = tuple(g.name for g in self._guards)
        self._timeout_s = timeout_s

    @property
    def guards(self) -> tuple[Guard, ...]:
        return self._guards

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    async def run(self, exchange: Exchange) -> ChainResult:
        """Pass ``exchange`` through every guard; never raises for a guard's failure."""
        verdicts: list[Verdict] = []
        # The failing guard is the one after the last recorded verdict: len(verdicts).
        try:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # another event loop (trio): anyio's portable scope
                with anyio.fail_after(self._timeout_s):
                    stop, current, last_modify = await self._pass(exchange, verdicts)
            else:
                # On asyncio the native timeout costs half of anyio.fail_after (bench/pipeline.py).
                async with asyncio.timeout(self._timeout_s):
                    stop, current, last_modify = await self._pass(exchange, verdicts)
        except TimeoutError:
            return self._failed(verdicts, exchange, "Timeout", reason="timed out")
        except StoreUnavailableError:
            return self._failed(
                verdicts, exchange, "StoreUnavailableError", reason="a required store is unavailable"
            )
        except Exception as exc:  # noqa: BLE001 - fail closed: any guard failure is a denial
            return self._failed(verdicts, exchange, type(exc).__name__)
        if stop is not None:
            return ChainResult(stop, current, tuple(verdicts))
        if last_modify is None:
            return ChainResult(_ALLOW, current, tuple(verdicts))
        final = Verdict(
            Decision.MODIFY,
            guard=last_modify.guard,
            reason=last_modify.reason,
            message=current.message,
            rule_ids=tuple(r for v in verdicts for r in v.rule_ids),
        )
        return ChainResult(final, current, tuple(verdicts))

    async def _pass(
        self, exchange: Exchange, verdicts: list[Verdict]
    ) -> tuple[Verdict | None, Exchange, Verdict | None]:
        """Run the guards: (stopping verdict or None, current exchange, last MODIFY or None)."""
        current = exchange
        last_modify: Verdict | None = None
        for guard in self._guards:
            verdict = await guard.check(current)
            decision = verdict.decision
            if decision is Decision.ALLOW:
                verdicts.append(verdict)
                continue
            if decision is Decision.MODIFY:
                if verdict.message is None:
                    raise GuardError("MODIFY verdict without a message")
                verdicts.append(verdict)
                current = current.with_message(verdict.message)
                last_modify = verdict
                continue
            verdicts.append(verdict)
            return verdict, current, last_modify
        return None, current, last_modify

    def _failed(
        self,
        verdicts: list[Verdict],
        current: Exchange,
        detail: str,
        *,
        reason: str = "could not decide",
    ) -> ChainResult:
        index = len(verdicts)
        name = self._names[index] if index < len(self._names) else "chain"
        verdict = Verdict.deny(name, f"request denied: guard {name} {reason}", detail=detail)
        verdicts.append(verdict)
        return ChainResult(verdict, current, tuple(verdicts))


@dataclass(frozen=True, slots=True)
class GuardStores:
    """The stores guards may use; ``None`` where the deployment has none (guards needing it fail)."""

    rate_limits: RateLimitStore | None = None
    pins: PinStore | None = None
    state: StateStore | None = None
    approvals: ApprovalStore | None = None


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What a guard factory may read: the whole config, the catalog, the stores, extras.

    ``extras`` carries composition-root objects some guards need (e.g. an audit sink or a
    shared HTTP client) under documented keys, without widening this class for each.
    """

    config: BastionConfig
    catalog: Catalog
    stores: GuardStores = GuardStores()
    extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def resolve_factory(name: str) -> GuardFactory:
    """The factory for guard ``name``: a registered one, else ``<module>.factory`` (lazy import)."""
    registered = GUARD_FACTORIES.get(name)
    if registered is not None:
        return registered
    module_name = GUARD_MODULES.get(name)
    if module_name is None:
        raise ConfigError(f"guards: no guard named {name!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"guards: guard {name!r} is configured but {module_name} cannot be imported"
        ) from exc
    factory: GuardFactory | None = getattr(module, "factory", None)
    if factory is None or not callable(factory):
        raise ConfigError(f"guards: {module_name} has no factory(settings, ctx)")
    return factory


def build_chain(
    config: BastionConfig,
    *,
    catalog: Catalog,
    stores: GuardStores | None = None,
    extras: Mapping[str, Any] | None = None,
) -> tuple[Chain, Chain]:
    """Build (client->server chain, server->client chain) in the configured guard order.

    Each guard is built once and placed in the chain of every direction it declares in an
    optional ``directions: frozenset[Direction]`` attribute (default: both).
    """
    ctx = BuildContext(
        config=config,
        catalog=catalog,
        stores=stores or GuardStores(),
        extras=MappingProxyType(dict(extras or {})),
    )
    inbound: list[Guard] = []
    outbound: list[Guard] = []
    for settings in config.guards:
        guard = _build_one(settings, ctx)
        directions: Callable[[], frozenset[Direction]] | frozenset[Direction] = getattr(
            guard, "directions", BOTH_DIRECTIONS
        )
        dirs = directions() if callable(directions) else directions
        if Direction.CLIENT_TO_SERVER in dirs:
            inbound.append(guard)
        if Direction.SERVER_TO_CLIENT in dirs:
            outbound.append(guard)
    timeout = config.guard_timeout_s
    return Chain(inbound, timeout_s=timeout), Chain(outbound, timeout_s=timeout)


def _build_one(settings: GuardSettings, ctx: BuildContext) -> Guard:
    factory = resolve_factory(settings.name)
    guard = factory(settings, ctx)
    if not isinstance(guard, Guard):
        raise ConfigError(f"guards: factory for {settings.name!r} did not return a Guard")
    return guard
