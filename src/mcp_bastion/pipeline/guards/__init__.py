"""Guards, one module each, and the registry ``build_chain`` builds them from.

Registry pattern (how a guard joins the chain):

- Each guard module ``mcp_bastion.pipeline.guards.<name>`` exposes
  ``def factory(settings: <ItsSettings>, ctx: BuildContext) -> Guard``. ``settings`` is
  the guard's entry from ``bastion.yaml`` (``mcp_bastion.config.guards``), ``ctx`` the
  ``mcp_bastion.pipeline.chain.BuildContext`` (config, catalog, stores, extras).
- ``GUARD_MODULES`` maps the configured name to its module. Modules are imported lazily by
  ``build_chain``, so a configured guard whose module is missing fails loudly at build time
  (``ConfigError``) while importing this package never does.
- ``GUARD_FACTORIES`` takes explicit registrations that win over the module map (tests,
  applications adding their own guard): ``GUARD_FACTORIES["mine"] = my_factory``.
- A guard that only concerns one direction sets ``directions = frozenset({Direction...})``
  and is then only placed in that direction's chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_bastion.pipeline.interface import Guard

__all__ = ["GUARD_FACTORIES", "GUARD_MODULES", "GuardFactory"]

GuardFactory = Callable[[Any, Any], "Guard"]
"""``factory(settings, ctx: BuildContext) -> Guard``."""

_PKG = "mcp_bastion.pipeline.guards"

GUARD_MODULES: dict[str, str] = {
    "authentication": f"{_PKG}.authentication",
    "limits": f"{_PKG}.limits",
    "ratelimit": f"{_PKG}.ratelimit",
    "authorization": f"{_PKG}.authorization",
    "arguments": f"{_PKG}.arguments",
    # Built by the pinning/notifications/output/description/audit work (H6b).
    "pinning": f"{_PKG}.pinning",
    "notifications": f"{_PKG}.notifications",
    "output": f"{_PKG}.output",
    "descriptions": f"{_PKG}.descriptions",
    "audit": f"{_PKG}.audit",
}

GUARD_FACTORIES: dict[str, GuardFactory] = {}
