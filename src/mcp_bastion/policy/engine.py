"""The Cedar policy engine: compiled once, pure evaluation, decisions cached when safe.

``is_authorized`` is pure (no I/O): principal + action + resource (+ context) in, a
``PolicyDecision`` out. Evaluation errors deny (a forbid that fails to evaluate must not
turn into an allow). A cedarpy call costs ~100-200 µs here, so when no policy mentions
``context`` the decision depends only on (principal, action, resource) and is cached
(bounded; cleared when full). Safe under concurrency: the cache is a plain dict whose
single operations are atomic under the GIL; a racing miss only evaluates twice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import cedarpy

from mcp_bastion.errors import ConfigError, PolicyError
from mcp_bastion.policy.entities import ResourceRef, principal_entities
from mcp_bastion.types import Principal

__all__ = ["ACTIONS", "PolicyDecision", "PolicyEngine", "default_policy_dir"]

ACTIONS = ("call_tool", "read_resource", "get_prompt", "list", "complete")

_CACHE_MAX = 8192
_COMMENT = re.compile(r"//[^\n]*")
_CONTEXT = re.compile(r"\bcontext\b")


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The outcome: allowed or not, the ``@id`` of the determining policies, and errors."""

    allowed: bool
    policy_ids: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def default_policy_dir() -> Path:
    """The directory of the packaged default policy (``policy.cedar`` + schema)."""
    return Path(str(files("mcp_bastion.policy") / "default"))


class PolicyEngine:
    """A compiled Cedar policy set (and optional schema) with a decision cache."""

    def __init__(
        self, policies: str, *, schema: str | None = None, source: str = "<policy>", cache: bool = True
    ) -> None:
        try:
            self._policies = cedarpy.PolicySet.from_str(policies)
        except ValueError as exc:
            raise ConfigError(f"{source}: Cedar policy does not parse: {exc}") from exc
        if schema is not None:
            try:
                parsed = cedarpy.Schema.from_str(schema)
            except ValueError as exc:
                raise ConfigError(f"{source}: Cedar schema does not parse: {exc}") from exc
            result = cedarpy.validate_policies(policies, parsed)
            if not result.validation_passed:
                errors = "; ".join(str(e) for e in result.errors)
                raise ConfigError(f"{source}: policy does not validate against the schema: {errors}")
        self.source = source
        self.uses_context = _CONTEXT.search(_COMMENT.sub("", policies)) is not None
        self._cache_enabled = cache and not self.uses_context
        self._cache: dict[tuple[Any, ...], PolicyDecision] = {}

    @classmethod
    def from_dir(cls, directory: Path | None = None, *, cache: bool = True) -> PolicyEngine:
        """Load every ``*.cedar`` in ``directory`` (sorted) and its ``*.cedarschema`` if present."""
        directory = directory or default_policy_dir()
        if not directory.is_dir():
            raise ConfigError(f"policy.dir: {directory} is not a directory")
        texts = [p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.cedar"))]
        if not texts:
            raise ConfigError(f"policy.dir: no *.cedar files in {directory}")
        schemas = sorted(directory.glob("*.cedarschema"))
        if len(schemas) > 1:
            raise ConfigError(f"policy.dir: more than one *.cedarschema in {directory}")
        schema = schemas[0].read_text(encoding="utf-8") if schemas else None
        return cls("\n".join(texts), schema=schema, source=str(directory), cache=cache)

    def is_authorized(
        self,
        principal: Principal,
        action: str,
        resource: ResourceRef,
        context: Mapping[str, Any] | None = None,
    ) -> PolicyDecision:
        """Evaluate one request. Unknown actions and evaluation errors deny."""
        if action not in ACTIONS:
            return PolicyDecision(False, errors=(f"unknown action {action!r}",))
        if self._cache_enabled:
            key = (
                principal.subject,
                principal.roles,
                principal.tenant,
                principal.auth_method,
                principal.scopes,
                action,
                resource,
            )
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            decision = self._evaluate(principal, action, resource, None)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = decision
            return decision
        return self._evaluate(principal, action, resource, context)

    def _evaluate(
        self, principal: Principal, action: str, resource: ResourceRef, context: Mapping[str, Any] | None
    ) -> PolicyDecision:
        now = int(time.time())
        ctx: dict[str, Any] = {"time": now, "hour_utc": (now // 3600) % 24, "arguments": {}}
        if context:
            ctx.update(context)
        request = {
            "principal": {"type": "User", "id": principal.subject},
            "action": {"type": "Action", "id": action},
            "resource": {"type": resource.type, "id": resource.id},
            "context": ctx,
        }
        entities = [*principal_entities(principal), *resource.entities()]
        try:
            result = cedarpy.is_authorized(request, self._policies, entities)
        except (ValueError, TypeError) as exc:
            raise PolicyError(f"cedar evaluation failed: {type(exc).__name__}") from exc
        diagnostics = result.diagnostics
        errors = tuple(str(e) for e in diagnostics.errors)
        ids = diagnostics.id_annotations_by_reason
        reasons = tuple(str(ids.get(r, r)) for r in diagnostics.reasons)
        # Fail closed: an erroring forbid is skipped by Cedar, which could let a permit win.
        return PolicyDecision(result.allowed and not errors, reasons, errors)

    def cache_size(self) -> int:
        return len(self._cache)
