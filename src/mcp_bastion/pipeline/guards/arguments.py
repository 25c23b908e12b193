"""Arguments: ``tools/call`` arguments against the tool's inputSchema, config constraints,
and high-confidence SQL / shell injection in string values.

- Schema: JSON Schema 2020-12 (``jsonschema``), compiled once per (upstream, tool, schema
  digest). References resolve only inside the schema: the ``referencing.Registry`` has no
  retrieval, and a schema with a non-local ``$ref`` is refused outright, so a malicious
  upstream cannot make the gateway fetch URLs. An invalid schema denies calls to its tool.
  (``fastjsonschema`` is faster but generates Python source from the schema, and tool
  schemas are untrusted input, so it is not used.) Flat scalar schemas, the common case,
  are first tried by ``_fastschema`` (accept-only; a rejection goes to jsonschema).
- Constraints from bastion.yaml (``guards[arguments].tools."<upstream>.<tool>"``): no
  undeclared properties, max lengths, full-match patterns.
- Injection: every string in the arguments (nested too) goes through the detectors'
  ``detect_sqli`` / ``detect_shell_injection``; a match at ``min_confidence`` or above
  denies. Legitimate text (``O'Brien``, ``rock 'n' roll``) does not match.

Messages name the argument and the failed rule, never echo the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator

from mcp_bastion.canonical import digest
from mcp_bastion.config import ArgumentConstraint, ArgumentsSettings, ToolConstraints
from mcp_bastion.detectors.sqli import InjectionMatch, detect_sqli
from mcp_bastion.errors import ConfigError
from mcp_bastion.messages import Exchange
from mcp_bastion.pipeline.catalog import Catalog
from mcp_bastion.pipeline.guards._common import DENIED, INVALID_PARAMS, qualified, split_tool
from mcp_bastion.pipeline.guards._fastschema import compile_fast
from mcp_bastion.pipeline.verdict import Verdict
from mcp_bastion.types import Direction

__all__ = ["ArgumentsGuard", "Detector", "SchemaCheck", "compile_schema", "factory"]

NAME = "arguments"
Detector = Callable[[str], InjectionMatch | None]
SchemaCheck = Callable[[Any], str | None]
"""A compiled schema: returns None when valid, else a message without the value."""

_ALLOW = Verdict.allow(NAME)
_NO_RETRIEVAL: referencing.Registry[Any] = referencing.Registry()
_MAX_STRINGS = 1000  # strings examined per call; the limits guard bounds sizes before us


def _non_local_refs(node: Any) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, value in item.items():
                if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                    return True
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def compile_schema(schema: Mapping[str, Any]) -> SchemaCheck:
    """Compile an inputSchema; a broken or remote-referencing schema yields a check that always fails."""
    if _non_local_refs(schema):
        return lambda _value: "tool input schema has a non-local $ref (refused)"
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError:
        return lambda _value: "tool input schema is invalid"
    validator = Draft202012Validator(schema, registry=_NO_RETRIEVAL)
    fast = compile_fast(schema)

    def check(value: Any) -> str | None:
        if fast is not None and fast(value):
            return None
        try:
            error = next(validator.iter_errors(value), None)
        except referencing.exceptions.Unresolvable:
            return "tool input schema has an unresolvable $ref"
        if error is None:
            return None
        where = ".".join(str(p) for p in error.absolute_path) or "(arguments)"
        if error.validator in ("required", "additionalProperties"):
            return f"invalid arguments: {error.message[:200]}"
        return f"invalid argument {where[:100]}: fails '{error.validator}'"

    return check


def _strings(arguments: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(top-level argument name, string) for every string value, nested ones included."""
    count = 0
    for name, value in arguments.items():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                count += 1
                if count > _MAX_STRINGS:
                    return
                yield name, item
            elif isinstance(item, Mapping):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)


def _shell_detector() -> Detector:
    try:
        from mcp_bastion.detectors.shell import detect_shell_injection
    except ImportError as exc:
        raise ConfigError(
            "guards: arguments.block_shell needs mcp_bastion.detectors.shell, which is not available"
        ) from exc
    detector: Detector = detect_shell_injection
    return detector


