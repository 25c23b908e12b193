"""The Grid Operations MCP server: tools, resources, prompts, roles and tokens.

``build_server(service, settings)`` is the factory; ``bastion gridops serve`` wires it to
stdio or Streamable HTTP. See ``docs/gridops.md`` for the tools and the roles matrix.
"""

from __future__ import annotations

from gridops.server.app import build_http_app, build_server
from gridops.server.auth import JwtIssuer, JwtTokenVerifier, TokenSettings
from gridops.server.roles import MATRIX, Principal, Role
from gridops.server.settings import ServerSettings
from gridops.server.simulation import SimulationTokens

__all__ = [
    "MATRIX",
    "JwtIssuer",
    "JwtTokenVerifier",
    "Principal",
    "Role",
    "ServerSettings",
    "SimulationTokens",
    "TokenSettings",
    "build_http_app",
    "build_server",
]
