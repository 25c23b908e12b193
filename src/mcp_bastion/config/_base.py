"""Shared base of every configuration model: strict, frozen, and path-aware."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.functional_validators import AfterValidator

__all__ = ["ConfigPath", "StrictModel"]


class StrictModel(BaseModel):
    """Base model: unknown keys are errors (typos must not silently disable a control); frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _resolve(value: Path, info: ValidationInfo) -> Path:
    # Relative paths in bastion.yaml are relative to the file itself, not to the working
    # directory of whoever started the process (desktop clients start ``wrap`` anywhere).
    value = value.expanduser()
    base = (info.context or {}).get("base_dir") if info.context else None
    if not value.is_absolute() and isinstance(base, Path):
        return base / value
    return value


ConfigPath = Annotated[Path, AfterValidator(_resolve)]
"""A filesystem path; relative paths are resolved against the config file's directory."""
