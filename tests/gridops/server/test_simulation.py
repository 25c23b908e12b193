"""Simulation tokens: authentic, bound, fresh and single-use, or refused."""

from __future__ import annotations

import base64
import json

import pytest

from gridops.server.simulation import SimulationTokenError, SimulationTokens

KEY = b"k" * 32


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _tokens(clock: Clock | None = None, key: bytes = KEY) -> SimulationTokens:
    return SimulationTokens(key, ttl_seconds=120, clock=clock or Clock())


def test_fresh_token_redeems_once() -> None:
    tokens = _tokens()
    token, claims = tokens.issue(7, "open", 3, "alice", violations=False)
    redeemed = tokens.redeem(token, 7, "open", "alice")
    assert redeemed == claims
    assert redeemed.state_version == 3
    with pytest.raises(SimulationTokenError, match="already used"):
        tokens.redeem(token, 7, "open", "alice")


@pytest.mark.parametrize(
    ("switch_id", "action", "subject", "message"),
    [
        (8, "open", "alice", "another switch or action"),
        (7, "close", "alice", "another switch or action"),
        (7, "open", "mallory", "another user"),
    ],
)
def test_token_is_bound(switch_id: int, action: str, subject: str, message: str) -> None:
    tokens = _tokens()
    token, _ = tokens.issue(7, "open", 3, "alice", violations=False)
    with pytest.raises(SimulationTokenError, match=message):
        tokens.redeem(token, switch_id, action, subject)
    # A refused attempt does not burn the token for its rightful owner.
    assert tokens.redeem(token, 7, "open", "alice").switch_id == 7


def test_expired_token_refused() -> None:
    clock = Clock()
    tokens = _tokens(clock)
    token, _ = tokens.issue(7, "open", 3, "alice", violations=False)
    clock.now += 121
    with pytest.raises(SimulationTokenError, match="expired"):
        tokens.redeem(token, 7, "open", "alice")


def test_tampered_claims_refused() -> None:
    tokens = _tokens()
    token, _ = tokens.issue(7, "open", 3, "alice", violations=True)
    payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["viol"] = False  # try to hide the violations
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(SimulationTokenError, match="invalid"):
        tokens.redeem(f"{forged}.{mac}", 7, "open", "alice")


def test_token_from_another_key_refused() -> None:
    token, _ = _tokens(key=b"x" * 32).issue(7, "open", 3, "alice", violations=False)
    with pytest.raises(SimulationTokenError, match="invalid"):
        _tokens().redeem(token, 7, "open", "alice")


@pytest.mark.parametrize("garbage", ["", ".", "abc", "a.b", "é.é", "x" * 50 + "." + "y" * 43])
def test_malformed_token_refused(garbage: str) -> None:
    with pytest.raises(SimulationTokenError, match="invalid"):
        _tokens().redeem(garbage, 7, "open", "alice")


def test_violation_flag_carried() -> None:
    tokens = _tokens()
    token, _ = tokens.issue(1, "close", 0, "bob", violations=True)
    assert tokens.redeem(token, 1, "close", "bob").violations is True
