"""A few hundred fuzz cases against gridops over sandboxed stdio and through the gateway (wrap).

The 10,000-case runs are manual (``docs/scanner.md``); these keep the regression cheap.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_bastion.cli.main import app
from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.fuzzer import FuzzOptions, fuzz, stdio_channel

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
BASTION = str(Path(sys.executable).parent / "bastion")
TOOLS = ("get_topology", "get_asset", "query_records", "insert_record", "run_report", "simulate_switching")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gridops.service import init_db

    path = tmp_path_factory.mktemp("gridops-fuzz")
    init_db(f"sqlite:///{path / 'gridops.db'}", days=2)
    return path


async def test_gridops_survives_300_cases(data_dir: Path) -> None:
    argv = [BASTION, "gridops", "serve", "--data-dir", str(data_dir)]
    factory = stdio_channel(argv, SandboxProfile(write_paths=[str(data_dir)]), cwd=str(ROOT))
    report = await fuzz(factory, FuzzOptions(cases=300, seed=7, timeout_s=10), TOOLS)
    assert report.issues == ()
    assert report.rss_start is not None
    assert report.rss_start > 0


def test_gateway_survives_150_cases_cli(data_dir: Path, tmp_path: Path) -> None:
    target = f"stdio:{BASTION} wrap -- {BASTION} gridops serve --data-dir {data_dir}"
    args = ["fuzz", target, "--isolation", "none", "--cases", "150", "--seed", "3", "--json"]
    args += ["--write-path", str(data_dir), "--reproducers", str(tmp_path / "r")]
    for tool in TOOLS:
        args += ["--tool", tool]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert '"issues": []' in result.stdout
