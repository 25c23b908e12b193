"""Open stores from URLs: ``memory://``, ``sqlite:///path``, ``postgresql://...``, ``redis://...``.

Which back end provides which kind:

=============  ======  ======  ==========  =====
kind           memory  sqlite  postgresql  redis
=============  ======  ======  ==========  =====
pins           yes     yes     yes         no
approvals      yes     yes     yes         no
state          yes     yes     yes         yes
rate_limits    yes     yes     yes         yes
audit          yes     yes     yes         no
=============  ======  ======  ==========  =====

``sqlite:///rel/path.db`` and ``sqlite:////abs/path.db`` follow SQLAlchemy's form.
``postgresql://...?schema=NAME`` selects a schema (our parameter, removed before
connecting). ``redis://...?prefix=NAME`` sets the key prefix (default ``bastion:``).
Opening is lazy: nothing connects until the first call, so a service that is down at
start-up makes calls fail with ``StoreUnavailableError`` instead of the start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mcp_bastion.errors import ConfigError

from .interface import ApprovalStore, AuditStore, PinStore, RateLimitStore, StateStore

__all__ = ["KINDS", "Kind", "Stores", "open_store", "open_stores"]

Kind = Literal["pins", "approvals", "state", "rate_limits", "audit"]
KINDS: tuple[Kind, ...] = ("pins", "approvals", "state", "rate_limits", "audit")
_REDIS_KINDS = frozenset({"state", "rate_limits"})


def _split_param(url: str, name: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    value = next((v for k, v in query if k == name), None)
    rest = urlencode([(k, v) for k, v in query if k != name])
    return urlunsplit(parts._replace(query=rest)), value


def _scheme(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme in {"postgres", "postgresql"}:
        return "postgresql"
    if scheme in {"redis", "rediss", "unix"}:
        return "redis"
    if scheme in {"sqlite", "memory"}:
        return scheme
    raise ConfigError(f"unsupported store URL scheme {scheme!r}", public_message="unsupported store URL")


def _sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        raise ConfigError("sqlite URL must look like sqlite:///path/to/file.db")
    return Path(url[len("sqlite:///") :])


@dataclass
class _Resources:
    """Connections shared by the stores opened together; closed once."""

    closers: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


def _build(kind: Kind, url: str, res: _Resources) -> Any:
    scheme = _scheme(url)
    if scheme == "memory":
        from . import memory

        return {
            "pins": memory.MemoryPinStore,
            "approvals": memory.MemoryApprovalStore,
            "state": memory.MemoryStateStore,
            "rate_limits": memory.MemoryRateLimitStore,
            "audit": memory.MemoryAuditStore,
        }[kind]()
    if scheme == "sqlite":
        from . import sqlite, sqlite_audit

        path = _sqlite_path(url)
        # The audit log gets its own connection and thread: appends never queue behind lookups.
        key = f"{path}#audit" if kind == "audit" else str(path)
        db = res.objects.get(key)
        if db is None:
            db = res.objects[key] = sqlite.SQLiteDatabase(path)
            res.closers[key] = db.close
        return {
            "pins": sqlite.SQLitePinStore,
            "approvals": sqlite.SQLiteApprovalStore,
            "state": sqlite.SQLiteStateStore,
            "rate_limits": sqlite.SQLiteRateLimitStore,
            "audit": sqlite_audit.SQLiteAuditStore,
        }[kind](db)
    if scheme == "postgresql":
        from . import postgres, postgres_audit

        conninfo, schema = _split_param(url, "schema")
        key = f"{conninfo}#{schema}"
        pg = res.objects.get(key)
        if pg is None:
            pg = res.objects[key] = postgres.PostgresDatabase(conninfo, schema=schema)
            res.closers[key] = pg.close
        return {
            "pins": postgres.PostgresPinStore,
            "approvals": postgres.PostgresApprovalStore,
            "state": postgres.PostgresStateStore,
            "rate_limits": postgres.PostgresRateLimitStore,
            "audit": postgres_audit.PostgresAuditStore,
        }[kind](pg)
    if kind not in _REDIS_KINDS:
        raise ConfigError(
            f"redis cannot hold {kind}; use sqlite or postgresql", public_message="unsupported store"
        )
    from . import redis as redis_store

    plain, prefix = _split_param(url, "prefix")
    client = res.objects.get(plain)
    if client is None:
        client = res.objects[plain] = redis_store.connect(plain)
        res.closers[plain] = client.aclose
    cls = redis_store.RedisStateStore if kind == "state" else redis_store.RedisRateLimitStore
    return cls(client, prefix=prefix or "bastion:")


@dataclass
class Stores:
    """One store of each kind, and ``aclose`` for the connections behind them."""

    pins: PinStore
    approvals: ApprovalStore
    state: StateStore
    rate_limits: RateLimitStore
    audit: AuditStore
    _resources: _Resources = field(repr=False)

    async def aclose(self) -> None:
        closers = list(self._resources.closers.values())
        self._resources.closers.clear()
        for close in closers:
            await close()


def open_store(kind: Kind, url: str) -> tuple[Any, Callable[[], Awaitable[None]]]:
    """Open one store of ``kind`` at ``url``; return it and the coroutine function closing it."""
    if kind not in KINDS:
        raise ConfigError(f"unknown store kind {kind!r}")
    res = _Resources()
    store = _build(kind, url, res)

    async def close() -> None:
        for closer in list(res.closers.values()):
            await closer()
        res.closers.clear()

    return store, close


def open_stores(config: Mapping[str, str]) -> Stores:
    """Open every kind: ``config["default"]`` (default ``memory://``) unless a kind has its own URL.

    Stores at the same URL share one connection (pool); the audit log on SQLite gets its
    own. Example: ``{"default": "sqlite:///var/bastion.db", "rate_limits": "redis://127.0.0.1"}``.
    """
    unknown = set(config) - {"default", *KINDS}
    if unknown:
        raise ConfigError(f"unknown store kinds: {sorted(unknown)}")
    res = _Resources()
    default = config.get("default", "memory://")
    built = {kind: _build(kind, config.get(kind, default), res) for kind in KINDS}
    return Stores(_resources=res, **built)
