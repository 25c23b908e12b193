"""The GridService contract, run unchanged on SQLite and on the live PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gridops.errors import ConflictError, DatabaseError, GridOpsError, InvalidInputError, NotFoundError
from gridops.grid.measurements import EPOCH_END
from gridops.service import NETWORKS, GridService, Weather, init_db

POSTGRES_URL = os.environ.get("BASTION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DAYS = 2
ISLANDING_SWITCH = 0  # opening it de-energises a feeder of mv_oberrhein (16 buses)
OPEN_SWITCH = 14  # normally open ring point


def _postgres_or_skip() -> None:
    # Module-scoped twin of conftest's postgres_url check: initialising a database takes
    # seconds, so the contract suite shares one per back end instead of one per test.
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            return
    except OSError:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("PostgreSQL is not reachable (CI=true: a missing service is a failure)")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432; start it to run this test")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One initialised grid database per back end for the whole module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('grid') / 'grid.db'}"
        init_db(url, days=DAYS)
        yield url
        return
    _postgres_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{POSTGRES_URL}?schema={schema}"
        init_db(url, days=DAYS)
        yield url
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def svc(db_url: str) -> Iterator[GridService]:
    service = GridService.open(db_url)
    try:
        yield service
    finally:
        service.close()


def test_networks_default_first() -> None:
    assert NETWORKS[0] == "mv_oberrhein"


def test_topology_is_the_real_network(svc: GridService) -> None:
    topo = svc.get_topology()
    assert topo["network"] == "mv_oberrhein"
    assert topo["counts"] == {
        "buses": 179,
        "lines": 181,
        "trafos": 2,
        "switches": 322,
        "loads": 147,
        "sgens": 153,
    }
    assert (
        sorted(r["name"] for r in topo["regions"]) == svc.list_regions() == ["substation-1", "substation-2"]
    )
    parts = [svc.get_topology(region)["counts"]["buses"] for region in svc.list_regions()]
    assert sum(parts) == 179
    assert all(isinstance(s["closed"], bool) for s in topo["switches"])


def test_topology_unknown_region(svc: GridService) -> None:
    with pytest.raises(NotFoundError):
        svc.get_topology("atlantis")
    with pytest.raises(InvalidInputError):
        svc.get_topology("x" * 33)


def test_get_asset(svc: GridService) -> None:
    line = svc.get_asset("line:5")
    assert line["asset_id"] == "line:5"
    assert line["from_bus"].startswith("bus:")
    assert line["age_years"] == 2026 - line["install_year"]
    assert line["max_i_ka"] > 0
    switch = svc.get_asset(f"switch:{OPEN_SWITCH}")
    assert switch["normal_closed"] is False
    load = svc.get_asset("load:3")
    assert load["latest_measurement"]["ts"] == "2026-10-31T23:45:00Z"
    with pytest.raises(NotFoundError):
        svc.get_asset("line:99999")
    for bad in (
        "line:",
        "line:-1",
        "Line:5",
        "line:5 ",
        "pump:1",
        "line:01",
        "line:5\n",
        "'; DROP TABLE lines;--",
    ):
        with pytest.raises(InvalidInputError):
            svc.get_asset(bad)


def test_query_measurements_window_and_limit(svc: GridService) -> None:
    end = EPOCH_END
    got = svc.query_measurements("load:3", end - timedelta(hours=2), end)
    assert [p["ts"] for p in got["points"]][:2] == ["2026-10-31T22:00:00Z", "2026-10-31T22:15:00Z"]
    assert got["count"] == 8
    assert not got["truncated"]
    small = svc.query_measurements("load:3", end - timedelta(hours=2), end, limit=3)
    assert small["count"] == 3
    assert small["truncated"]
    with pytest.raises(InvalidInputError):
        svc.query_measurements("load:3", end - timedelta(days=7, seconds=1), end)
    with pytest.raises(InvalidInputError):
        svc.query_measurements("load:3", end, end)
    for limit in (0, 2001, True):
        with pytest.raises(InvalidInputError):
            svc.query_measurements("load:3", end - timedelta(hours=1), end, limit=limit)
    with pytest.raises(InvalidInputError):
        svc.query_measurements("line:3", end - timedelta(hours=1), end)
    with pytest.raises(NotFoundError):
        svc.query_measurements("load:9999", end - timedelta(hours=1), end)


def test_analyze_load_pattern_matches_raw_data(svc: GridService) -> None:
    start, end = EPOCH_END - timedelta(days=1), EPOCH_END
    raw = svc.query_measurements("load:7", start, end, limit=2000)["points"]
    stats = svc.analyze_load_pattern("load:7", start, end)
    values = [p["p_mw"] for p in raw]
    assert stats["samples"] == len(values) == 96
    assert stats["peak"]["p_mw"] == max(values)
    assert stats["mean_p_mw"] == pytest.approx(sum(values) / len(values), abs=1e-6)
    assert stats["energy_mwh"] == pytest.approx(sum(values) * 0.25, abs=1e-6)
    pv = svc.analyze_load_pattern("sgen:3", start, end)
    assert pv["hourly_mean_p_mw_utc"]["00"] == 0.0  # no sun at midnight


def test_list_outages(svc: GridService) -> None:
    everything = svc.list_outages(limit=200)["outages"]
    assert len(everything) == 24
    opened = svc.list_outages("open")["outages"]
    assert opened and all(o["status"] == "open" and o["ended_at"] is None for o in opened)
    assert svc.list_outages(limit=2)["count"] == 2
    with pytest.raises(InvalidInputError):
        svc.list_outages("closed")
    with pytest.raises(InvalidInputError):
        svc.list_outages(limit=201)


HOSTILE = [
    "'); DROP TABLE records;--",
    "Robert'); DELETE FROM records WHERE ('1'='1",
    '" OR 1=1 --',
    "Zürich – 東京 – 🚀",
    "100% _wild_ \\ backslash",
]


def test_hostile_records_stored_literally(svc: GridService) -> None:
    before = svc.query_records(limit=100)["count"]
    ids = [svc.insert_record(name, address=name, created_by="tester")["id"] for name in HOSTILE]
    stored = {r["id"]: r for r in svc.query_records(limit=100)["records"]}
    for record_id, name in zip(ids, HOSTILE, strict=True):
        assert stored[record_id]["name"] == name
        assert stored[record_id]["address"] == name
    assert svc.query_records(limit=100)["count"] == before + len(HOSTILE)
    assert svc.get_topology()["counts"]["lines"] == 181  # the schema is intact
    # LIKE wildcards in the needle are data, not patterns.
    assert [r["name"] for r in svc.query_records("100%")["records"]] == [HOSTILE[4]]
    assert svc.query_records("_wild_")["count"] == 1
    assert svc.query_records("%")["count"] == 1
    # Without the escaping the same needle is a wildcard that matches every record.
    unescaped = svc._db.read("SELECT COUNT(*) FROM records WHERE name LIKE ?", ("%%%",))
    assert unescaped[0][0] == before + len(HOSTILE)


def test_record_validation(svc: GridService) -> None:
    for name, address in (
        ("", "a"),
        ("a" * 101, "a"),
        ("a", "b" * 201),
        ("a\x00b", "x"),
        ("a", "line\nbreak"),
    ):
        with pytest.raises(InvalidInputError):
            svc.insert_record(name, address, "tester")
    for kwargs in (
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"offset": 100_001},
        {"name_contains": "x" * 101},
    ):
        with pytest.raises(InvalidInputError):
            svc.query_records(**kwargs)


def test_work_order(svc: GridService) -> None:
    order = svc.create_work_order("line:5", "Inspect", "Check the joint.\nTwice.", "high", "tester")
    assert order["status"] == "open"
    listed = svc.run_report("open_work_orders", {"priority": "high", "limit": 200})
    assert order["id"] in [row[0] for row in listed["rows"]]
    with pytest.raises(InvalidInputError):
        svc.create_work_order("line:5", "Inspect", "x", "urgent", "tester")
    with pytest.raises(InvalidInputError):
        svc.create_work_order("line:5", "t" * 121, "x", "low", "tester")
    with pytest.raises(NotFoundError):
        svc.create_work_order("line:99999", "Inspect", "x", "low", "tester")


def test_reports_catalogue(svc: GridService) -> None:
    catalogue = svc.list_reports()
    assert len(catalogue) >= 5
    for entry in catalogue:
        assert entry["params_schema"]["additionalProperties"] is False
        result = svc.run_report(entry["name"], {})
        assert result["count"] == len(result["rows"]) > 0
        assert all(len(row) == len(result["columns"]) for row in result["rows"])
    top = svc.run_report("top_loaded_lines", {"limit": 3})["rows"]
    assert len(top) == 3
    assert top[0][3] >= top[1][3] >= top[2][3]
    energy = svc.run_report("daily_energy_by_region", {"days": 1, "kind": "sgen"})["rows"]
    assert {row[1] for row in energy} == {"2026-10-31"}


@pytest.mark.parametrize(
    ("name", "params", "error"),
    [
        ("drop_everything", {}, NotFoundError),
        ("top_loaded_lines", {"limit": 51}, InvalidInputError),
        ("top_loaded_lines", {"limit": "5"}, InvalidInputError),
        ("top_loaded_lines", {"limit": True}, InvalidInputError),
        ("top_loaded_lines", {"region": "x' OR '1'='1"}, InvalidInputError),
        ("outages_by_region", {"status": "pending"}, InvalidInputError),
        ("switching_history", {"sql": "SELECT 1"}, InvalidInputError),
        ("daily_energy_by_region", {"days": 15}, InvalidInputError),
    ],
)
def test_report_params_validated(svc: GridService, name: str, params: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        svc.run_report(name, params)


def test_simulate_islanding_switch(svc: GridService) -> None:
    version = svc.state_version()
    result = svc.simulate_switching(ISLANDING_SWITCH, "open")
    impact = result.to_dict()
    assert result.state_version == version
    assert result.feasible
    assert len(impact["deenergized_buses"]) == 16
    assert impact["load_lost_mw"] > 0
    assert impact["max_line_loading_pct"]["before"] is not None
    assert svc.state_version() == version  # simulation changes nothing
    assert svc.get_asset(f"switch:{ISLANDING_SWITCH}")["closed"] is True


def test_simulate_closing_ring_point(svc: GridService) -> None:
    impact = svc.simulate_switching(OPEN_SWITCH, "close").to_dict()
    assert impact["deenergized_buses"] == []
    assert impact["load_lost_mw"] == 0.0
    assert impact["vm_pu_min"]["after"] >= 0.9


def test_simulate_noop_and_unknown(svc: GridService) -> None:
    with pytest.raises(ConflictError):
        svc.simulate_switching(ISLANDING_SWITCH, "close")
    with pytest.raises(NotFoundError):
        svc.simulate_switching(999_999, "open")
    with pytest.raises(InvalidInputError):
        svc.simulate_switching(1, "toggle")  # type: ignore[arg-type]  # the wrong value is the test


def test_operate_switch_versioning_and_history(svc: GridService) -> None:
    version = svc.state_version()
    with pytest.raises(ConflictError):
        svc.operate_switch(OPEN_SWITCH, "close", version - 1, "op", "stale")
    done = svc.operate_switch(OPEN_SWITCH, "close", version, "op", "close ring for maintenance")
    assert done == done | {"switch_id": OPEN_SWITCH, "closed": True, "state_version": version + 1}
    assert svc.get_asset(f"switch:{OPEN_SWITCH}")["closed"] is True
    with pytest.raises(ConflictError):  # already closed
        svc.operate_switch(OPEN_SWITCH, "close", version + 1, "op", "again")
    # A simulation after the operation is based on the new state.
    assert svc.simulate_switching(OPEN_SWITCH, "open").state_version == version + 1
    restored = svc.operate_switch(OPEN_SWITCH, "open", version + 1, "op", "restore")
    assert restored["state_version"] == version + 2
    history = svc.run_report("switching_history", {"switch_id": OPEN_SWITCH, "limit": 2})["rows"]
    assert [(r[2], r[3], r[4], r[5]) for r in history] == [
        ("open", version + 1, version + 2, "op"),
        ("close", version, version + 1, "op"),
    ]


def test_operate_switch_is_atomic_under_concurrency(svc: GridService, db_url: str) -> None:
    version = svc.state_version()
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        other = GridService.open(db_url)  # separate connections, as separate processes would have
        try:
            barrier.wait()
            other.operate_switch(OPEN_SWITCH, "close", version, "racer", "race")
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            other.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    assert svc.state_version() == version + 1
    svc.operate_switch(OPEN_SWITCH, "open", version + 1, "racer", "restore")


def test_predict_outage_risk(svc: GridService) -> None:
    overhead = next(
        line for line in svc.get_topology()["lines"] if svc.get_asset(line["asset_id"])["line_type"] == "ol"
    )
    calm = svc.predict_outage_risk(overhead["asset_id"], Weather())
    storm = svc.predict_outage_risk(overhead["asset_id"], Weather(wind_speed_ms=35, storm=True, ice=True))
    assert 0 <= calm["score"] < storm["score"] <= 1
    assert storm["factors"][0]["factor"] in {"storm", "ice", "wind"}
    assert {f["factor"] for f in calm["factors"]} >= {"loading", "age", "rating", "wind", "ice", "storm"}
    trafo = svc.predict_outage_risk("trafo:114", Weather(temperature_c=50))
    assert "heat" in {f["factor"] for f in trafo["factors"]}
    with pytest.raises(InvalidInputError):
        svc.predict_outage_risk("bus:1", Weather())
    with pytest.raises(InvalidInputError):
        svc.predict_outage_risk("line:5", Weather(temperature_c=float("nan")))
    with pytest.raises(InvalidInputError):
        svc.predict_outage_risk("line:5", Weather(wind_speed_ms=61))


def test_open_rejects_uninitialised(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError):
        GridService.open(f"sqlite:///{tmp_path / 'missing.db'}")
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(GridOpsError):
        GridService.open(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InvalidInputError):
        GridService.open("mysql://root@localhost/grid")


def test_naive_times_are_utc(svc: GridService) -> None:
    end = datetime(2026, 11, 1)
    aware = svc.query_measurements("load:3", EPOCH_END - timedelta(hours=1), EPOCH_END)
    naive = svc.query_measurements("load:3", end - timedelta(hours=1), end)
    assert naive["points"] == aware["points"]
    other_zone = svc.query_measurements(
        "load:3", datetime(2026, 11, 1, 0, tzinfo=UTC).astimezone(), datetime(2026, 11, 1, 1, tzinfo=UTC)
    )
    assert other_zone["count"] == 0  # data ends at the epoch


def test_one_instance_serves_concurrent_calls(svc: GridService) -> None:
    # The MCP server runs sync tools in worker threads against one shared GridService.
    expected = {
        "asset": svc.get_asset("line:5"),
        "records": svc.query_records(limit=5),
        "sim": svc.simulate_switching(ISLANDING_SWITCH, "open").to_dict(),
    }
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                if i % 3 == 0:
                    assert svc.get_asset("line:5") == expected["asset"]
                elif i % 3 == 1:
                    assert svc.query_records(limit=5) == expected["records"]
                else:
                    assert svc.simulate_switching(ISLANDING_SWITCH, "open").to_dict() == expected["sim"]
        except Exception as exc:  # noqa: BLE001 - any failure in a worker is reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
