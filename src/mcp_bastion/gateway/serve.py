"""Run the HTTP gateway: ``bastion gateway --config FILE``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from mcp_bastion.config import BastionConfig, load_config
from mcp_bastion.errors import ConfigError
from mcp_bastion.gateway.auth import http_authenticator, resource_metadata
from mcp_bastion.gateway.http_app import build_app
from mcp_bastion.gateway.runtime import GatewayRuntime

__all__ = ["build_gateway_app", "serve_gateway"]

logger = logging.getLogger(__name__)


def build_gateway_app(config: BastionConfig) -> tuple[Starlette, GatewayRuntime]:
    """The ASGI app and the runtime behind it, from a validated config."""
    if config.listeners.http is None:
        raise ConfigError("listeners.http: the gateway needs an HTTP listener")
    runtime = GatewayRuntime(config)
    app = build_app(
        config,
        runtime,
        authenticate=http_authenticator(config),
        protected_resource_metadata=resource_metadata(config),
    )
    return app, runtime


def serve_gateway(config_file: Path, *, announce: Callable[[str], None] = print) -> None:
    """Load the config, print the MCP URL, serve until interrupted."""
    config = load_config(config_file)
    http = config.listeners.http
    if http is None:
        raise ConfigError("listeners.http: the gateway needs an HTTP listener")
    app, _runtime = build_gateway_app(config)
    announce(f"mcp-bastion gateway: MCP endpoint {http.resource_uri}")
    for name, upstream in config.upstreams.items():
        where = upstream.url or " ".join(upstream.command or ())
        announce(f"  upstream {name}: {upstream.transport} {where}")
    uvicorn.run(
        app,
        host=http.host,
        port=http.port,
        log_level="warning",
        ssl_certfile=str(http.tls_cert_file) if http.tls_cert_file else None,
        ssl_keyfile=str(http.tls_key_file) if http.tls_key_file else None,
        server_header=False,
    )
