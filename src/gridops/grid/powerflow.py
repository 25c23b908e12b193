"""Power flow on a snapshot of the grid, and the impact of one switching action.

A snapshot is the base network with the switch states from the database and the latest
measured active power of every load and generator. Limits (documented in the data card):
line and transformer loading above ``LOADING_LIMIT_PCT``; bus voltage outside
``VM_MIN_PU``..``VM_MAX_PU`` (MV planning band). All pandapower work runs under
``pandapower_lock``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gridops.grid.networks import base_network, pandapower_lock

__all__ = [
    "LOADING_LIMIT_PCT",
    "VM_MAX_PU",
    "VM_MIN_PU",
    "Action",
    "FlowResult",
    "SimulationResult",
    "run_snapshot",
    "simulate",
]

Action = Literal["open", "close"]
LOADING_LIMIT_PCT = 100.0
VM_MIN_PU = 0.90
VM_MAX_PU = 1.10


@dataclass(frozen=True)
class FlowResult:
    """What one power flow says about the grid."""

    converged: bool
    unsupplied_buses: frozenset[int]
    line_loading: dict[int, float]
    trafo_loading: dict[int, float]
    vm_pu: dict[int, float]  # energised buses only

    def violations(self) -> dict[str, float]:
        """Limit violations keyed by a stable label, valued by severity (higher is worse)."""
        found: dict[str, float] = {}
        for idx, pct in self.line_loading.items():
            if pct > LOADING_LIMIT_PCT:
                found[f"line:{idx} loading"] = pct
        for idx, pct in self.trafo_loading.items():
            if pct > LOADING_LIMIT_PCT:
                found[f"trafo:{idx} loading"] = pct
        for idx, vm in self.vm_pu.items():
            if vm < VM_MIN_PU:
                found[f"bus:{idx} undervoltage"] = VM_MIN_PU - vm
            elif vm > VM_MAX_PU:
                found[f"bus:{idx} overvoltage"] = vm - VM_MAX_PU
        return found

    def summary(self) -> dict[str, Any]:
        """Maxima and ranges, JSON-ready (``None`` where the flow did not converge)."""

        def top(values: Mapping[int, float]) -> float | None:
            return round(max(values.values()), 3) if values else None

        return {
            "converged": self.converged,
            "max_line_loading_pct": top(self.line_loading),
            "max_trafo_loading_pct": top(self.trafo_loading),
            "vm_pu_min": round(min(self.vm_pu.values()), 5) if self.vm_pu else None,
            "vm_pu_max": round(max(self.vm_pu.values()), 5) if self.vm_pu else None,
            "unsupplied_buses": len(self.unsupplied_buses),
        }


def _finite(series: Any) -> dict[int, float]:
    return {int(i): float(v) for i, v in series.items() if v is not None and math.isfinite(float(v))}


def _apply(net: Any, switches: Mapping[int, bool], power: Mapping[str, float]) -> None:
    for idx, closed in switches.items():
        net.switch.at[idx, "closed"] = bool(closed)
    for idx in net.load.index:
        p = power.get(f"load:{idx}")
        if p is not None:
            nominal = float(net.load.at[idx, "p_mw"])
            ratio = p / nominal if nominal else 0.0
            net.load.at[idx, "q_mvar"] = float(net.load.at[idx, "q_mvar"]) * ratio
            net.load.at[idx, "p_mw"] = p
            net.load.at[idx, "scaling"] = 1.0
    for idx in net.sgen.index:
        p = power.get(f"sgen:{idx}")
        if p is not None:
            net.sgen.at[idx, "p_mw"] = p
            net.sgen.at[idx, "scaling"] = 1.0


def _flow(net: Any) -> FlowResult:
    import pandapower as pp
    import pandapower.topology as top

    unsupplied = frozenset(int(b) for b in top.unsupplied_buses(net))
    try:
        pp.runpp(net, numba=False)
    except (pp.LoadflowNotConverged, ValueError, IndexError, ZeroDivisionError):
        # Non-convergence (or a degenerate island pandapower cannot solve) is a result.
        return FlowResult(False, unsupplied, {}, {}, {})
    vm = {i: v for i, v in _finite(net.res_bus.vm_pu).items() if i not in unsupplied}
    return FlowResult(
        True, unsupplied, _finite(net.res_line.loading_percent), _finite(net.res_trafo.loading_percent), vm
    )


def run_snapshot(network: str, switches: Mapping[int, bool], power: Mapping[str, float]) -> FlowResult:
    """Run one power flow on ``network`` with the given switch states and active powers."""
    with pandapower_lock:
        net = base_network(network)
        _apply(net, switches, power)
        return _flow(net)


@dataclass(frozen=True)
class SimulationResult:
    """The impact of one switching action, computed but not applied."""

    switch_id: int
    action: Action
    state_version: int
    feasible: bool
    violations: list[str]
    deenergized_buses: list[str] = field(default_factory=list)
    load_lost_mw: float = 0.0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The full impact as a JSON-ready dict."""
        return {
            "switch_id": self.switch_id,
            "action": self.action,
            "state_version": self.state_version,
            "feasible": self.feasible,
            "violations": list(self.violations),
            "deenergized_buses": list(self.deenergized_buses),
            "load_lost_mw": self.load_lost_mw,
            "max_line_loading_pct": {
                "before": self.before.get("max_line_loading_pct"),
                "after": self.after.get("max_line_loading_pct"),
            },
            "max_trafo_loading_pct": {
                "before": self.before.get("max_trafo_loading_pct"),
                "after": self.after.get("max_trafo_loading_pct"),
            },
            "vm_pu_min": {"before": self.before.get("vm_pu_min"), "after": self.after.get("vm_pu_min")},
            "vm_pu_max": {"before": self.before.get("vm_pu_max"), "after": self.after.get("vm_pu_max")},
            "limits": {"loading_pct_max": LOADING_LIMIT_PCT, "vm_pu_min": VM_MIN_PU, "vm_pu_max": VM_MAX_PU},
        }


