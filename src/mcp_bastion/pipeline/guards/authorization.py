"""Authorization with Cedar: every request is a (principal, action, resource, context).

Client-to-server: ``tools/call`` -> ``call_tool`` on ``Tool::"<upstream>/<tool>"`` (a
tool not in the ``Catalog`` is denied before Cedar), ``resources/read|subscribe|
unsubscribe`` -> ``read_resource``, ``prompts/get`` -> ``get_prompt`` (unknown prompts
denied), ``*/list`` -> ``list`` and ``completion/complete`` -> ``complete`` on the server.
Protocol housekeeping (initialize, ping, discover, notifications, tasks) is not a policy
decision. Server-to-client: list results are filtered (MODIFY) to what the principal may
use, so a client never sees a tool it may not call.

Tool capability classes come from the detectors' classifier united with the policy
package's own small one; annotations are passed as hints and the policy decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_types import JSONRPCResponse

from mcp_bastion.config import AuthorizationSettings, BastionConfig
from mcp_bastion.detectors import classify_capabilities
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.guards._common import DENIED, INVALID_PARAMS, split_tool
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.policy import (
    PolicyEngine,
    ResourceRef,
    classify_tool,
    prompt_resource,
    resource_resource,
    server_resource,
    shallow_arguments,
    tool_resource,
)
from mcp_bastion.types import Direction, Principal

__all__ = ["GATEWAY_SERVER", "AuthorizationGuard", "factory", "tool_capabilities"]

NAME = "authorization"
GATEWAY_SERVER = "*"
"""Server id of gateway-level requests (an aggregated list); no upstream can be named ``*``."""

_ALLOW = Verdict.allow(NAME)
_LIST_METHODS = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
}
_RESOURCE_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})


def tool_capabilities(tool: Mapping[str, Any]) -> frozenset[str]:
    """Capabilities of a tool: the detectors' classifier united with the policy's own."""
    return frozenset(c.value for c in classify_capabilities(tool)) | classify_tool(tool)


class AuthorizationGuard:
    """Cedar decisions on requests; list filtering on responses."""

    name = NAME

    def __init__(self, engine: PolicyEngine, catalog: Catalog, settings: AuthorizationSettings) -> None:
        self.engine = engine
        self.catalog = catalog
        self.settings = settings
        # (upstream, tool) -> (the catalog's definition object, its resource); the definition
        # is held so an identity check detects a re-listed (replaced) definition.
        self._tools: dict[tuple[str, str], tuple[Mapping[str, Any], ResourceRef]] = {}

    async def check(self, exchange: Exchange) -> Verdict:
        if exchange.is_request or exchange.is_notification:
            if exchange.direction is Direction.CLIENT_TO_SERVER:
                return self._request(exchange)
            return _ALLOW
        request = exchange.request
        if self.settings.filter_lists and request is not None and exchange.result is not None:
            key = _LIST_METHODS.get(request.method or "")
            if key is not None:
                return self._filter_response(exchange, key)
        return _ALLOW

    # -- requests ----------------------------------------------------------------------

    def _request(self, exchange: Exchange) -> Verdict:
        method = exchange.method
        if method == "tools/call":
            return self._call_tool(exchange)
        if not exchange.is_request:
            return _ALLOW
        upstream = exchange.upstream
        params = exchange.params
        if method in _RESOURCE_METHODS:
            uri = params.get("uri")
            if upstream is None or not isinstance(uri, str):
                return Verdict.deny(
                    NAME, "unknown resource", code=INVALID_PARAMS, rule_ids=("BST-AUTHZ-002",)
                )
            return self._decide(exchange.principal, "read_resource", resource_resource(upstream, uri), None)
        if method == "prompts/get":
            name = params.get("name")
            if not isinstance(name, str):
                return Verdict.deny(NAME, "unknown prompt", code=INVALID_PARAMS, rule_ids=("BST-AUTHZ-002",))
            resolved = split_tool(exchange, name)
            surface = None if resolved is None else self.catalog.surface(resolved[0])
            if resolved is None or surface is None or resolved[1] not in surface.prompts:
                return Verdict.deny(NAME, "unknown prompt", code=INVALID_PARAMS, rule_ids=("BST-AUTHZ-002",))
            return self._decide(exchange.principal, "get_prompt", prompt_resource(*resolved), None)
        if method in _LIST_METHODS:
            return self._decide(exchange.principal, "list", server_resource(upstream or GATEWAY_SERVER), None)
        if method == "completion/complete":
            return self._decide(
                exchange.principal, "complete", server_resource(upstream or GATEWAY_SERVER), None
            )
        return _ALLOW

    def _call_tool(self, exchange: Exchange) -> Verdict:
        resolved = split_tool(exchange)
        resource = None if resolved is None else self._tool_resource(*resolved)
        if resource is None:
            return Verdict.deny(NAME, "unknown tool", code=INVALID_PARAMS, rule_ids=("BST-AUTHZ-001",))
        context = None
        if self.engine.uses_context:
            args = exchange.params.get("arguments")
            shallow = (
                shallow_arguments(args, self.settings.max_context_bytes) if isinstance(args, dict) else {}
            )
            context = {"arguments": shallow}
        return self._decide(exchange.principal, "call_tool", resource, context)

    def _tool_resource(self, upstream: str, tool: str) -> ResourceRef | None:
        definition = self.catalog.tool(upstream, tool)
        if definition is None:
            return None
        cached = self._tools.get((upstream, tool))
        if cached is not None and cached[0] is definition:
            return cached[1]
        resource = tool_resource(upstream, definition, tool_capabilities(definition))
        self._tools[(upstream, tool)] = (definition, resource)
        return resource

    def _decide(
        self, principal: Principal, action: str, resource: ResourceRef, context: Mapping[str, Any] | None
    ) -> Verdict:
        decision = self.engine.is_authorized(principal, action, resource, context)
        if decision.allowed:
            return _ALLOW
        rules = decision.policy_ids or ("BST-AUTHZ-000",)  # 000: no policy permits it
        what = resource.id if resource.type != "Server" else "this server"
        return Verdict.deny(
            NAME,
            f"permission denied: {action} on {what}",
            code=DENIED,
            rule_ids=rules,
            detail="; ".join(decision.errors),
        )

    # -- list filtering ----------------------------------------------------------------

    def allowed_tool(self, principal: Principal, upstream: str, tool: Mapping[str, Any]) -> bool:
        """Whether ``principal`` may call ``tool`` of ``upstream`` (a definition as listed)."""
        name = tool.get("name")
        if not isinstance(name, str):
            return False
        resource = tool_resource(upstream, tool, tool_capabilities(tool))
        return self.engine.is_authorized(principal, "call_tool", resource).allowed

    def filter_list(
        self, principal: Principal, upstream: str, tools: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The tools of ``upstream`` that ``principal`` may call (list order kept)."""
        return [t for t in tools if self.allowed_tool(principal, upstream, t)]

    def _filter_items(self, principal: Principal, upstream: str, key: str, items: Sequence[Any]) -> list[Any]:
        if key == "tools":
            return self.filter_list(principal, upstream, [i for i in items if isinstance(i, Mapping)])
        out = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if key == "prompts":
                ref = prompt_resource(upstream, str(item.get("name", "")))
                action = "get_prompt"
            else:
                uri = item.get("uri") if key == "resources" else item.get("uriTemplate")
                ref = resource_resource(upstream, str(uri))
                action = "read_resource"
            if self.engine.is_authorized(principal, action, ref).allowed:
                out.append(item)
        return out

    def _filter_response(self, exchange: Exchange, key: str) -> Verdict:
        result = exchange.result or {}
        items = result.get(key)
        if not isinstance(items, list):
            return _ALLOW
        upstream = exchange.upstream
        if upstream is None:
            # An unattributed list cannot be checked against the catalog: show nothing.
            kept: list[Any] = []
        else:
            kept = self._filter_items(exchange.principal, upstream, key, items)
        if len(kept) == len(items):
            return _ALLOW
        message = exchange.message
        assert isinstance(message, JSONRPCResponse)
        filtered = message.model_copy(update={"result": {**result, key: kept}})
        return Verdict.modify(
            NAME, filtered, f"{len(items) - len(kept)} {key} hidden by policy", rule_ids=("BST-AUTHZ-010",)
        )


def build_engine(config: BastionConfig) -> PolicyEngine:
    """The compiled policy of ``config`` (the packaged default when ``policy.dir`` is unset)."""
    return PolicyEngine.from_dir(config.policy.dir, cache=config.policy.cache_decisions)


def factory(settings: AuthorizationSettings, ctx: Any) -> AuthorizationGuard:
    """Registry entry (see ``mcp_bastion.pipeline.guards``)."""
    return AuthorizationGuard(build_engine(ctx.config), ctx.catalog, settings)
