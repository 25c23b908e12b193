"""Tool outputs with and without AgentDojo's injection tasks, read from the installed package.

AgentDojo (``pip install agentdojo``; the ``bench`` extra) ships its four suites
(workspace, travel, banking, slack) as package data: ``environment.yaml`` (+ includes) with
``{injection_*}`` placeholders, ``injection_vectors.yaml`` with each placeholder's benign
default, and injection tasks whose ``GOAL`` is the attacker's instruction. Here every
record of an environment that a tool would return (an e-mail, a file, an event, a review,
a transaction, a web page) is rendered as YAML, the way AgentDojo renders tool results:

- negative: the record with every placeholder at its benign default (the same output,
  without the attack), plus every record that has no placeholder at all;
- positive: the record with one placeholder replaced by an attack template filled with an
  injection task's GOAL.

Templates are read from the installed attack classes (``important_instructions`` and its
variants, ``ignore_previous``, ``injecagent``, ``system_message``, ``direct``); the
``extra`` templates (other languages, chat-template tokens, encodings, hidden comments,
markdown-image exfiltration) are this project's own, documented in :mod:`bench.corpus.attacks`.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Sample", "agentdojo_available", "agentdojo_templates", "build_outputs"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled text: ``key`` decides the split, ``group`` is the reporting category."""

    key: str
    text: str
    label: bool
    group: str
    split: str


def agentdojo_available() -> bool:
    """Whether the ``agentdojo`` package is installed."""
    return importlib.util.find_spec("agentdojo") is not None


def _package_dir() -> Path:
    spec = importlib.util.find_spec("agentdojo")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("agentdojo is not installed: pip install -e '.[bench]'")
    return Path(next(iter(spec.submodule_search_locations)))


def agentdojo_templates() -> dict[str, str]:
    """Attack templates (with ``{goal}``, ``{user}``, ``{model}``) read from agentdojo's attack modules."""
    attacks = _package_dir() / "attacks"
    out: dict[str, str] = {}
    for module in ("baseline_attacks.py", "important_instructions_attacks.py"):
        tree = ast.parse((attacks / module).read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            name = template = None
            for node in ast.walk(cls):
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) for t in node.targets):
                    target = next(t.id for t in node.targets if isinstance(t, ast.Name))
                    if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                        if target == "name":
                            name = node.value.value
                        elif target == "_JB_STRING":
                            template = node.value.value
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "__init__"
                ):
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        template = first.value
            if name and template and "{tools}" not in template:
                out[name] = template
    if "important_instructions" in out:
        # The variants differ only in the names filled in; keep the distinct templates.
        out = {
            k: v
            for k, v in out.items()
            if not k.startswith("important_instructions_") or k.endswith("no_names")
        }
    return out


def _goals() -> dict[str, list[tuple[str, str]]]:
    from agentdojo.task_suite.load_suites import get_suites

    suites = get_suites("v1.2.2")
    return {
        name: [(task_id, task.GOAL) for task_id, task in suite.injection_tasks.items()]
        for name, suite in suites.items()
    }


class _NoInclude(yaml.SafeLoader):
    """Safe loader that leaves ``!include`` nodes empty (each included file is read on its own)."""


_NoInclude.add_constructor("!include", lambda loader, node: None)


def _records(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Things one tool call would return: list items that are mappings, and long strings."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and len(value) >= 40:
                yield f"{path}.{key}", {key: value}
            else:
                yield from _records(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict):
                yield f"{path}[{index}]", item
            else:
                yield from _records(item, f"{path}[{index}]")


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for marker, value in values.items():
            node = node.replace(marker, value)
        return node
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    return node


def _render(record: Any) -> str:
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100)


def split_of(key: str) -> str:
    """Deterministic 50/50 split: ``tune`` or ``heldout``."""
    return "tune" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "heldout"


def build_outputs(
    extra_templates: dict[str, str], fill: dict[str, str], per_goal: Callable[[str], dict[str, str]]
) -> list[Sample]:
    """Positive and negative tool outputs from every suite; split by injection task and record."""
    base = _package_dir() / "data" / "suites"
    templates = {**agentdojo_templates(), **extra_templates}
    goals = _goals()
    samples: list[Sample] = []
    for suite_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        suite = suite_dir.name
        vectors = yaml.safe_load((suite_dir / "injection_vectors.yaml").read_text(encoding="utf-8"))
        markers = {name: f"INJMARK{i:03d}X" for i, name in enumerate(vectors)}
        defaults = {markers[name]: str(spec.get("default", "")) for name, spec in vectors.items()}
        files = [suite_dir / "environment.yaml", *sorted((suite_dir / "include").glob("*.yaml"))]
        for file in (f for f in files if f.exists()):
            raw = file.read_text(encoding="utf-8")
            for name, marker in markers.items():
                raw = raw.replace("{" + name + "}", marker)
            tree = yaml.load(raw, Loader=_NoInclude)
            for path, record in _records(tree, f"{suite}/{file.stem}"):
                dumped = _render(record)
                present = [m for m in markers.values() if m in dumped]
                benign = _render(_fill(record, defaults))
                samples.append(Sample(path, benign, False, f"agentdojo:{suite}", split_of(path)))
                for marker in present:
                    for task_id, goal in goals.get(suite, []):
                        key = f"{suite}/{task_id}"
                        attacks = {n: t.format(goal=goal, **fill) for n, t in templates.items()}
                        for template_name, attack in {**attacks, **per_goal(goal)}.items():
                            values = {**defaults, marker: attack}
                            samples.append(
                                Sample(
                                    f"{path}|{key}|{template_name}",
                                    _render(_fill(record, values)),
                                    True,
                                    f"template:{template_name}",
                                    split_of(key),
                                )
                            )
    return samples
