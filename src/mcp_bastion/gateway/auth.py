"""HTTP authentication for the gateway: the pipeline's Authenticator as a transport callable."""

from __future__ import annotations

from typing import Any

from mcp_bastion.config import BastionConfig
from mcp_bastion.pipeline.identity import (
    Authenticator,
    AuthFailure,
    protected_resource_metadata,
    resource_metadata_url,
)
from mcp_bastion.transports.http_downstream import Authenticate, HttpRefusal
from mcp_bastion.types import ANONYMOUS, Principal

__all__ = ["http_authenticator", "resource_metadata"]


def http_authenticator(config: BastionConfig) -> Authenticate:
    """Credentials in headers -> Principal, or a 401/403 refusal with the RFC 9728 pointer.

    With ``require_auth: false`` (loopback only) a request without credentials is served as
    the anonymous principal; presented credentials are still verified and a bad one refused.
    """
    http = config.listeners.http
    if http is None:
        raise ValueError("listeners.http is not configured")
    authenticator = Authenticator.from_config(config)
    metadata_url = resource_metadata_url(http.resource_uri)
    key_header = config.identities.api_key_header.lower()
    require = http.require_auth

    async def authenticate(headers: dict[str, str]) -> Principal | HttpRefusal:
        api_key = headers.get(key_header)
        authorization = headers.get("authorization")
        if not require and api_key is None and authorization is None:
            return ANONYMOUS
        result = await authenticator.authenticate(authorization, api_key=api_key)
        if isinstance(result, AuthFailure):
            challenge = result.www_authenticate(metadata_url)
            return HttpRefusal(result.status, result.description, (("WWW-Authenticate", challenge),))
        return result

    return authenticate


def resource_metadata(config: BastionConfig) -> dict[str, Any]:
    """The RFC 9728 document served under ``/.well-known/oauth-protected-resource``."""
    return protected_resource_metadata(config)
