"""OpenTelemetry traces: a span per exchange with a child span per guard.

Enabled by ``observability.tracing`` (``console`` for development, ``otlp`` for a
collector). Spans carry the method, upstream, tool name, decision and guard; never
arguments, outputs or reason text. With tracing off nothing here is on the hot path.
"""

from __future__ import annotations

from typing import Any

from mcp_types import JSONRPCError, JSONRPCMessage
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from mcp_bastion.config import Observability
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.chain import Chain
from mcp_bastion.pipeline.interface import Guard
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.transports.downstream import Downstream, MessageHandler

__all__ = ["TracedGuard", "make_tracer", "trace_chain", "traced_handler"]


def _exporter(settings: Observability) -> SpanExporter:
    if settings.tracing == "console":
        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise ConfigError(
            "observability.tracing: otlp needs the opentelemetry-exporter-otlp-proto-http package"
        ) from exc
    exporter: SpanExporter = (
        OTLPSpanExporter(endpoint=settings.otlp_endpoint) if settings.otlp_endpoint else OTLPSpanExporter()
    )
    return exporter


def make_tracer(settings: Observability) -> trace.Tracer | None:
    """A tracer for the configured exporter, or None when tracing is off."""
    if settings.tracing == "off":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    return provider.get_tracer("mcp_bastion.gateway")


class TracedGuard:
    """A guard wrapped in a child span named after it."""

    def __init__(self, guard: Guard, tracer: trace.Tracer) -> None:
        self.name = guard.name
        self._guard = guard
        self._tracer = tracer
        directions = getattr(guard, "directions", None)
        if directions is not None:
            self.directions = directions

    def __getattr__(self, item: str) -> Any:
        # Hooks the runtime looks up on guards (needs_relist, record) stay reachable.
        return getattr(self._guard, item)

    async def check(self, exchange: Exchange) -> Verdict:
        with self._tracer.start_as_current_span(f"guard {self.name}") as span:
            verdict = await self._guard.check(exchange)
            span.set_attribute("bastion.decision", verdict.decision.value)
            return verdict


def trace_chain(chain: Chain, tracer: trace.Tracer) -> Chain:
    """The same chain with every guard traced (same order, same time budget)."""
    return Chain([TracedGuard(g, tracer) for g in chain.guards], timeout_s=chain.timeout_s)


def traced_handler(handler: MessageHandler, tracer: trace.Tracer) -> MessageHandler:
    """Wrap the core's entry point in one span per client message (the guards' parent)."""

    async def handle(message: JSONRPCMessage, downstream: Downstream) -> JSONRPCMessage | None:
        method = getattr(message, "method", None) or "response"
        with tracer.start_as_current_span(f"mcp {method}") as span:
            span.set_attribute("mcp.method", method)
            span.set_attribute("mcp.protocol_version", downstream.protocol_version)
            params = getattr(message, "params", None) or {}
            name = params.get("name") if isinstance(params, dict) else None
            if method == "tools/call" and isinstance(name, str) and len(name) <= 128:
                span.set_attribute("mcp.tool", name)
            reply = await handler(message, downstream)
            if isinstance(reply, JSONRPCError):
                span.set_attribute("mcp.error_code", reply.error.code)
            return reply

    return handle
