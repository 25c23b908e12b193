"""Power flow snapshots and switching simulation on the real network."""

from __future__ import annotations

from gridops.grid.networks import base_network
from gridops.grid.powerflow import run_snapshot, simulate


def _normal_states() -> dict[int, bool]:
    net = base_network("mv_oberrhein")
    return {int(i): bool(c) for i, c in net.switch.closed.items()}


def _scaled_loads(factor: float) -> dict[str, float]:
    net = base_network("mv_oberrhein")
    return {f"load:{i}": float(p) * factor for i, p in net.load.p_mw.items()}


def test_base_case_converges_within_limits() -> None:
    flow = run_snapshot("mv_oberrhein", _normal_states(), {})
    assert flow.converged
    assert not flow.unsupplied_buses
    assert flow.violations() == {}
    assert 0.9 <= min(flow.vm_pu.values()) <= max(flow.vm_pu.values()) <= 1.1


def test_opening_a_feeder_switch_deenergises_buses() -> None:
    result = simulate("mv_oberrhein", _normal_states(), {}, switch_id=0, action="open", state_version=3)
    assert result.feasible
    assert result.state_version == 3
    assert len(result.deenergized_buses) == 16
    assert result.load_lost_mw > 0
    assert result.to_dict()["max_line_loading_pct"]["before"] is not None


def test_overload_is_reported_as_violations() -> None:
    flow = run_snapshot("mv_oberrhein", _normal_states(), _scaled_loads(1.2))
    assert flow.converged
    labels = flow.violations()
    assert "trafo:114 loading" in labels
    assert any(label.endswith("undervoltage") for label in labels)
    assert any(label.startswith("line:") for label in labels)


def test_only_new_or_worse_violations_are_listed() -> None:
    power = _scaled_loads(1.2)
    states = _normal_states()
    before = run_snapshot("mv_oberrhein", states, power).violations()
    after = run_snapshot("mv_oberrhein", {**states, 14: True}, power).violations()
    result = simulate("mv_oberrhein", states, power, switch_id=14, action="close", state_version=1)
    expected = sorted(
        f"{label} (new)" if label not in before else f"{label} (worse)"
        for label, severity in after.items()
        if label not in before or severity > before[label] + 1e-9
    )
    assert sorted(result.violations) == expected
    # Shedding a feeder removes its violations; none of them may be reported.
    shed = simulate("mv_oberrhein", states, power, switch_id=0, action="open", state_version=1)
    assert not any(v.split(" ")[0] in shed.deenergized_buses for v in shed.violations)


def test_non_convergence_is_reported() -> None:
    absurd = _scaled_loads(10.0)
    flow = run_snapshot("mv_oberrhein", _normal_states(), absurd)
    assert not flow.converged
    assert flow.summary()["max_line_loading_pct"] is None
    result = simulate("mv_oberrhein", _normal_states(), absurd, switch_id=14, action="close", state_version=1)
    assert not result.feasible
    assert "power flow did not converge after the action" in result.violations