def simulate(
    network: str,
    switches: Mapping[int, bool],
    power: Mapping[str, float],
    *,
    switch_id: int,
    action: Action,
    state_version: int,
    before: FlowResult | None = None,
) -> SimulationResult:
    """Power flow before and after setting ``switch_id`` to ``action``; report what changed.

    ``before`` may pass a flow already computed for exactly these switch states and powers
    (the service caches one per state version); it saves one of the two power flows.
    """
    with pandapower_lock:
        net = base_network(network)
        _apply(net, switches, power)
        load_by_bus: dict[int, float] = {}
        for _, row in net.load.iterrows():
            if bool(row.in_service):
                p = float(row.p_mw) * float(row.scaling)
                load_by_bus[int(row.bus)] = load_by_bus.get(int(row.bus), 0.0) + p
        if before is None:
            before = _flow(net)
        net.switch.at[switch_id, "closed"] = action == "close"
        after = _flow(net)
    lost = sorted(after.unsupplied_buses - before.unsupplied_buses)
    load_lost = round(float(sum(load_by_bus.get(b, 0.0) for b in lost)), 6)
    violations: list[str] = []
    if not after.converged:
        violations.append("power flow did not converge after the action")
    old = before.violations()
    for label, severity in sorted(after.violations().items()):
        if label not in old:
            violations.append(f"{label} (new)")
        elif severity > old[label] + 1e-9:
            violations.append(f"{label} (worse)")
    return SimulationResult(
        switch_id=switch_id,
        action=action,
        state_version=state_version,
        feasible=after.converged,
        violations=violations,
        deenergized_buses=[f"bus:{b}" for b in lost],
        load_lost_mw=load_lost,
        before=before.summary(),
        after=after.summary(),
    )
