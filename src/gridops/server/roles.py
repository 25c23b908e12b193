"""Roles, the one authorization matrix of the Grid Ops server, and who is calling.

Role order: ``viewer`` < ``operator`` / ``engineer`` < ``supervisor``. ``operator`` and
``engineer`` are siblings, not ranks: operators run the grid (switching), engineers
maintain its data and plan work. ``supervisor`` may do everything, including operating a
switch whose simulation shows limit violations.

Over HTTP the principal comes from the verified bearer token (the SDK's auth middleware
stores it in a context variable that follows each request into the tool's worker thread);
over stdio and in-process it is the locally configured identity. When the server is built
for bearer auth and no token is present the caller has no roles: fail closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver.exceptions import ToolError

__all__ = [
    "MATRIX",
    "OVERRIDE_VIOLATIONS",
    "Principal",
    "Role",
    "allowed_roles",
    "authorize",
    "current_principal",
    "parse_roles",
]


class Role(StrEnum):
    """The four roles of the Grid Ops server."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    SUPERVISOR = "supervisor"


_V, _O, _E, _S = Role.VIEWER, Role.OPERATOR, Role.ENGINEER, Role.SUPERVISOR
_EVERYONE = frozenset({_V, _O, _E, _S})

# The authorization matrix: action -> roles allowed. docs/gridops.md shows the same table;
# tests/gridops/server/test_roles.py checks every tool against it for every role.
MATRIX: dict[str, frozenset[Role]] = {
    # read-only tools and resources
    "get_topology": _EVERYONE,
    "get_asset": _EVERYONE,
    "query_measurements": _EVERYONE,
    "list_outages": _EVERYONE,
    "analyze_load_pattern": _EVERYONE,
    "predict_outage_risk": _EVERYONE,
    "query_records": _EVERYONE,
    "run_report": _EVERYONE,
    "read_resource": _EVERYONE,
    "get_prompt": _EVERYONE,
    # writes: engineers maintain the records; operators and engineers both raise work orders
    "insert_record": frozenset({_E, _S}),
    "create_work_order": frozenset({_O, _E, _S}),
    # control: engineers may plan (simulate); only operators and supervisors act
    "simulate_switching": frozenset({_O, _E, _S}),
    "operate_switch": frozenset({_O, _S}),
}

# Operating a switch whose simulated state has new limit violations.
OVERRIDE_VIOLATIONS = "override_violations"
MATRIX[OVERRIDE_VIOLATIONS] = frozenset({_S})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject and the roles it holds."""

    subject: str
    roles: frozenset[Role]
    authenticated_by: str  # "bearer" or "local"

    def may(self, action: str) -> bool:
        """Whether any of the principal's roles is allowed ``action`` (unknown actions: no)."""
        return bool(self.roles & MATRIX.get(action, frozenset()))


def parse_roles(values: Iterable[object]) -> frozenset[Role]:
    """The known roles among ``values``; anything else is ignored, never guessed."""
    known = {role.value: role for role in Role}
    return frozenset(known[v] for v in values if isinstance(v, str) and v in known)


def allowed_roles(action: str) -> list[str]:
    """The roles allowed ``action``, in role order, for messages and docs."""
    return [role.value for role in Role if role in MATRIX.get(action, frozenset())]


def current_principal(local: Principal | None) -> Principal:
    """The caller of the current request.

    ``local`` is the configured identity of a stdio/in-process server, or ``None`` for a
    server that requires bearer tokens; then the verified token is the only source.
    """
    if local is not None:
        return local
    token = get_access_token()
    if token is None:
        return Principal(subject="anonymous", roles=frozenset(), authenticated_by="none")
    claims = token.claims or {}
    raw_roles = claims.get("roles", [])
    roles = parse_roles(raw_roles if isinstance(raw_roles, list) else [])
    return Principal(subject=token.subject or token.client_id, roles=roles, authenticated_by="bearer")


def authorize(principal: Principal, action: str) -> None:
    """Raise a ``ToolError`` naming the roles needed unless ``principal`` may do ``action``."""
    if principal.may(action):
        return
    held = ", ".join(sorted(r.value for r in principal.roles)) or "none"
    needed = " or ".join(allowed_roles(action)) or "no role"
    raise ToolError(f"permission denied: {action} requires role {needed} (you have: {held})")
