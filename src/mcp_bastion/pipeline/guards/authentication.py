"""Authentication guard: no anonymous exchange passes where the listener requires auth.

The HTTP gateway authenticates each request (``mcp_bastion.pipeline.identity``) and
answers 401/403 itself; this guard is the chain's own check of the result, so a
transport that forgot to authenticate, or a message arriving without a principal, is
still refused. It also enforces ``required_scopes`` on bearer-token principals.
"""

from __future__ import annotations

from typing import Any

from mcp_bastion.config import AuthenticationSettings, BastionConfig
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.guards._common import DENIED
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.types import AuthMethod, Direction

__all__ = ["AuthenticationGuard", "anonymous_allowed", "factory"]

NAME = "authentication"
_ALLOW = Verdict.allow(NAME)
_ANONYMOUS = Verdict.deny(NAME, "authentication required", code=DENIED, rule_ids=("BST-AUTHN-001",))


def anonymous_allowed(config: BastionConfig) -> bool:
    """Only an HTTP listener explicitly configured with ``require_auth: false`` admits anonymity."""
    http = config.listeners.http
    return http is not None and not http.require_auth


class AuthenticationGuard:
    """Deny unauthenticated client messages (unless allowed) and missing scopes."""

    name = NAME
    directions = frozenset({Direction.CLIENT_TO_SERVER})

    def __init__(self, settings: AuthenticationSettings, *, allow_anonymous: bool) -> None:
        self.settings = settings
        self.allow_anonymous = allow_anonymous
        self._required = frozenset(settings.required_scopes)
        self._insufficient = Verdict.deny(
            NAME, "insufficient scope", code=DENIED, rule_ids=("BST-AUTHN-002",)
        )

    async def check(self, exchange: Exchange) -> Verdict:
        principal = exchange.principal
        if not principal.authenticated:
            return _ALLOW if self.allow_anonymous else _ANONYMOUS
        if (
            self._required
            and principal.auth_method is AuthMethod.JWT
            and not self._required <= principal.scopes
        ):
            return self._insufficient
        return _ALLOW


def factory(settings: AuthenticationSettings, ctx: Any) -> AuthenticationGuard:
    """Registry entry (see ``mcp_bastion.pipeline.guards``)."""
    return AuthenticationGuard(settings, allow_anonymous=anonymous_allowed(ctx.config))
