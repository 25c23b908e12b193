"""Prometheus metrics of the gateway, in a registry of its own (one per runtime).

Labels never carry caller-controlled text: methods outside the MCP method set become
``other``, tools not in the upstream's catalog ``unknown``, and denials are labelled by
guard name and stable rule ID only (never by reason text, arguments or outputs), so a
secret in a request cannot reach a label and an attacker cannot grow the label space.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.transports.upstream import UpstreamConnection

__all__ = ["CONTENT_TYPE", "GatewayMetrics"]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
_METHODS: Final = frozenset(
    {
        "initialize",
        "server/discover",
        "ping",
        "tools/list",
        "tools/call",
        "prompts/list",
        "prompts/get",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "completion/complete",
        "logging/setLevel",
    }
)
_LATENCY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _UpstreamHealth(Collector):
    def __init__(self, upstreams: Mapping[str, UpstreamConnection]) -> None:
        self._upstreams = upstreams

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "bastion_upstream_up", "1 if the upstream connection is up", labels=["upstream"]
        )
        for name, connection in self._upstreams.items():
            gauge.add_metric([name], 1.0 if connection.connected else 0.0)
        yield gauge


class GatewayMetrics:
    """Counters and histograms the gateway core updates on every decision."""

    def __init__(self, upstreams: Mapping[str, UpstreamConnection], catalog: Catalog) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._upstreams = frozenset(upstreams)
        self._catalog = catalog
        self.requests = Counter(
            "bastion_requests",
            "Messages decided, by method, upstream and decision",
            ["method", "upstream", "decision"],
            registry=self.registry,
        )
        self.denials = Counter(
            "bastion_denials", "Denials by guard and rule ID", ["guard", "rule"], registry=self.registry
        )
        self.latency = Histogram(
            "bastion_request_duration_seconds",
            "Time from receipt to decision/result, per upstream and tool",
            ["upstream", "tool"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "bastion_store_errors",
            "Guard denials caused by an unreachable store",
            ["guard"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "bastion_upstream_errors",
            "Requests failed by an upstream error",
            ["upstream"],
            registry=self.registry,
        )
        self.audit_failures = Counter(
            "bastion_audit_failures", "Audit records that could not be written", registry=self.registry
        )
        self.registry.register(_UpstreamHealth(upstreams))

    def observe(
        self, *, method: str | None, upstream: str | None, tool: str | None, verdict: Verdict, seconds: float
    ) -> None:
        method_label = method if method in _METHODS else "other"
        upstream_label = upstream if upstream in self._upstreams else "-"
        self.requests.labels(method_label, upstream_label, verdict.decision.value).inc()
        if not verdict.allowed:
            rule = verdict.rule_ids[0] if verdict.rule_ids else "-"
            self.denials.labels(verdict.guard or "-", rule).inc()
            if verdict.detail == "StoreUnavailableError":
                self.store_errors.labels(verdict.guard or "-").inc()
        if method == "tools/call" and upstream in self._upstreams:
            known = tool is not None and self._catalog.tool(upstream, tool) is not None
            self.latency.labels(upstream, tool if known else "unknown").observe(seconds)

    def audit_failure(self) -> None:
        self.audit_failures.inc()

    def upstream_error(self, upstream: str | None) -> None:
        self.upstream_errors.labels(upstream if upstream in self._upstreams else "-").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
