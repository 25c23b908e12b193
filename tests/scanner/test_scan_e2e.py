"""``bastion scan`` end to end: real servers started in the sandbox, real MCP, real probes."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_bastion.cli.main import app
from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.detectors import Severity
from mcp_bastion.scanner import ScanOptions, ScanReport, parse_target, scan

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SEED = f"stdio:{shlex.quote(sys.executable)} {ROOT / 'examples/vulnerable/seed_server.py'}"
POISONED = f"stdio:{shlex.quote(sys.executable)} {ROOT / 'examples/vulnerable/poisoned_server.py'}"
PROBE = f"stdio:{shlex.quote(sys.executable)} {ROOT / 'tests/scanner/probe_server.py'}"


def by_rule(report: ScanReport) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report.findings:
        out.setdefault(f.rule_id, set()).add(f.target)
    return out


async def test_seed_server_all_four_vulnerabilities_confirmed() -> None:
    report = await scan([parse_target(SEED)], ScanOptions(active=True))
    found = by_rule(report)
    assert found["BST-SCAN-401"] == {
        "tool:insert_record.name",
        "tool:insert_record.address",
    }  # SQLi, by canary
    assert found["BST-SCAN-402"] == {"tool:execute_sql.query"}  # arbitrary SQL, executed
    assert found["BST-SCAN-101"] == {"tool:execute_sql"}
    assert found["BST-SCAN-403"] == {"tool:get_env_variable"}  # environment, by planted canary
    assert found["BST-SCAN-404"] == {"tool:insert_record"}  # write tool, anonymous caller
    evidence = " ".join(f.evidence + f.message for f in report.findings)
    assert "bstenv" not in evidence  # the planted value itself is never reported


async def test_probes_need_active() -> None:
    report = await scan([parse_target(SEED)], ScanOptions(active=False))
    assert not {r for r in by_rule(report) if r.startswith("BST-SCAN-40")}
    assert report.servers[0].surface is not None


async def test_poisoned_server_static() -> None:
    report = await scan([parse_target(POISONED)], ScanOptions())
    found = by_rule(report)
    assert "tool:add_numbers.description" in found["BST-TP-001"]  # hidden instructions
    assert "tool:add_numbers.description" in found["BST-TP-003"]  # sidenote side channel
    assert "tool:daily_quote.description" in found["BST-TP-002"]  # shadows send_email
    assert report.worst() == Severity.CRITICAL


async def test_command_injection_and_traversal_fire_only_on_the_vulnerable_build() -> None:
    vulnerable = await scan([parse_target(PROBE)], ScanOptions(active=True))
    found = by_rule(vulnerable)
    assert found["BST-SCAN-405"] == {"tool:ping_host.host"}
    assert found["BST-SCAN-406"] == {"tool:read_file.path", "resource:notes://{name}"}
    safe = await scan([parse_target(PROBE + " --safe")], ScanOptions(active=True))
    assert not {"BST-SCAN-405", "BST-SCAN-406"} & set(by_rule(safe))


async def test_gridops_has_no_high_or_critical(tmp_path: Path) -> None:
    from gridops.service import init_db

    db = tmp_path / "grid.db"
    init_db(f"sqlite:///{db}", days=2)
    target = parse_target(
        f"stdio:{shlex.quote(str(Path(sys.executable).parent / 'bastion'))} gridops serve "
        f"--db sqlite:///{db} --data-dir {tmp_path}"
    )
    report = await scan(
        [target], ScanOptions(active=True, profile=SandboxProfile(write_paths=[str(tmp_path)]))
    )
    assert report.servers[0].surface is not None, report.servers[0].error
    assert len(report.servers[0].surface.tools) >= 10
    bad = [f for f in report.findings if f.severity.rank >= Severity.HIGH.rank]
    assert bad == []


async def test_unreachable_server_is_a_finding() -> None:
    report = await scan([parse_target("stdio:/nonexistent/server")], ScanOptions(timeout_s=10))
    assert [f.rule_id for f in report.findings] == ["BST-SCAN-001"]
    assert report.servers[0].error


def test_cli_json_fail_on_and_baseline(tmp_path: Path) -> None:
    runner = CliRunner()
    base = tmp_path / "base.json"
    out = runner.invoke(
        app, ["scan", POISONED, "--format", "json", "--fail-on", "high", "--save-baseline", str(base)]
    )
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    assert doc["version"] == 1
    assert doc["servers"][0]["name"] == "poisoned_server"
    assert any(f["rule_id"] == "BST-TP-002" for f in doc["findings"])
    again = runner.invoke(app, ["scan", POISONED, "--format", "json", "--baseline", str(base)])
    assert again.exit_code == 0
    assert not [f for f in json.loads(again.stdout)["findings"] if f["rule_id"].startswith("BST-SCAN-30")]
    html = tmp_path / "r.html"
    ok = runner.invoke(app, ["scan", POISONED, "--format", "html", "-o", str(html), "--fail-on", "critical"])
    assert ok.exit_code == 1
    assert html.read_text().startswith("<!DOCTYPE html>")
    bad = runner.invoke(app, ["scan", "nowhere.json"])
    assert bad.exit_code == 2
