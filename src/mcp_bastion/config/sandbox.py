"""The sandbox profile: how one stdio upstream server is isolated and supervised.

A ``SandboxProfile`` is embedded per upstream in ``bastion.yaml``; the defaults are the safe
profile (no network, read-only system, private ``/tmp``, hidden home, tight limits). The
profile is data only: ``mcp_bastion.sandbox.build_command`` turns it into a launch plan.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DEFAULT_ENV_ALLOW", "RestartPolicy", "SandboxProfile"]

# Variables that describe the locale and the search path, never credentials.
DEFAULT_ENV_ALLOW: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "TZ", "TERM")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EGRESS = re.compile(r"^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


class RestartPolicy(BaseModel):
    """When and how fast a crashed server is restarted, and how it is health-checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_restarts: int = Field(default=5, ge=0, le=1000)
    backoff_initial_s: float = Field(default=0.5, gt=0, le=3600)
    backoff_max_s: float = Field(default=30.0, gt=0, le=3600)
    health_interval_s: float = Field(default=30.0, gt=0, le=86400)
    health_timeout_s: float = Field(default=10.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _backoff_order(self) -> RestartPolicy:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be >= backoff_initial_s")
        return self


class SandboxProfile(BaseModel):
    """Isolation, environment, file system, network and resource limits of one server.

    ``isolation``: ``auto`` uses bubblewrap, else Landlock, else refuses to start;
    ``bubblewrap``/``landlock`` insist on that primitive; ``none`` runs the server
    unconfined (only the environment allow-list and the output bounds still apply).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    isolation: Literal["auto", "bubblewrap", "landlock", "none"] = "auto"
    env_allow: list[str] = Field(default_factory=lambda: list(DEFAULT_ENV_ALLOW))
    env: dict[str, str] = Field(default_factory=dict)
    network: Literal["none", "host"] = "none"
    read_paths: list[str] = Field(default_factory=list)
    write_paths: list[str] = Field(default_factory=list)
    workdir: str | None = None
    tmpfs_mb: int = Field(default=256, ge=1, le=1 << 20)
    cpu_seconds: int = Field(default=60, ge=1)
    memory_mb: int = Field(default=1024, ge=16)
    max_open_files: int = Field(default=256, ge=16)
    max_processes: int = Field(default=64, ge=1)
    max_output_bytes: int = Field(default=4 * 1024 * 1024, ge=4096)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)

    @field_validator("env_allow")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"not an environment variable name: {name!r}")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _ENV_NAME.match(name):
                raise ValueError(f"not an environment variable name: {name!r}")
            if "\x00" in text:
                raise ValueError(f"NUL byte in the value of {name}")
        return value

    @field_validator("read_paths", "write_paths", "workdir")
    @classmethod
    def _absolute(cls, value: list[str] | str | None) -> list[str] | str | None:
        paths = [value] if isinstance(value, str) else value or []
        for path in paths:
            if not path.startswith("/") or "\x00" in path:
                raise ValueError(f"paths must be absolute: {path!r}")
            if any(part == ".." for part in path.split("/")):
                raise ValueError(f"'..' is not allowed in a sandbox path: {path!r}")
        return value
