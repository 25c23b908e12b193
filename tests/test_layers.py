"""The import graph follows ARCHITECTURE.md: dependencies point inward only.

A module of layer N may import mcp_bastion modules of layers <= N (same layer included),
never a later one; mcp_bastion never imports gridops. A new top-level module must be
added to LAYERS, which keeps the map honest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Order from ARCHITECTURE.md; names on one row share a layer.
LAYERS: list[set[str]] = [
    {"__init__", "errors", "types", "messages", "canonical", "log"},
    {"config"},
    {"policy"},
    {"detectors"},
    {"store"},
    {"audit"},
    {"pipeline"},
    {"sandbox"},
    {"transports"},
    {"gateway", "wrap", "scanner", "fuzzer", "host"},
    {"console"},
    {"cli", "__main__"},
]


def layer_of(component: str) -> int:
    for index, names in enumerate(LAYERS):
        if component in names:
            return index
    raise AssertionError(f"mcp_bastion.{component} is not in the layer map of tests/test_layers.py")


def module_files() -> list[tuple[str, Path]]:
    out = []
    for path in sorted((SRC / "mcp_bastion").rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def imported_modules(module: str, path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.append(target)
    return names


def component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


@pytest.mark.parametrize(("module", "path"), module_files(), ids=str)
def test_imports_point_inward(module: str, path: Path) -> None:
    own = layer_of(component(module))
    for target in imported_modules(module, path):
        assert not (target == "gridops" or target.startswith("gridops.")), (
            f"{module} imports {target}: mcp_bastion must never import gridops"
        )
        if target == "mcp_bastion" or target.startswith("mcp_bastion."):
            other = layer_of(component(target))
            assert other <= own, (
                f"{module} (layer {own}) imports {target} (layer {other}): dependencies point inward"
            )


def test_layer_walk_catches_a_bad_import(tmp_path: Path) -> None:
    """The checker itself must be able to fail: an errors module importing the gateway."""
    bad = tmp_path / "errors.py"
    bad.write_text("from mcp_bastion.gateway import app\n", encoding="utf-8")
    targets = imported_modules("mcp_bastion.errors", bad)
    assert layer_of(component(targets[0])) > layer_of(component("mcp_bastion.errors"))
