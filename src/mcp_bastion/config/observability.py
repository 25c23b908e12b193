"""Observability settings: Prometheus metrics, OpenTelemetry traces, log level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcp_bastion.config._base import StrictModel

__all__ = ["Observability"]


class Observability(StrictModel):
    """How the gateway reports on itself. Nothing here ever carries arguments or outputs."""

    metrics: bool = True
    """Serve Prometheus metrics at ``metrics_path`` on the HTTP listener."""
    metrics_path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9._~/-]*$")
    metrics_require_auth: bool = True
    """Scrapers authenticate like MCP clients (API key or bearer token) when the listener does."""
    tracing: Literal["off", "console", "otlp"] = "off"
    """A span per exchange with a child span per guard; ``console`` for development."""
    otlp_endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    """OTLP/HTTP traces endpoint (needs the ``opentelemetry-exporter-otlp-proto-http`` package)."""
    service_name: str = "mcp-bastion"
