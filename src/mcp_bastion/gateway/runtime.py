"""Composition root of the gateway: config -> stores, chains, upstreams, Gateway core.

``GatewayRuntime`` owns everything with a lifetime (upstream connections, stores, the
audit recorder) and is used as an async context manager by both the HTTP gateway and
``bastion wrap``. Building never contacts an upstream; ``start`` does first contact.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from mcp_types import JSONRPCNotification

from mcp_bastion.config import BastionConfig, LimitsSettings
from mcp_bastion.config.upstreams import Upstream
from mcp_bastion.errors import ConfigError
from mcp_bastion.gateway.core import Gateway
from mcp_bastion.gateway.interface import Recorder
from mcp_bastion.gateway.metrics import GatewayMetrics
from mcp_bastion.gateway.mrtr import InputBridge, RequestStateSeal, load_state_keys
from mcp_bastion.gateway.stores import OpenStores, open_gateway_stores
from mcp_bastion.gateway.tracing import make_tracer, trace_chain, traced_handler
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import Chain, GuardStores, build_chain
from mcp_bastion.pipeline.guards.limits import check_raw_body
from mcp_bastion.transports.downstream import MessageHandler
from mcp_bastion.transports.jsonrpc import RawCheck, framing_error
from mcp_bastion.transports.openers import http_opener, stdio_opener
from mcp_bastion.transports.upstream import Opener, UpstreamConnection

__all__ = ["GatewayRuntime"]

logger = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.0005


class GatewayRuntime:
    """Everything a running gateway (or wrapper) needs, built from one config."""

    def __init__(
        self,
        config: BastionConfig,
        *,
        namespace: bool = True,
        stores: GuardStores | None = None,
        recorder: Recorder | None = None,
        extras: dict[str, Any] | None = None,
        notify_downstream: Callable[[JSONRPCNotification], Awaitable[None]] | None = None,
        openers: Mapping[str, Opener] | None = None,
    ) -> None:
        """``openers`` overrides how named upstreams are reached (in-process servers, tests)."""
        if not config.upstreams:
            raise ConfigError("upstreams: at least one upstream server is required")
        self.config = config
        self.catalog = Catalog()
        self._exit = AsyncExitStack()
        extras = dict(extras or {})
        self._owned: OpenStores | None = None
        if stores is None:
            self._owned = open_gateway_stores(config)
            stores = self._owned.guard_stores
            extras.setdefault("audit_log", self._owned.audit_log)
        self.stores = stores
        self.c2s, self.s2c = build_chain(config, catalog=self.catalog, stores=self.stores, extras=extras)
        tracer = make_tracer(config.observability)
        if tracer is not None:
            self.c2s, self.s2c = trace_chain(self.c2s, tracer), trace_chain(self.s2c, tracer)
        if recorder is None:
            recorder = _recorder(self.s2c) or _recorder(self.c2s)
        connections = {
            name: UpstreamConnection(
                name,
                (openers or {}).get(name) or _opener(upstream, self._sandbox_events(name)),
                request_timeout=upstream.timeout_s,
                on_notification=self._on_notification,
            )
            for name, upstream in config.upstreams.items()
        }
        self.gateway = Gateway(
            connections,
            c2s=self.c2s,
            s2c=self.s2c,
            catalog=self.catalog,
            recorder=recorder,
            namespace=namespace,
            needs_relist=_relist_hook(self.s2c),
            notify_downstream=notify_downstream,
            bridge=_input_bridge(config),
        )
        self.metrics = GatewayMetrics(connections, self.catalog) if config.observability.metrics else None
        self.gateway.observer = self.metrics
        self.handler: MessageHandler = (
            self.gateway.handle if tracer is None else traced_handler(self.gateway.handle, tracer)
        )

    def _sandbox_events(self, upstream: str) -> Callable[[Any], None]:
        """The sandbox's event callback for ``upstream``: each event becomes an audit record."""
        return lambda event: self.gateway.sandbox_event(upstream, event)

    async def _on_notification(self, upstream: str, message: JSONRPCNotification) -> None:
        await self.gateway.upstream_notification(upstream, message)

    async def __aenter__(self) -> GatewayRuntime:
        # The stores' worker threads (SQLite) hold the GIL in short bursts; with CPython's
        # default 5 ms switch interval the event loop waits up to that long after every
        # socket call (a GIL convoy measured at ~1 ms per request). 0.5 ms keeps the loop
        # responsive at a negligible cost in thread switches.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        for connection in self.gateway.upstreams.values():
            await self._exit.enter_async_context(connection)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.gateway.bridge is not None:
                self.gateway.bridge.close()
            await self.gateway.drain()
            await self._exit.aclose()
            await self.gateway.drain()  # the sandbox's exit records, written as upstreams stop
            if self._owned is not None:
                await self._owned.final_checkpoint()
            close = getattr(self.gateway.recorder, "close", None)
            if callable(close):
                await close()
        finally:
            if self._owned is not None:
                await self._owned.aclose()

    def raw_check(self) -> RawCheck:
        """The limits guard's pre-parse check (size, UTF-8, batch, depth) for the transports."""
        settings = self.config.guard("limits")
        if not isinstance(settings, LimitsSettings):
            return framing_error

        def check(body: bytes) -> tuple[int, str] | None:
            verdict = check_raw_body(body, settings)
            return None if verdict.allowed else (verdict.code, verdict.reason)

        return check

    async def start(self) -> None:
        """First contact: connect to and pin every upstream (failures retried on demand)."""
        await self.gateway.first_contact()


def _opener(upstream: Upstream, on_event: Callable[[Any], None] | None = None) -> Opener:
    if upstream.command is not None:
        profile = upstream.sandbox
        if upstream.env or upstream.env_passthrough:
            env = dict(profile.env)
            env.update(upstream.env)
            for name in upstream.env_passthrough:
                if name in os.environ:
                    env[name] = os.environ[name]
            profile = profile.model_copy(update={"env": env})
        return stdio_opener(
            upstream.command,
            profile=profile,
            cwd=str(upstream.cwd) if upstream.cwd is not None else None,
            on_event=on_event,
        )
    assert upstream.url is not None
    headers = dict(upstream.headers)
    token: str | None = None
    if upstream.bearer_token_env:
        token = os.environ.get(upstream.bearer_token_env)
        if not token:
            raise ConfigError(f"upstream token variable {upstream.bearer_token_env} is not set")
    elif upstream.bearer_token_file is not None:
        token = Path(upstream.bearer_token_file).read_text(encoding="utf-8").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http_opener(upstream.url, headers=headers, timeout_s=upstream.timeout_s)


def _input_bridge(config: BastionConfig) -> InputBridge:
    """requestState sealed under the configured key ring, bound to this gateway's resource URI."""
    http = config.listeners.http
    keys = load_state_keys(http.state_key_file if http is not None else None)
    audience = config.resource_uri or "urn:mcp-bastion:stdio"
    return InputBridge(RequestStateSeal(keys, audience=audience))


def _recorder(chain: Chain) -> Recorder | None:
    """The audit guard's recorder (it records after the chains decided), if configured."""
    for guard in chain.guards:
        record = getattr(guard, "record", None)
        if callable(record):
            return guard  # type: ignore[return-value]
    return None


def _relist_hook(chain: Chain) -> Callable[[str], bool] | None:
    """The pinning guard's ``needs_relist(upstream)``, if that guard is in the chain."""
    for guard in chain.guards:
        hook = getattr(guard, "needs_relist", None)
        if callable(hook):
            return hook  # type: ignore[no-any-return]
    return None
