"""The bundled networks, their regions and the synthetic install years."""

from __future__ import annotations

import pytest

from gridops.errors import InvalidInputError
from gridops.grid.networks import NETWORKS, base_network, describe_network


def test_mv_oberrhein_is_the_real_network() -> None:
    net = base_network("mv_oberrhein")
    sizes = {t: len(getattr(net, t)) for t in ("bus", "line", "switch", "trafo", "load", "sgen")}
    assert sizes == {"bus": 179, "line": 181, "switch": 322, "trafo": 2, "load": 147, "sgen": 153}


def test_base_network_is_a_copy() -> None:
    first = base_network("mv_oberrhein")
    first.switch.at[0, "closed"] = False
    assert bool(base_network("mv_oberrhein").switch.at[0, "closed"]) is True


def test_unknown_network() -> None:
    with pytest.raises(InvalidInputError):
        base_network("../../etc/passwd")


def test_regions_cover_every_bus_deterministically() -> None:
    net = base_network("mv_oberrhein")
    assets = describe_network(net, seed=1)
    assert [r.name for r in assets.regions] == ["substation-1", "substation-2"]
    assert [r.source for r in assets.regions] == ["trafo:114", "trafo:142"]
    regions = {row[0]: row[4] for row in assets.buses}
    assert len(regions) == 179
    assert set(regions.values()) == {"substation-1", "substation-2"}
    # Each transformer's two sides lie in its own area.
    for idx, row in net.trafo.iterrows():
        expected = next(r.name for r in assets.regions if r.source == f"trafo:{idx}")
        assert regions[int(row.hv_bus)] == regions[int(row.lv_bus)] == expected
    # A closed line joins buses of one region, so a region is its supply area.
    closed_switch_lines = set(net.switch[(net.switch.et == "l") & ~net.switch.closed].element)
    for idx, row in net.line.iterrows():
        if idx not in closed_switch_lines:
            assert regions[int(row.from_bus)] == regions[int(row.to_bus)]


def test_install_years_are_seeded() -> None:
    net = base_network("mv_oberrhein")
    years_a = [row[9] for row in describe_network(net, seed=7).lines]
    years_b = [row[9] for row in describe_network(net, seed=7).lines]
    years_c = [row[9] for row in describe_network(net, seed=8).lines]
    assert years_a == years_b != years_c
    assert all(1965 <= y <= 2024 for y in years_a)


@pytest.mark.parametrize("name", NETWORKS)
def test_every_network_describes(name: str) -> None:
    assets = describe_network(base_network(name), seed=1)
    assert assets.buses and assets.lines and assets.loads
    assert all(row[4] != "isolated" for row in assets.buses)


def test_case33bw_tie_lines_become_open_switches() -> None:
    net = base_network("case33bw")
    assert len(net.switch) == 5
    assert not net.switch.closed.any()
    assert net.line.in_service.all()
