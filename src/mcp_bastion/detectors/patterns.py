"""Secret and PII patterns with their validators (used by :mod:`mcp_bastion.detectors.secrets`).

Each pattern names the ``kind`` that appears in placeholders (``[REDACTED:<kind>:<n>]``),
its rule, the regex group holding the sensitive value, cheap needles that must occur for
the regex to run, and an optional validator (entropy, Luhn, IBAN mod-97...).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "PII_KINDS",
    "PII_PATTERNS",
    "SECRET_FIELD_RE",
    "SECRET_PATTERNS",
    "Pattern",
    "entropy",
    "is_placeholder",
]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One recognisable kind of secret or personal data."""

    kind: str
    rule_id: str
    regex: re.Pattern[str]
    group: int = 0
    needles: tuple[str, ...] = ()
    validator: Callable[[str], bool] | None = None


def entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


_PLACEHOLDER_RE = re.compile(r"\[REDACTED:[a-z0-9_]+:\d+\]")


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is (or contains) one of our redaction placeholders or a template variable."""
    return (
        bool(_PLACEHOLDER_RE.search(value))
        or value[:1] in "$<{%*"
        or "xxxx" in value.lower()
        or "****" in value
    )


def _generic_ok(value: str) -> bool:
    if (
        is_placeholder(value)
        or value.isdigit()
        or value.lower() in {"true", "false", "null", "none", "undefined"}
    ):
        return False
    # Identifiers and prose ("get_password", "required") are not secrets; real ones mix classes.
    classes = sum(
        (any(c.isdigit() for c in value), any(c.islower() for c in value), any(c.isupper() for c in value))
    )
    return classes >= 2 and entropy(value) >= 2.8


def _openai_ok(value: str) -> bool:
    return not value.startswith("sk-ant-") and any(c.isdigit() for c in value) and entropy(value) >= 3.5


def _url_password_ok(value: str) -> bool:
    return not is_placeholder(value) and value.lower() not in {
        "password",
        "pass",
        "pwd",
        "secret",
        "x",
        "****",
    }


def _c(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


SECRET_PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "private_key",
        "BST-SE-002",
        _c(
            r"-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,\-]{0,16000}?"
            r"(?:-----END (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----|$)"
        ),
        needles=("PRIVATE KEY",),
    ),
    Pattern(
        "aws_access_key",
        "BST-SE-001",
        _c(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        needles=("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    Pattern(
        "github_token",
        "BST-SE-001",
        _c(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
        needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Pattern("gitlab_token", "BST-SE-001", _c(r"\bglpat-[A-Za-z0-9_\-]{20,255}"), needles=("glpat-",)),
    Pattern(
        "slack_webhook",
        "BST-SE-001",
        _c(r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}"),
        needles=("hooks.slack.com",),
    ),
    Pattern("slack_token", "BST-SE-001", _c(r"\bxox[abposre]-[A-Za-z0-9-]{10,255}"), needles=("xox",)),
    Pattern(
        "stripe_key",
        "BST-SE-001",
        _c(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,255}"),
        needles=("_live_", "_test_"),
    ),
    Pattern("anthropic_key", "BST-SE-001", _c(r"\bsk-ant-[A-Za-z0-9_\-]{20,255}"), needles=("sk-ant-",)),
    Pattern(
        "openai_key",
        "BST-SE-001",
        _c(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,255}"),
        needles=("sk-",),
        validator=_openai_ok,
    ),
    Pattern("google_api_key", "BST-SE-001", _c(r"\bAIza[0-9A-Za-z_\-]{35}"), needles=("AIza",)),
    Pattern("google_oauth_token", "BST-SE-001", _c(r"\bya29\.[0-9A-Za-z_\-]{20,}"), needles=("ya29.",)),
    Pattern("npm_token", "BST-SE-001", _c(r"\bnpm_[A-Za-z0-9]{36}\b"), needles=("npm_",)),
    Pattern("pypi_token", "BST-SE-001", _c(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"), needles=("pypi-AgE",)),
    Pattern("huggingface_token", "BST-SE-001", _c(r"\bhf_[A-Za-z0-9]{34,}\b"), needles=("hf_",)),
    Pattern(
        "sendgrid_key", "BST-SE-001", _c(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b"), needles=("SG.",)
    ),
    Pattern(
        "jwt",
        "BST-SE-001",
        _c(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
        needles=("eyJ",),
    ),
    Pattern(
        "url_password",
        "BST-SE-003",
        _c(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^/\s:@'\"]{1,64}:([^/\s@'\"]{1,128})@[^\s/'\"]{1,255}"),
        group=1,
        needles=("://",),
        validator=_url_password_ok,
    ),
    Pattern(
        "secret",
        "BST-SE-004",
        _c(
            r"(?i)(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|access[_-]?key"
            r"|auth[_-]?key|credentials?|private[_-]?key|session[_-]?id)[a-z0-9_.\-]{0,20}?\b[\"']?\s{0,3}(?::|=>|=)\s{0,3}[\"']?"
            r"([^\s\"'`,;<>{}()\[\]]{8,256})"
        ),
        group=1,
        needles=(
            "key",
            "secret",
            "token",
            "pass",
            "pwd",
            "credential",
            "session",
            "KEY",
            "SECRET",
            "TOKEN",
            "PASS",
            "PWD",
            "CREDENTIAL",
            "SESSION",
            "Key",
            "Secret",
            "Token",
            "Pass",
        ),
        validator=_generic_ok,
    ),
)

SECRET_FIELD_RE = re.compile(
    r"(?i)(?:^|[_\-.])(?:api[_-]?key|apikey|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token"
    r"|id[_-]?token|password|passwd|pwd|private[_-]?key|auth[_-]?token|credentials?)$|^(?:authorization|cookie)$"
)


def _luhn(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def _phone(value: str) -> bool:
    return 9 <= sum(c.isdigit() for c in value) <= 15


def _ipv4(value: str) -> bool:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return not (address.is_unspecified or str(address).startswith("255."))


PII_PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "email",
        "BST-PII-001",
        _c(r"\b[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"),
        needles=("@",),
    ),
    Pattern(
        "phone",
        "BST-PII-002",
        _c(
            r"(?<![\w+])(?:\+[1-9][0-9]{0,2}[\s.\-]?(?:\(?[0-9]{1,4}\)?[\s.\-]?){1,4}[0-9]{2,4}|\(\d{3}\)\s?\d{3}[\-.\s]\d{4}"
            r"|\b\d{3}[\-.]\d{3}[\-.]\d{4})\b"
        ),
        validator=_phone,
    ),
    Pattern(
        "iban",
        "BST-PII-003",
        _c(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
        validator=_iban,
    ),
    Pattern("credit_card", "BST-PII-004", _c(r"\b(?:\d[ \-]?){12,18}\d\b"), validator=_luhn),
    Pattern(
        "ipv4",
        "BST-PII-005",
        _c(r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b"),
        needles=(".",),
        validator=_ipv4,
    ),
)

PII_KINDS = frozenset(p.kind for p in PII_PATTERNS)
