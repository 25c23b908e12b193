"""Simulation tokens: proof that a switching operation was simulated, on this grid, by this caller.

``simulate_switching`` returns a token; ``operate_switch`` accepts only a token that is

- authentic: HMAC-SHA256 over the canonical claims with a key derived from the server's
  key file (compared in constant time);
- bound to the switch, the action, the grid state version the simulation ran on and the
  subject who simulated it;
- fresh: it expires ``ttl`` seconds after issue (120 s by default);
- unused: its id is consumed on first use (in this process; across processes the version
  binding does the same job, since a successful operation bumps the state version).

The token also records whether the simulated state had new limit violations, so the
server can refuse the operation for anyone but a supervisor.

Format: ``base64url(claims JSON) "." base64url(mac)``. Not encrypted: the claims are the
caller's own simulation facts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gridops.config import derive_key

__all__ = ["SIMULATION_PURPOSE", "SimulationClaims", "SimulationTokenError", "SimulationTokens"]

SIMULATION_PURPOSE = "simulation-hmac-v1"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,1024}\.[A-Za-z0-9_-]{43}$"  # noqa: S105 - a regex, not a secret
_FORMAT_VERSION = 1
_MAX_REMEMBERED = 100_000


class SimulationTokenError(Exception):
    """The token is refused; the message is safe to show to the caller."""


@dataclass(frozen=True)
class SimulationClaims:
    """What a simulation token binds."""

    switch_id: int
    action: Literal["open", "close"]
    state_version: int
    subject: str
    violations: bool
    expires_at: int
    token_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SimulationTokens:
    """Issues and redeems simulation tokens. Thread-safe (one lock around the used-id set)."""

    def __init__(
        self, master_key: bytes, ttl_seconds: int = 120, clock: Callable[[], float] = time.time
    ) -> None:
        self._key = derive_key(master_key, SIMULATION_PURPOSE)
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._used: dict[str, int] = {}  # token id -> expiry, pruned when expired

    @property
    def ttl_seconds(self) -> int:
        """How long a token stays valid."""
        return self._ttl

    def issue(
        self,
        switch_id: int,
        action: Literal["open", "close"],
        state_version: int,
        subject: str,
        violations: bool,
    ) -> tuple[str, SimulationClaims]:
        """A new token for this simulation, and its claims."""
        claims = SimulationClaims(
            switch_id=switch_id,
            action=action,
            state_version=state_version,
            subject=subject,
            violations=violations,
            expires_at=int(self._clock()) + self._ttl,
            token_id=secrets.token_hex(12),
        )
        body = json.dumps(
            {
                "v": _FORMAT_VERSION,
                "sw": claims.switch_id,
                "act": claims.action,
                "ver": claims.state_version,
                "sub": claims.subject,
                "viol": claims.violations,
                "exp": claims.expires_at,
                "jti": claims.token_id,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode("utf-8")
        payload = _b64(body)
        return f"{payload}.{_b64(self._mac(payload))}", claims

    def redeem(self, token: str, switch_id: int, action: str, subject: str) -> SimulationClaims:
        """Check ``token`` against this request and consume it; raise ``SimulationTokenError`` if refused."""
        claims = self._authentic(token)
        if claims.expires_at < self._clock():
            raise SimulationTokenError("simulation token expired: simulate the switching again")
        if claims.switch_id != switch_id or claims.action != action:
            raise SimulationTokenError(
                "simulation token does not match this operation (it was issued for another switch or action)"
            )
        if not hmac.compare_digest(claims.subject.encode("utf-8"), subject.encode("utf-8")):
            raise SimulationTokenError("simulation token was issued to another user")
        self._consume(claims)
        return claims

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()

    def _authentic(self, token: str) -> SimulationClaims:
        payload, _, mac = token.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(mac), self._mac(payload))
        except (ValueError, UnicodeEncodeError):
            valid = False
        if not valid:
            raise SimulationTokenError("invalid simulation token")
        try:
            data: Any = json.loads(_unb64(payload))
            claims = SimulationClaims(
                switch_id=int(data["sw"]),
                action=data["act"],
                state_version=int(data["ver"]),
                subject=str(data["sub"]),
                violations=bool(data["viol"]),
                expires_at=int(data["exp"]),
                token_id=str(data["jti"]),
            )
            ok = data["v"] == _FORMAT_VERSION and claims.action in ("open", "close")
        except (ValueError, KeyError, TypeError) as exc:
            # Authentic but unreadable means a format change: still a refusal.
            raise SimulationTokenError("invalid simulation token") from exc
        if not ok:
            raise SimulationTokenError("invalid simulation token")
        return claims

    def _consume(self, claims: SimulationClaims) -> None:
        now = self._clock()
        with self._lock:
            if claims.token_id in self._used:
                raise SimulationTokenError("simulation token already used: simulate the switching again")
            if len(self._used) >= _MAX_REMEMBERED:
                self._used = {k: exp for k, exp in self._used.items() if exp >= now}
                if len(self._used) >= _MAX_REMEMBERED:
                    # Fail closed rather than forget unexpired ids.
                    raise SimulationTokenError("too many pending simulations: try again shortly")
            self._used[claims.token_id] = claims.expires_at
