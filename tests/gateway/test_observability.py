"""Metrics, traces and logs: useful, bounded, and never carrying a secret from a request."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from mcp_types import JSONRPCRequest, JSONRPCResponse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.gateway.harness import GatewayFactory, principal

from mcp_bastion.gateway.tracing import trace_chain, traced_handler
from mcp_bastion.log import configure_logging
from mcp_bastion.transports.downstream import Downstream

pytestmark = pytest.mark.anyio

OPERATOR = principal("operator")
SECRET = "AKIAIOSFODNN7EXAMPLE"
SECRET_PASSWORD = "hunter2-Sup3rS3cret-pw"


def leaky_server() -> MCPServer[Any]:
    """Echoes its input and leaks a credential in its output."""
    server: MCPServer[Any] = MCPServer("leaky")

    def lookup(query: str) -> str:
        return f"result for {query}; aws_access_key_id={SECRET} password={SECRET_PASSWORD}"

    server.add_tool(lookup, description="Look something up.", annotations=ToolAnnotations(readOnlyHint=True))
    return server


async def test_metrics_count_decisions_with_bounded_labels(gateway_for: GatewayFactory) -> None:
    async with gateway_for({"leaky": leaky_server()}) as gw:
        ok = await gw.call(OPERATOR, "leaky.lookup", {"query": "x"})
        assert isinstance(ok, JSONRPCResponse)
        await gw.call(OPERATOR, "leaky.no-such-tool-" + "z" * 40, {})
        await gw.send(OPERATOR, "made/up-method-" + "q" * 40)
        metrics = gw.runtime.metrics
        assert metrics is not None
        text = metrics.render().decode()
    # The leak in the output was redacted: the decision is "modify".
    assert 'bastion_requests_total{decision="modify",method="tools/call",upstream="leaky"} 1.0' in text
    assert 'bastion_request_duration_seconds_count{tool="lookup",upstream="leaky"} 1.0' in text
    assert "bastion_upstream_up" in text
    assert 'method="other"' in text  # an unknown method does not become a label
    assert "zzzz" not in text and "qqqq" not in text


async def test_secrets_never_reach_logs_metrics_or_the_audit_file(
    gateway_for: GatewayFactory, tmp_path: Path
) -> None:
    stream = io.StringIO()
    configure_logging(level="DEBUG", stream=stream)  # tests/conftest.py restores logging afterwards
    async with gateway_for({"leaky": leaky_server()}) as gw:
        query = f"token {SECRET} password={SECRET_PASSWORD}"
        reply = await gw.call(OPERATOR, "leaky.lookup", {"query": query})
        assert isinstance(reply, JSONRPCResponse)
        released = json.dumps(reply.result)
        metrics = gw.runtime.metrics
        assert metrics is not None
        text = metrics.render().decode()
        await gw.runtime.gateway.drain()
    logs = stream.getvalue()
    assert "mcp.decision" in logs  # the access log line was written
    for secret in (SECRET, SECRET_PASSWORD):
        assert secret not in logs
        assert secret not in text
        assert secret not in released  # the output guard redacted the leak before release
    audit = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert audit.strip()
    assert SECRET not in audit and SECRET_PASSWORD not in audit


async def test_tracing_gives_a_span_per_exchange_with_a_child_per_guard(gateway_for: GatewayFactory) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    async with gateway_for({"leaky": leaky_server()}) as gw:
        gateway = gw.runtime.gateway
        gateway.c2s = trace_chain(gw.runtime.c2s, tracer)
        gateway.s2c = trace_chain(gw.runtime.s2c, tracer)
        handle = traced_handler(gateway.handle, tracer)
        request = JSONRPCRequest(
            jsonrpc="2.0",
            id=99,
            method="tools/call",
            params={"name": "leaky.lookup", "arguments": {"query": SECRET}},
        )
        await handle(request, Downstream(principal=OPERATOR))
    spans = exporter.get_finished_spans()
    root = next(s for s in spans if s.name == "mcp tools/call")
    guards = [s for s in spans if s.name.startswith("guard ")]
    assert {"guard authorization", "guard arguments", "guard output"} <= {s.name for s in guards}
    assert all(s.parent is not None and s.parent.span_id == root.context.span_id for s in guards)
    assert root.attributes is not None and root.attributes["mcp.tool"] == "leaky.lookup"
    for span in spans:
        assert SECRET not in json.dumps(dict(span.attributes or {}))
