"""Arguments guard: SQL injection against the real vulnerable server, schema, constraints."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from mcp import Client
from mcp_types import JSONRPCRequest

from mcp_bastion.config import ArgumentsSettings, parse_config
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.chain import BuildContext, Chain
from mcp_bastion.pipeline.guards._common import DENIED, INVALID_PARAMS
from mcp_bastion.pipeline.guards._fastschema import compile_fast
from mcp_bastion.pipeline.guards.arguments import ArgumentsGuard, compile_schema, factory
from mcp_bastion.pipeline.verdict import Decision
from mcp_bastion.types import AuthMethod, Direction, Principal, UpstreamName

pytestmark = pytest.mark.anyio

SEED = Path(__file__).resolve().parents[3] / "examples" / "vulnerable" / "seed_server.py"
OPERATOR = Principal("olga", frozenset({"operator"}), auth_method=AuthMethod.LOCAL)
PAYLOADS = [
    "x'); DROP TABLE records;--",
    "x'); DELETE FROM records;--",
    "x'); UPDATE records SET address='pwned';--",
]
LEGIT = ["O'Brien", "rock 'n' roll", "12 Main St; Apt 4", "Smith & Sons (Ltd.)", "50% off -- today"]


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vulnerable_seed_server_args", SEED)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def vulnerable(tmp_path: Path) -> AsyncIterator[tuple[Client, Catalog]]:
    server = _seed_module().build_server(tmp_path / "seed.db")
    async with Client(server) as client:
        listed = await client.list_tools()
        catalog = Catalog()
        catalog.set_tools("vuln", [t.model_dump(by_alias=True, exclude_none=True) for t in listed.tools])
        yield client, catalog


def _call(tool: str, arguments: Any, upstream: str = "vuln") -> Exchange:
    message = JSONRPCRequest(
        jsonrpc="2.0", id=3, method="tools/call", params={"name": tool, "arguments": arguments}
    )
    return Exchange(Direction.CLIENT_TO_SERVER, message, OPERATOR, UpstreamName(upstream))


async def _insert_through(chain: Chain, client: Client, name: str, address: str) -> bool:
    outcome = await chain.run(_call("insert_record", {"name": name, "address": address}))
    if outcome.allowed:
        await client.call_tool("insert_record", outcome.exchange.params["arguments"])
    return outcome.allowed


async def _rows(client: Client) -> list[dict[str, Any]] | None:
    reply = await client.call_tool("query_records", {})
    if reply.is_error:
        return None  # the table is gone
    structured = reply.structured_content or {}
    rows = structured.get("result")
    return rows if isinstance(rows, list) else None


def _guard(catalog: Catalog, **settings: Any) -> ArgumentsGuard:
    return ArgumentsGuard(ArgumentsSettings(**settings), catalog)


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_sql_injection_works_without_the_guard(
    vulnerable: tuple[Client, Catalog], payload: str
) -> None:
    client, _ = vulnerable
    await client.call_tool("insert_record", {"name": "Ada", "address": "1 Grid Lane"})
    before = await _rows(client)
    assert await _insert_through(Chain([]), client, "Eve", payload)
    assert await _rows(client) != [*(before or []), {"id": 2, "name": "Eve", "address": payload}]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_sql_injection_is_blocked(vulnerable: tuple[Client, Catalog], payload: str) -> None:
    client, catalog = vulnerable
    await client.call_tool("insert_record", {"name": "Ada", "address": "1 Grid Lane"})
    before = await _rows(client)
    chain = Chain([_guard(catalog)])
    outcome = await chain.run(_call("insert_record", {"name": "Eve", "address": payload}))
    assert outcome.verdict.decision is Decision.DENY
    assert outcome.verdict.code == DENIED
    assert outcome.verdict.rule_ids[0].startswith("BST-SQLI-")
    assert payload not in outcome.verdict.reason
    assert not await _insert_through(chain, client, "Eve", payload)
    assert await _rows(client) == before


async def test_legitimate_values_pass(vulnerable: tuple[Client, Catalog]) -> None:
    # (Not forwarded: the vulnerable server's string-built SQL breaks on any quote.)
    _, catalog = vulnerable
    guard = _guard(catalog)
    for value in LEGIT:
        verdict = await guard.check(_call("insert_record", {"name": value, "address": value}))
        assert verdict.decision is Decision.ALLOW, value


async def test_nested_strings_are_checked() -> None:
    catalog = Catalog()
    catalog.set_tools("up", [{"name": "bulk", "inputSchema": {"type": "object"}}])
    outcome = await _guard(catalog).check(_call("bulk", {"rows": [{"a": "1' OR '1'='1"}]}, "up"))
    assert outcome.decision is Decision.DENY


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"name": "Ada"}, "'address' is a required property"),
        ({"name": "Ada", "address": 5}, "fails 'type'"),
        ("not an object", "arguments must be an object"),
    ],
)
async def test_schema_violations(vulnerable: tuple[Client, Catalog], arguments: Any, reason: str) -> None:
    _, catalog = vulnerable
    verdict = await _guard(catalog).check(_call("insert_record", arguments))
    assert verdict.decision is Decision.DENY
    assert verdict.code == INVALID_PARAMS
    assert reason in verdict.reason


async def test_unknown_tool(vulnerable: tuple[Client, Catalog]) -> None:
    _, catalog = vulnerable
    verdict = await _guard(catalog).check(_call("nope", {}))
    assert verdict.reason == "unknown tool"


def test_remote_ref_is_refused_without_fetching() -> None:
    check = compile_schema({"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/evil.json"}}})
    assert check({"a": 1}) == "tool input schema has a non-local $ref (refused)"


def test_local_refs_work() -> None:
    check = compile_schema(
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/s"}}, "$defs": {"s": {"type": "string"}}}
    )
    assert check({"a": "x"}) is None
    assert check({"a": 1}) is not None


def test_invalid_schema_denies() -> None:
    assert compile_schema({"type": "no-such-type"})({}) == "tool input schema is invalid"


async def test_config_constraints() -> None:
    catalog = Catalog()
    schema = {"type": "object", "properties": {"asset_id": {"type": "string"}, "note": {"type": "string"}}}
    catalog.set_tools("gridops", [{"name": "get_asset", "inputSchema": schema}])
    guard = _guard(
        catalog,
        tools={
            "gridops.get_asset": {
                "max_string_length": 50,
                "arguments": {"asset_id": {"pattern": "[A-Z]{1,4}-[0-9]{1,6}", "max_length": 11}},
            }
        },
    )
    assert (
        await guard.check(_call("get_asset", {"asset_id": "TR-42"}, "gridops"))
    ).decision is Decision.ALLOW
    for bad in (
        {"asset_id": "tr-42"},
        {"asset_id": "TR-42", "extra": 1},
        {"asset_id": "TR-42", "note": "x" * 51},
    ):
        verdict = await guard.check(_call("get_asset", bad, "gridops"))
        assert verdict.decision is Decision.DENY, bad


async def test_injection_blocking_can_be_turned_off_per_argument() -> None:
    catalog = Catalog()
    schema = {"type": "object", "properties": {"q": {"type": "string"}, "r": {"type": "string"}}}
    catalog.set_tools("db", [{"name": "search", "inputSchema": schema}])
    guard = _guard(catalog, tools={"db.search": {"arguments": {"q": {"block_sqli": False}}}})
    assert (await guard.check(_call("search", {"q": "1' OR '1'='1"}, "db"))).decision is Decision.ALLOW
    assert (await guard.check(_call("search", {"r": "1' OR '1'='1"}, "db"))).decision is Decision.DENY


async def test_shell_injection_is_blocked() -> None:
    pytest.importorskip("mcp_bastion.detectors.shell")
    catalog = Catalog()
    catalog.set_tools("ops", [{"name": "ping_host", "inputSchema": {"type": "object"}}])
    guard = factory(ArgumentsSettings(), BuildContext(config=parse_config({}), catalog=catalog))
    attack = _call("ping_host", {"host": "127.0.0.1; cat /etc/passwd"}, "ops")
    assert (await Chain([]).run(attack)).allowed
    assert (await Chain([guard]).run(attack)).verdict.decision is Decision.DENY
    assert (await guard.check(_call("ping_host", {"host": "example.org"}, "ops"))).decision is Decision.ALLOW


def test_missing_shell_detector_fails_loudly_or_builds() -> None:
    ctx = BuildContext(config=parse_config({}), catalog=Catalog())
    if importlib.util.find_spec("mcp_bastion.detectors.shell") is None:
        with pytest.raises(ConfigError, match=r"detectors\.shell"):
            factory(ArgumentsSettings(), ctx)
    else:
        assert factory(ArgumentsSettings(), ctx).name == "arguments"


_TYPE_NAMES = st.sampled_from(["string", "integer", "number", "boolean", "null"])
_ENUM_ITEMS = st.one_of(st.booleans(), st.integers(-2, 2), st.text(max_size=2))
_SCALAR_SCHEMAS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["string", "integer", "number", "boolean", "null"])
        | st.lists(
            st.sampled_from(["string", "integer", "number", "boolean", "null"]), min_size=1, max_size=2
        ),
        "maxLength": st.integers(0, 5),
        "minLength": st.integers(0, 5),
        "pattern": st.sampled_from(["^a", "b+", "^[0-9]+$"]),
        "enum": st.lists(
            st.one_of(st.booleans(), st.integers(-2, 2), st.text(max_size=2)), min_size=1, max_size=3
        ),
        "minimum": st.integers(-3, 3) | st.floats(-3, 3),
        "exclusiveMaximum": st.integers(-3, 3),
    },
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=3),
)


@given(
    props=st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        _SCALAR_SCHEMAS | st.builds(lambda s: {"anyOf": [s, {"type": "null"}]}, _SCALAR_SCHEMAS),
        max_size=3,
    ),
    required=st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True),
    extra=st.booleans(),
    value=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _VALUES, max_size=4),
)
@settings(max_examples=400, deadline=None)
def test_fast_accept_implies_jsonschema_accepts(
    props: dict[str, Any], required: list[str], extra: bool, value: dict[str, Any]
) -> None:
    schema = {"type": "object", "properties": props, "required": required, "additionalProperties": extra}
    fast = compile_fast(schema)
    assert fast is not None
    if fast(value):
        assert Draft202012Validator(schema).is_valid(value), (schema, value)


def test_fast_path_declines_what_it_does_not_know() -> None:
    assert compile_fast({"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}}) is None
    assert compile_fast({"type": "object", "properties": {"a": {"type": "object"}}}) is None
    assert compile_fast({"type": "object", "additionalProperties": {"type": "string"}}) is None
    assert compile_fast(
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}}
    )