class ArgumentsGuard:
    """Schema, constraints and injection checks on ``tools/call`` arguments."""

    name = NAME
    directions = frozenset({Direction.CLIENT_TO_SERVER})

    def __init__(
        self,
        settings: ArgumentsSettings,
        catalog: Catalog,
        *,
        sqli: Detector | None = detect_sqli,
        shell: Detector | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self._sqli = sqli
        self._shell = shell
        self._patterns: dict[str, re.Pattern[str]] = {}
        for constraints in settings.tools.values():
            for arg in constraints.arguments.values():
                if arg.pattern is not None:
                    self._patterns[arg.pattern] = re.compile(arg.pattern)
        # (upstream, tool) -> (schema object as listed, its check); digest -> check shares
        # compiled validators between identical schemas and across re-listing.
        self._checks: dict[tuple[str, str], tuple[Mapping[str, Any], SchemaCheck]] = {}
        self._by_digest: dict[str, SchemaCheck] = {}

    async def check(self, exchange: Exchange) -> Verdict:
        if exchange.method != "tools/call" or exchange.direction is not Direction.CLIENT_TO_SERVER:
            return _ALLOW
        resolved = split_tool(exchange)
        tool = None if resolved is None else self.catalog.tool(*resolved)
        if resolved is None or tool is None:
            return Verdict.deny(NAME, "unknown tool", code=INVALID_PARAMS, rule_ids=("BST-ARG-001",))
        arguments = exchange.params.get("arguments")
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            return Verdict.deny(
                NAME, "arguments must be an object", code=INVALID_PARAMS, rule_ids=("BST-ARG-002",)
            )
        schema = tool.get("inputSchema")
        if self.settings.validate_schema and isinstance(schema, Mapping):
            problem = self._schema_check(resolved, schema)(arguments)
            if problem is not None:
                return Verdict.deny(NAME, problem, code=INVALID_PARAMS, rule_ids=("BST-ARG-003",))
        constraints = self.settings.tools.get(qualified(*resolved))
        problem = self._constraint_problem(arguments, schema, constraints)
        if problem is not None:
            return Verdict.deny(NAME, problem, code=INVALID_PARAMS, rule_ids=("BST-ARG-004",))
        return self._injection(arguments, constraints)

    def _schema_check(self, key: tuple[str, str], schema: Mapping[str, Any]) -> SchemaCheck:
        cached = self._checks.get(key)
        if cached is not None and cached[0] is schema:
            return cached[1]
        schema_digest = digest(schema)
        check = self._by_digest.get(schema_digest)
        if check is None:
            check = compile_schema(schema)
            self._by_digest[schema_digest] = check
        self._checks[key] = (schema, check)
        return check

    def _constraint_problem(
        self, arguments: Mapping[str, Any], schema: Any, constraints: ToolConstraints | None
    ) -> str | None:
        no_extra = self.settings.no_extra_properties or (
            constraints is not None and constraints.no_extra_properties
        )
        if no_extra:
            props = schema.get("properties") if isinstance(schema, Mapping) else None
            declared = props.keys() if isinstance(props, Mapping) else ()
            extra = [k for k in arguments if k not in declared]
            if extra:
                return f"undeclared argument: {str(extra[0])[:64]}"
        if constraints is None:
            return None
        if constraints.max_string_length is not None:
            for name, value in _strings(arguments):
                if len(value) > constraints.max_string_length:
                    return f"argument {name[:64]} too long"
        for name, rule in constraints.arguments.items():
            given = arguments.get(name)
            if isinstance(given, str):
                problem = self._argument_problem(name, given, rule)
                if problem is not None:
                    return problem
        return None

    def _argument_problem(self, name: str, value: str, rule: ArgumentConstraint) -> str | None:
        if rule.max_length is not None and len(value) > rule.max_length:
            return f"argument {name[:64]} too long"
        if rule.pattern is not None and self._patterns[rule.pattern].fullmatch(value) is None:
            return f"argument {name[:64]} does not match the allowed pattern"
        return None

    def _injection(self, arguments: Mapping[str, Any], constraints: ToolConstraints | None) -> Verdict:
        overrides = constraints.arguments if constraints is not None else {}
        floor = self.settings.min_confidence
        for name, value in _strings(arguments):
            rule = overrides.get(name)
            for detector, enabled in (
                (
                    self._sqli,
                    self.settings.block_sqli if rule is None or rule.block_sqli is None else rule.block_sqli,
                ),
                (
                    self._shell,
                    self.settings.block_shell
                    if rule is None or rule.block_shell is None
                    else rule.block_shell,
                ),
            ):
                if not enabled or detector is None:
                    continue
                match = detector(value)
                if match is not None and match.confidence >= floor:
                    kind = "SQL" if match.kind == "sql" else match.kind
                    return Verdict.deny(
                        NAME,
                        f"argument {name[:64]} blocked: {kind} injection ({match.rule_id})",
                        code=DENIED,
                        rule_ids=(match.rule_id,),
                        detail=f"fingerprint={match.fingerprint}; {match.reason}",
                    )
        return _ALLOW


def factory(settings: ArgumentsSettings, ctx: Any) -> ArgumentsGuard:
    """Registry entry (see ``mcp_bastion.pipeline.guards``)."""
    shell = _shell_detector() if settings.block_shell else None
    return ArgumentsGuard(
        settings, ctx.catalog, sqli=detect_sqli if settings.block_sqli else None, shell=shell
    )
