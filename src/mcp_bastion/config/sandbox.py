"""The sandbox profile: how one stdio upstream server is isolated and supervised.

A ``SandboxProfile`` is embedded per upstream in ``bastion.yaml``; the defaults are the safe
profile (no network, read-only system, private ``/tmp``, hidden home, tight limits). The
profile is data only: ``mcp_bastion.sandbox.build_command`` turns it into a launch plan.

``network: egress`` with an ``egress`` block gives the server no network of its own, only
the gateway's CONNECT proxy, which lets through the listed ``host:port`` entries alone.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DEFAULT_ENV_ALLOW", "EgressPolicy", "RestartPolicy", "SandboxProfile", "parse_egress_entry"]

# Variables that describe the locale and the search path, never credentials.
DEFAULT_ENV_ALLOW: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "TZ", "TERM")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(?P<port>\d{1,5}))?$")
DEFAULT_EGRESS_PORT = 443


def parse_egress_entry(entry: str) -> tuple[str, int]:
    """Normalise one allow-list entry to ``(host, port)``; raise ``ValueError`` if invalid.

    ``host`` is a lower-case DNS name without a trailing dot, a name with one leading
    ``*.`` wildcard label (``*.example.com``: any name below ``example.com``, not
    ``example.com`` itself, at least two labels after the wildcard), an IPv4 address, or
    an IPv6 address in brackets (returned without them). The port defaults to 443. Names
    that a resolver would read as a number (``127.1``, ``2130706433``) are refused.
    """
    match = _HOST_PORT.match(entry.strip())
    if match is None:
        raise ValueError(f"not host[:port]: {entry!r}")
    host, port_text = match.group("host"), match.group("port")
    port = int(port_text) if port_text is not None else DEFAULT_EGRESS_PORT
    if not 1 <= port <= 65535:
        raise ValueError(f"port out of range in {entry!r}")
    if host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host[1:-1])), port
        except ValueError as exc:
            raise ValueError(f"not an IPv6 address: {entry!r}") from exc
    host = host.lower().removesuffix(".")
    labels = host.split(".")
    if labels[-1].isdigit() or re.fullmatch(r"0x[0-9a-f]*", labels[-1]):
        try:
            return str(ipaddress.IPv4Address(host)), port
        except ValueError as exc:
            raise ValueError(f"numeric host that is not a dotted IPv4 address: {entry!r}") from exc
    wildcard = labels[0] == "*"
    if wildcard:
        labels = labels[1:]
        if len(labels) < 2:
            raise ValueError(f"a wildcard needs at least two labels after it: {entry!r}")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"not a host name (a wildcard is allowed only as a leading '*.'): {entry!r}")
    return host, port


class EgressPolicy(BaseModel):
    """Where a server with ``network: egress`` may connect, through the gateway's CONNECT proxy.

    ``allow``: ``host[:port]`` entries (see ``parse_egress_entry``); normalised to
    ``host:port``. An IP address is reachable only when listed as such. A listed *name*
    whose addresses are loopback, private, link-local or otherwise not global is refused
    (DNS rebinding of the allow-list) unless the address is inside ``private_networks``.
    The proxy bounds concurrent tunnels, bytes per tunnel (both directions) and idle time.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: list[str] = Field(min_length=1)
    private_networks: list[str] = Field(default_factory=list)
    max_connections: int = Field(default=32, ge=1, le=4096)
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    idle_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("allow")
    @classmethod
    def _entries(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for entry in value:
            host, port = parse_egress_entry(entry)
            out.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        return list(dict.fromkeys(out))

    @field_validator("private_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(text, strict=False)) for text in value]
        except ValueError as exc:
            raise ValueError(f"not an IP network: {exc}") from exc


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
    ``network``: ``none`` (no network), ``host`` (the host's network) or ``egress`` (only
    the CONNECT proxy, which applies ``egress``; needs a confining isolation).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    isolation: Literal["auto", "bubblewrap", "landlock", "none"] = "auto"
    env_allow: list[str] = Field(default_factory=lambda: list(DEFAULT_ENV_ALLOW))
    env: dict[str, str] = Field(default_factory=dict)
    network: Literal["none", "host", "egress"] = "none"
    egress: EgressPolicy | None = None
    read_paths: list[str] = Field(default_factory=list)
    write_paths: list[str] = Field(default_factory=list)
    workdir: str | None = None
    tmpfs_mb: int = Field(default=256, ge=1, le=1 << 20)
    cpu_seconds: int = Field(default=60, ge=1)
    memory_mb: int = Field(default=2048, ge=16)  # Node (npx) reserves ~1.2 GB of address space
    max_open_files: int = Field(default=256, ge=16)
    max_processes: int = Field(default=64, ge=1)
    max_output_bytes: int = Field(default=4 * 1024 * 1024, ge=4096)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)

    @model_validator(mode="after")
    def _egress_needs_its_policy(self) -> SandboxProfile:
        if self.network == "egress":
            if self.egress is None:
                raise ValueError("network 'egress' needs an 'egress' block with an allow list")
            if self.isolation == "none":
                raise ValueError("network 'egress' cannot be enforced with isolation 'none'")
        elif self.egress is not None:
            raise ValueError(f"an 'egress' block needs network 'egress' (network is {self.network!r})")
        return self

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
