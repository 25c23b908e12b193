"""Loading bastion.yaml: ``yaml.safe_load`` + pydantic, errors naming field path and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mcp_bastion.config.model import BastionConfig
from mcp_bastion.errors import ConfigError

__all__ = ["format_validation_error", "load_config", "parse_config"]

_MAX_CONFIG_BYTES = 1_048_576


def load_config(path: str | Path) -> BastionConfig:
    """Read and validate ``path``; raise ``ConfigError`` (``upstreams.gridops.url: reason``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc.strerror})") from exc
    if len(data) > _MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: configuration larger than {_MAX_CONFIG_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: invalid YAML{where}") from exc
    return parse_config(raw, base_dir=path.resolve().parent, source=str(path))


def parse_config(raw: Any, *, base_dir: Path | None = None, source: str = "<config>") -> BastionConfig:
    """Validate an already-parsed mapping (``None`` = an empty file = all defaults)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    try:
        return BastionConfig.model_validate(raw, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc)}") from exc


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem: ``dotted.field.path: reason``."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        msg = msg.removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        lines.append(f"{loc}: {msg}")
    return "; ".join(lines)
