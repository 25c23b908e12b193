"""Listener settings: where the gateway accepts clients (Streamable HTTP and stdio)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from mcp_bastion.config._base import ConfigPath, StrictModel

__all__ = ["HttpListener", "Listeners", "StdioListener"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class HttpListener(StrictModel):
    """The Streamable HTTP endpoint of the gateway."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    path: str = Field(default="/mcp", pattern=r"^/[A-Za-z0-9._~/-]*$")
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s#?]+$")
    """This gateway's resource URI as clients see it (RFC 8707 audience, RFC 9728 ``resource``)."""
    tls_cert_file: ConfigPath | None = None
    tls_key_file: ConfigPath | None = None
    allowed_hosts: tuple[str, ...] = ()
    """Accepted ``Host`` headers; empty = the bind address and loopback names with the port."""
    allowed_origins: tuple[str, ...] = ()
    """Accepted ``Origin`` headers (browsers); requests without ``Origin`` are not browsers."""
    require_auth: bool = True
    state_key_file: ConfigPath | None = None
    """Key protecting MRTR ``requestState``; generated in memory per process when absent."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file must be given together")
        if self.host not in _LOOPBACK and self.tls_cert_file is None and not self.require_auth:
            raise ValueError("a non-loopback listener without TLS must at least require authentication")
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert_file is not None else "http"

    @property
    def resource_uri(self) -> str:
        """The canonical resource URI of this gateway (no trailing slash)."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}".rstrip("/")

    @property
    def effective_allowed_hosts(self) -> tuple[str, ...]:
        if self.allowed_hosts:
            return self.allowed_hosts
        names = {self.host, *(_LOOPBACK if self.host in _LOOPBACK else ())}
        return tuple(sorted(f"[{n}]:{self.port}" if ":" in n else f"{n}:{self.port}" for n in names))


class StdioListener(StrictModel):
    """stdio downstream (``bastion wrap``): the client is the process that started us."""

    enabled: bool = True


class Listeners(StrictModel):
    """Which downstream listeners run."""

    http: HttpListener | None = None
    stdio: StdioListener | None = None
