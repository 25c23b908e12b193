"""Upstream MCP servers behind the gateway: stdio (sandboxed process) or Streamable HTTP."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, model_validator

from mcp_bastion.config._base import ConfigPath, StrictModel
from mcp_bastion.config.sandbox import SandboxProfile

__all__ = ["UPSTREAM_NAME_PATTERN", "Upstream"]

UPSTREAM_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""Upstream names namespace tools (``gridops.get_asset``) so they may not contain ``.`` or ``/``."""

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Upstream(StrictModel):
    """One upstream server: exactly one of ``command`` (stdio) or ``url`` (Streamable HTTP).

    An HTTP upstream authenticates with its OWN credentials (``headers``,
    ``bearer_token_env`` or ``bearer_token_file``); the client's token is never forwarded.
    """

    # stdio
    command: tuple[str, ...] | None = Field(default=None, min_length=1)
    cwd: ConfigPath | None = None
    env: dict[str, str] = Field(default_factory=dict)
    """Fixed environment variables for the process (in addition to the sandbox allow-list)."""
    env_passthrough: tuple[str, ...] = ()
    """Names of variables copied from the gateway's environment (an allow-list)."""
    sandbox: SandboxProfile = Field(default_factory=SandboxProfile)
    """How the process is isolated (``docs/sandbox.md``); the default profile is safe."""
    # http
    url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token_env: str | None = Field(default=None, pattern=_ENV_NAME)
    bearer_token_file: ConfigPath | None = None
    # both
    timeout_s: float = Field(default=30.0, gt=0, le=3600)
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.command is None) == (self.url is None):
            raise ValueError("exactly one of 'command' (stdio) or 'url' (http) is required")
        if self.command is not None:
            http_only = [n for n in ("headers", "bearer_token_env", "bearer_token_file") if getattr(self, n)]
            if http_only:
                raise ValueError(f"{', '.join(http_only)} only apply to http upstreams")
        else:
            stdio_only = [n for n in ("cwd", "env", "env_passthrough") if getattr(self, n)]
            if "sandbox" in self.model_fields_set:
                stdio_only.append("sandbox")
            if stdio_only:
                raise ValueError(f"{', '.join(stdio_only)} only apply to stdio upstreams")
            if self.bearer_token_env and self.bearer_token_file:
                raise ValueError("give at most one of bearer_token_env and bearer_token_file")
            if any(k.lower() == "authorization" for k in self.headers) and (
                self.bearer_token_env or self.bearer_token_file
            ):
                raise ValueError("an Authorization header and a bearer token are mutually exclusive")
        for name in (*self.env, *self.env_passthrough):
            if not _valid_env_name(name):
                raise ValueError(f"invalid environment variable name {name!r}")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"


def _valid_env_name(name: str) -> bool:
    return re.fullmatch(_ENV_NAME, name) is not None
