"""The Cedar engine and the packaged default policy (role matrix, dangerous capabilities)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_bastion.errors import ConfigError
from mcp_bastion.policy import (
    PolicyEngine,
    classify_tool,
    default_policy_dir,
    prompt_resource,
    server_resource,
    tool_resource,
)
from mcp_bastion.types import ANONYMOUS, AuthMethod, Principal

READ = {"name": "get_asset", "annotations": {"readOnlyHint": True}}
WRITE = {"name": "create_work_order", "annotations": {"readOnlyHint": False, "destructiveHint": False}}
DESTRUCTIVE = {"name": "operate_switch", "annotations": {"destructiveHint": True}}
UNANNOTATED = {"name": "query_records", "description": "Return all records."}
SQL = {"name": "execute_sql", "description": "Execute any SQL query."}
ENV = {"name": "get_env_variable", "description": "Read an environment variable."}
# A dangerous tool that lies in its annotations: hints never lift the forbid.
LYING_SHELL = {"name": "run_command", "annotations": {"readOnlyHint": True, "destructiveHint": False}}

EXPECTED = {
    # tool -> roles allowed to call it
    "get_asset": {"viewer", "engineer", "operator", "supervisor"},
    "create_work_order": {"engineer", "operator", "supervisor"},
    "operate_switch": {"operator", "supervisor"},
    "query_records": {"operator", "supervisor"},
    "execute_sql": set(),
    "get_env_variable": set(),
    "run_command": set(),
}


def _user(*roles: str, subject: str = "alice") -> Principal:
    return Principal(subject=subject, roles=frozenset(roles), auth_method=AuthMethod.JWT)


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.from_dir()


@pytest.mark.parametrize("tool", [READ, WRITE, DESTRUCTIVE, UNANNOTATED, SQL, ENV, LYING_SHELL], ids=str)
@pytest.mark.parametrize("role", ["viewer", "engineer", "operator", "supervisor", "intern"])
def test_default_role_matrix(engine: PolicyEngine, tool: dict[str, object], role: str) -> None:
    resource = tool_resource("up", tool, classify_tool(tool))
    decision = engine.is_authorized(_user(role), "call_tool", resource)
    assert decision.allowed == (role in EXPECTED[str(tool["name"])])


def test_dangerous_denial_names_the_forbid(engine: PolicyEngine) -> None:
    decision = engine.is_authorized(
        _user("supervisor"), "call_tool", tool_resource("v", SQL, classify_tool(SQL))
    )
    assert not decision.allowed
    assert decision.policy_ids == ("BST-POL-010",)


def test_anonymous_may_not_even_list(engine: PolicyEngine) -> None:
    assert not engine.is_authorized(ANONYMOUS, "list", server_resource("up")).allowed
    assert engine.is_authorized(_user("viewer"), "list", server_resource("up")).allowed
    assert engine.is_authorized(_user("viewer"), "get_prompt", prompt_resource("up", "p")).allowed


def test_unknown_action_denies(engine: PolicyEngine) -> None:
    assert not engine.is_authorized(_user("supervisor"), "drop_tables", server_resource("up")).allowed


def test_decisions_are_cached_when_context_is_unused(engine: PolicyEngine) -> None:
    assert not engine.uses_context
    resource = tool_resource("cache", READ, frozenset())
    before = engine.cache_size()
    engine.is_authorized(_user("viewer", subject="cache-test"), "call_tool", resource)
    engine.is_authorized(_user("viewer", subject="cache-test"), "call_tool", resource)
    assert engine.cache_size() == before + 1


def test_custom_policy_using_context(tmp_path: Path) -> None:
    (tmp_path / "p.cedar").write_text(
        'permit (principal in Role::"operator", action == Action::"call_tool", resource)\n'
        'when { context.arguments has asset_id && context.arguments.asset_id == "T1" };\n',
        encoding="utf-8",
    )
    engine = PolicyEngine.from_dir(tmp_path)
    assert engine.uses_context
    resource = tool_resource("g", READ, frozenset())
    op = _user("operator")
    assert engine.is_authorized(op, "call_tool", resource, {"arguments": {"asset_id": "T1"}}).allowed
    assert not engine.is_authorized(op, "call_tool", resource, {"arguments": {"asset_id": "T2"}}).allowed
    assert engine.cache_size() == 0


def test_evaluation_error_denies(tmp_path: Path) -> None:
    # The forbid errors (missing attribute); Cedar skips it, the permit alone would allow.
    (tmp_path / "p.cedar").write_text(
        "permit (principal, action, resource);\n"
        "forbid (principal, action, resource) when { resource.no_such_attribute };\n",
        encoding="utf-8",
    )
    engine = PolicyEngine.from_dir(tmp_path)
    decision = engine.is_authorized(_user("viewer"), "call_tool", tool_resource("g", READ, frozenset()))
    assert not decision.allowed
    assert decision.errors


def test_invalid_policy_fails_at_load(tmp_path: Path) -> None:
    (tmp_path / "p.cedar").write_text("permit (principal, action, resource) when {", encoding="utf-8")
    with pytest.raises(ConfigError, match="does not parse"):
        PolicyEngine.from_dir(tmp_path)


def test_policy_checked_against_schema(tmp_path: Path) -> None:
    schema = (default_policy_dir() / "schema.cedarschema").read_text(encoding="utf-8")
    (tmp_path / "schema.cedarschema").write_text(schema, encoding="utf-8")
    (tmp_path / "p.cedar").write_text(
        'permit (principal, action == Action::"call_tool", resource)\n'
        'when { resource.typo_class == "read" };\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="does not validate"):
        PolicyEngine.from_dir(tmp_path)


def test_empty_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \*\.cedar"):
        PolicyEngine.from_dir(tmp_path)


@pytest.mark.parametrize(
    ("tool", "caps"),
    [
        ({"name": "execute_sql"}, {"sql"}),
        ({"name": "runQuery", "description": "Runs arbitrary SQL against the warehouse"}, {"sql"}),
        ({"name": "get_env_variable"}, {"env_read"}),
        ({"name": "bash"}, {"shell"}),
        ({"name": "run_command"}, {"shell"}),
        ({"name": "eval"}, {"code_exec"}),
        ({"name": "query_records", "description": "Return all records."}, set()),
        ({"name": "get_asset", "description": "Details of one grid asset."}, set()),
        ({"name": "run_report", "description": "Run one of the named reports."}, set()),
    ],
)
def test_local_classifier(tool: dict[str, str], caps: set[str]) -> None:
    assert classify_tool(tool) == caps
