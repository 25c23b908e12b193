"""The gateway's ASGI application: MCP endpoint, RFC 9728 metadata, health.

Routes (``path`` = ``listeners.http.path``, default ``/mcp``):

- ``POST/DELETE {path}``: the MCP endpoint (``transports.http_downstream``).
- ``GET /.well-known/oauth-protected-resource{path}`` and
  ``/.well-known/oauth-protected-resource``: RFC 9728 protected resource metadata.
- ``GET /healthz``: liveness plus per-upstream connection state (no secrets).
- ``GET /metrics`` (``observability.metrics_path``): Prometheus text; scrapers authenticate
  like clients when the listener requires authentication.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp_types import JSONRPCNotification
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mcp_bastion.config import BastionConfig
from mcp_bastion.gateway.metrics import CONTENT_TYPE
from mcp_bastion.gateway.runtime import GatewayRuntime
from mcp_bastion.transports.http_downstream import (
    Authenticate,
    HttpDownstream,
    HttpRefusal,
    SessionRegistry,
    TransportLimits,
)

__all__ = ["build_app"]


def build_app(
    config: BastionConfig,
    runtime: GatewayRuntime,
    *,
    authenticate: Authenticate,
    protected_resource_metadata: dict[str, Any] | None = None,
) -> Starlette:
    """Assemble the Starlette app; ``runtime`` is entered in the app's lifespan."""
    http = config.listeners.http
    if http is None:
        raise ValueError("listeners.http is not configured")
    limits_settings = config.guard("limits")
    max_body = int(getattr(limits_settings, "max_body_bytes", 1_048_576))
    limits = TransportLimits(
        max_body_bytes=max_body,
        allowed_hosts=frozenset(http.effective_allowed_hosts),
        allowed_origins=frozenset(http.allowed_origins),
    )
    endpoint = HttpDownstream(
        runtime.handler,
        authenticate=authenticate,
        limits=limits,
        sessions=SessionRegistry(),
        raw_check=runtime.raw_check(),
    )

    async def relay(note: JSONRPCNotification) -> None:
        # Only list changes go to every session: they carry no data and make clients re-list
        # (through the chain, filtered per principal). Progress and log messages belong to
        # one caller's request and are never broadcast.
        if note.method.endswith("/list_changed"):
            endpoint.broadcast(note)

    runtime.gateway.set_notifier(relay)

    async def mcp(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(scope, receive, send)

    async def metadata(request: Request) -> Response:
        if protected_resource_metadata is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(protected_resource_metadata, headers={"cache-control": "max-age=300"})

    observability = config.observability
    require_scrape_auth = observability.metrics_require_auth and http.require_auth

    async def metrics(request: Request) -> Response:
        if runtime.metrics is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        if require_scrape_auth:
            who = await authenticate({k.lower(): v for k, v in request.headers.items()})
            if isinstance(who, HttpRefusal):
                return JSONResponse({"error": who.message}, status_code=who.status, headers=dict(who.headers))
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        upstreams = {name: conn.connected for name, conn in runtime.gateway.upstreams.items()}
        return JSONResponse({"status": "ok", "upstreams": upstreams})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with runtime:
            await runtime.start()
            yield

    routes = [
        Route(http.path, endpoint=_RawEndpoint(mcp), methods=["GET", "POST", "DELETE"]),
        Route("/.well-known/oauth-protected-resource" + http.path, metadata, methods=["GET"]),
        Route("/.well-known/oauth-protected-resource", metadata, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route(observability.metrics_path, metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class _RawEndpoint:
    """Lets Starlette route to a raw ASGI callable (no Request wrapper on the hot path)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)
