"""The fuzzer: deterministic cases, response checks, detection on a broken server, clean SDK servers."""

from __future__ import annotations

import json
import logging
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.fuzzer import (
    KINDS,
    FuzzOptions,
    check_line,
    fuzz,
    handshake,
    make_case,
    memory_channel,
    replay,
    stdio_channel,
)

ROOT = Path(__file__).resolve().parents[2]
BROKEN = [sys.executable, str(ROOT / "tests/fuzzer/broken_server.py")]
SEED_TOOLS = ("insert_record", "query_records", "execute_sql", "get_env_variable")


@pytest.fixture
def quiet_sdk() -> Iterator[None]:
    # The SDK logs each rejected message with a rich traceback: costly and not under test.
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def seed_server(tmp_path: Path) -> Any:
    return runpy.run_path(str(ROOT / "examples/vulnerable/seed_server.py"))["build_server"](
        tmp_path / "seed.db"
    )


def test_cases_are_deterministic_and_cover_every_kind() -> None:
    a = [make_case(5, i, SEED_TOOLS) for i in range(200)]
    b = [make_case(5, i, SEED_TOOLS) for i in range(200)]
    assert a == b
    assert a != [make_case(6, i, SEED_TOOLS) for i in range(200)]
    assert {c.kind for c in a} == set(KINDS)
    assert all(c.data.endswith(b"\n") for c in a)
    bad = [c for c in a if c.kind == "invalid_utf8"]
    undecodable = 0
    for c in bad:
        try:
            c.data.decode("utf-8")
        except UnicodeDecodeError:
            undecodable += 1
    assert undecodable >= len(bad) // 2  # the rest carry a NUL byte or similar
    assert json.loads(handshake().splitlines()[0])["method"] == "initialize"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"jsonrpc":"2.0","id":1,"result":{}}', None),
        (b'{"jsonrpc":"2.0","method":"notifications/message","params":{}}', None),
        (b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}', None),
        (b"nope", "not JSON"),
        (b'{"id":1,"result":{}}', "not a JSON-RPC 2.0 object"),
        (b'{"jsonrpc":"2.0","id":1}', "a response needs exactly one of result and error"),
        (b'{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}', "malformed error object"),
        (b'{"jsonrpc":"2.0","id":9,"result":{}}', "response to an id never sent: 9"),
    ],
)
def test_check_line(line: bytes, problem: str | None) -> None:
    assert check_line(line, {"1"}) == problem


@pytest.mark.anyio
async def test_broken_server_crash_hang_and_malformed_are_caught(tmp_path: Path) -> None:
    factory = stdio_channel(BROKEN, SandboxProfile(), cwd=str(ROOT))
    options = FuzzOptions(cases=40, seed=3, timeout_s=1.0, reproducers=tmp_path / "repro")
    report = await fuzz(factory, options, SEED_TOOLS)
    kinds = {i.kind for i in report.issues}
    assert {"crash", "hang", "malformed"} <= kinds
    assert report.restarts >= 2
    saved = [Path(i.reproducer) for i in report.issues if i.reproducer]
    assert saved
    crash = next(p for p in saved if p.name.startswith("crash-"))
    assert await replay(factory, crash.read_bytes(), (), 1.0) == "crash"


@pytest.mark.anyio
@pytest.mark.usefixtures("quiet_sdk")
async def test_seed_server_in_memory_survives(tmp_path: Path) -> None:
    report = await fuzz(
        memory_channel(seed_server(tmp_path)), FuzzOptions(cases=300, seed=11, timeout_s=5), SEED_TOOLS
    )
    assert report.issues == ()
    assert sum(report.by_kind.values()) == 300


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "method": st.sampled_from(["ping", "tools/list", "tools/call", "x/y", ""])},
    optional={"id": st.integers() | st.text(max_size=8) | json_values, "params": json_values},
)


@given(batch=st.lists(messages | json_values, min_size=1, max_size=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hypothesis_messages_in_memory(batch: list[Any], tmp_path: Path, quiet_sdk: None) -> None:
    del quiet_sdk
    server = seed_server(tmp_path)

    async def run() -> str | None:
        data = b"".join(json.dumps(m).encode() + b"\n" for m in batch)
        ids = tuple(m.get("id") for m in batch if isinstance(m, dict))
        return await replay(memory_channel(server), data, ids, 5.0)

    assert anyio.run(run) is None


def test_cases_never_mutate_shared_values() -> None:
    # Regression: a wrong_type mutation wrote into a shared constant and a later case became
    # circular ("ValueError: Circular reference detected" in `bastion fuzz --seed 7`).
    from mcp_bastion.fuzzer import cases

    before = json.dumps(cases._ODD_VALUES)
    for seed in (7, 8):
        for i in range(400):
            make_case(seed, i, SEED_TOOLS)
    assert json.dumps(cases._ODD_VALUES) == before
