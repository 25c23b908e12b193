"""Secrets and personal data: detection and redaction with stable placeholders.

Rules BST-SE-001..005 (secrets, always on) and BST-PII-001..005 (personal data, only the
kinds the caller asks for). A redacted value becomes ``[REDACTED:<kind>:<n>]`` where ``n``
numbers distinct values of that kind in order of appearance, so one call maps the same
secret to the same placeholder everywhere and nothing of the secret remains.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_bastion.detectors._anchors import anchors_of
from mcp_bastion.detectors.patterns import (
    PII_KINDS,
    PII_PATTERNS,
    SECRET_FIELD_RE,
    SECRET_PATTERNS,
    Pattern,
    is_placeholder,
)
from mcp_bastion.detectors.textutil import cap
from mcp_bastion.detectors.types import RULES, Finding, Severity, rule
from mcp_bastion.detectors.unicode_rules import truncated_note

__all__ = ["PII_KINDS", "redact", "redact_value", "scan_secrets"]

_ENV_LINE_RE = re.compile(r"(?m)^(?:export\s+)?[A-Z][A-Z0-9_]{1,64}=\S")
_ENV_SECRET_NAME_RE = re.compile(
    r"(?m)^(?:export\s+)?[A-Z0-9_]{0,40}(?:KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|CREDENTIALS?)[A-Z0-9_]{0,20}="
)


@rule(
    "BST-SE-001",
    "Provider API key or token",
    Severity.CRITICAL,
    cwe="CWE-798",
    owasp="LLM02",
    category="secrets",
)
def _doc_provider_token() -> None:
    """API keys and tokens with a recognisable provider format.

    AWS access key ids (``AKIA``/``ASIA``...), GitHub (``ghp_``, ``github_pat_``...), GitLab
    (``glpat-``), Slack tokens and webhooks, Stripe (``sk_live_``...), Anthropic
    (``sk-ant-``), OpenAI-style (``sk-``/``sk-proj-`` with an entropy check), Google API keys
    (``AIza``) and OAuth tokens (``ya29.``), npm, PyPI, Hugging Face, SendGrid, and JWTs.
    High precision: each format is specific enough to be reported on sight.
    """


@rule("BST-SE-002", "Private key", Severity.CRITICAL, cwe="CWE-321", owasp="LLM02", category="secrets")
def _doc_private_key() -> None:
    """A PEM private key block (RSA, EC, OpenSSH, PKCS#8, PGP).

    From ``-----BEGIN ... PRIVATE KEY-----`` to the matching END line (or the end of a
    truncated text); the whole block is one redaction.
    """


@rule("BST-SE-003", "Credentials in a URL", Severity.HIGH, cwe="CWE-522", owasp="LLM02", category="secrets")
def _doc_url_credentials() -> None:
    """A password embedded in a URL's userinfo (``postgres://app:s3cr3t@db/prod``).

    Only the password part is redacted, so the URL stays readable. Template values
    (``${PASSWORD}``, ``<password>``, ``****``) are ignored.
    """


@rule("BST-SE-004", "Secret assignment", Severity.HIGH, cwe="CWE-798", owasp="LLM02", category="secrets")
def _doc_assignment() -> None:
    """A value assigned to a secret-looking name: ``api_key = "..."``, ``"password": "..."``,
    ``DB_TOKEN=...``.

    The value must be at least 8 characters, mix character classes and have Shannon
    entropy of at least 2.8 bits per character; identifiers (``get_password``), numbers,
    booleans and template variables are not reported. In JSON values walked by
    :func:`redact_value`, a string under a secret-named key (``password``, ``api_key``,
    ``client_secret``, ``authorization``...) is redacted whatever it looks like.
    """


@rule("BST-SE-005", "Environment dump", Severity.HIGH, cwe="CWE-526", owasp="LLM02", category="secrets")
def _doc_env_dump() -> None:
    """Text that looks like a dump of environment variables.

    Five or more ``NAME=value`` lines, at least one of them with a secret-looking name
    (``*_KEY``, ``*_SECRET``, ``*_TOKEN``, ``*PASSWORD*``). The secret values themselves are
    reported and redacted by BST-SE-001/003/004; this finding says that a whole
    environment leaked, which usually means a tool reads the environment.
    """


@rule("BST-PII-001", "E-mail address", Severity.LOW, cwe="CWE-359", owasp="LLM02", category="pii")
def _doc_email() -> None:
    """An e-mail address (only when ``"email"`` is in the requested PII kinds)."""


@rule("BST-PII-002", "Phone number", Severity.LOW, cwe="CWE-359", owasp="LLM02", category="pii")
def _doc_phone() -> None:
    """An international (``+49 30 1234567``) or North-American (``(555) 123-4567``) phone number
    with 9 to 15 digits (only when ``"phone"`` is requested)."""


@rule("BST-PII-003", "IBAN", Severity.MEDIUM, cwe="CWE-359", owasp="LLM02", category="pii")
def _doc_iban() -> None:
    """An International Bank Account Number whose ISO 13616 mod-97 checksum is valid
    (only when ``"iban"`` is requested)."""


@rule("BST-PII-004", "Payment card number", Severity.HIGH, cwe="CWE-359", owasp="LLM02", category="pii")
def _doc_card() -> None:
    """A 13-19 digit card number (spaces or dashes allowed) that passes the Luhn check
    (only when ``"credit_card"`` is requested)."""


@rule("BST-PII-005", "IPv4 address", Severity.INFO, cwe="CWE-359", owasp="LLM02", category="pii")
def _doc_ipv4() -> None:
    """A dotted-quad IPv4 address (only when ``"ipv4"`` is requested)."""


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    priority: int
    pattern: Pattern


# Each distinct needle with the bit of every pattern it belongs to: one ``in`` per needle
# (C speed) tells which patterns can match at all; the rest are never run.
_ALL_PATTERNS = (*SECRET_PATTERNS, *PII_PATTERNS)
_NEEDLE_BITS: tuple[tuple[str, int], ...] = tuple(
    (needle, sum(1 << i for i, p in enumerate(_ALL_PATTERNS) if needle in p.needles))
    for needle in dict.fromkeys(n for p in _ALL_PATTERNS for n in p.needles)
)
_NO_NEEDLES = sum(1 << i for i, p in enumerate(_ALL_PATTERNS) if not p.needles)


def _pattern_anchors(regex: re.Pattern[str]) -> tuple[tuple[str, ...], bool]:
    """Literal anchors of ``regex`` and whether they are to be found in the lower-cased text.

    A leading ``(?i)`` pattern whose anchors are all lower case is anchored on the
    lower-cased text, but only for ASCII text (where lower-casing keeps every position and
    case-insensitive matching is plain ASCII folding).
    """
    if regex.pattern.startswith("(?i)"):
        anchors = anchors_of(re.compile(regex.pattern[4:]))
        return (anchors, True) if all(a == a.lower() for a in anchors) else ((), False)
    return anchors_of(regex), False


_ANCHORS = tuple(_pattern_anchors(p.regex) for p in _ALL_PATTERNS)


# Patterns without anchors whose matches never contain a line feed: on long text they run
# only on the lines that hold one of their needles.
_LINE_BOUND = frozenset({"github_token", "url_password"})


def _by_line(index: int, text: str) -> Iterator[re.Match[str]]:
    """``finditer`` on each line that holds a needle (the pattern cannot cross a line feed)."""
    pattern = _ALL_PATTERNS[index]
    needles = [needle for needle in pattern.needles if needle in text]
    lines = text.split("\n")
    offsets = [0] * len(lines)
    for i in range(1, len(lines)):
        offsets[i] = offsets[i - 1] + len(lines[i - 1]) + 1
    chosen = sorted({i for needle in needles for i, line in enumerate(lines) if needle in line})
    for i in chosen:
        yield from pattern.regex.finditer(text, offsets[i], offsets[i] + len(lines[i]))


def _starts(anchors: tuple[str, ...], haystack: str, offset: int, out: list[int]) -> None:
    for anchor in anchors:
        at = haystack.find(anchor)
        while at != -1:
            out.append(offset + at)
            at = haystack.find(anchor, at + 1)


def _folded_starts(anchors: tuple[str, ...], text: str) -> list[int] | None:
    """Where a case-insensitive match can start, or None when a plain search is cheaper.

    In ASCII lines: where a lower-cased anchor occurs (ASCII case folding keeps positions).
    In the (few, short) other lines every position is a candidate, since Unicode case
    folding (``ſ`` for ``s``, the Kelvin sign for ``k``) is more than lower-casing.
    """
    if text.isascii():
        starts: list[int] = []
        _starts(anchors, text.lower(), 0, starts)
        return starts
    lines = text.split("\n")
    if sum(len(line) for line in lines if not line.isascii()) > len(text) // 16:
        return None
    starts = []
    offset = 0
    for line in lines:
        if line.isascii():
            _starts(anchors, line.lower(), offset, starts)
        else:
            starts.extend(range(offset, offset + len(line)))
        offset += len(line) + 1
    return starts


def _matches(index: int, text: str) -> Iterator[re.Match[str]]:
    """``finditer`` of pattern ``index``, trying the regex only where one of its anchors occurs.

    Every match starts with an anchor, so the leftmost match at or after the end of the
    previous one is found among those places: the same matches as ``finditer``.
    """
    regex = _ALL_PATTERNS[index].regex
    anchors, folded = _ANCHORS[index]
    if not anchors:
        if len(text) > 8192 and _ALL_PATTERNS[index].kind in _LINE_BOUND:
            yield from _by_line(index, text)
        else:
            yield from regex.finditer(text)
        return
    if folded:
        starts = _folded_starts(anchors, text)
        if starts is None:
            yield from regex.finditer(text)
            return
    else:
        starts = []
        _starts(anchors, text, 0, starts)
    end = 0
    for start in sorted(set(starts)):
        if start < end:
            continue
        match = regex.match(text, start)
        if match is not None:
            yield match
            end = max(match.end(), start + 1)


def _spans(text: str, pii: frozenset[str]) -> list[_Span]:
    possible = _NO_NEEDLES
    for needle, bits in _NEEDLE_BITS:
        if needle in text:
            possible |= bits
    found: list[_Span] = []
    priority = -1
    for index, pattern in enumerate(_ALL_PATTERNS):
        if index >= len(SECRET_PATTERNS) and pattern.kind not in pii:
            continue
        priority += 1  # secrets first, then the requested PII kinds, in table order
        if not possible >> index & 1:
            continue
        for match in _matches(index, text):
            value = match.group(pattern.group)
            if not value or is_placeholder(value):
                continue
            if pattern.validator is not None and not pattern.validator(value):
                continue
            found.append(_Span(match.start(pattern.group), match.end(pattern.group), priority, pattern))
    found.sort(key=lambda s: (s.start, s.priority, -(s.end - s.start)))
    chosen: list[_Span] = []
    for span in found:
        if chosen and span.start < chosen[-1].end:
            if span.priority < chosen[-1].priority and span.end >= chosen[-1].end:
                chosen[-1] = span
            continue
        chosen.append(span)
    return chosen


def _evidence(kind: str, value: str) -> str:
    # Never the secret: a provider prefix at most, and the length.
    prefix = value[:4] if len(value) >= 20 and kind not in {"secret", "url_password", "private_key"} else ""
    return f"{kind}: {prefix}…({len(value)} chars)" if prefix else f"{kind}: ({len(value)} chars)"


def _env_dump(text: str, location: str) -> list[Finding]:
    if "=" not in text:
        return []
    lines = len(_ENV_LINE_RE.findall(text))
    if lines < 5 or _ENV_SECRET_NAME_RE.search(text) is None:
        return []
    return [
        RULES["BST-SE-005"].finding(f"{lines} NAME=value lines with secret names", location, confidence=0.85)
    ]


def _check_pii(pii: frozenset[str]) -> frozenset[str]:
    unknown = pii - PII_KINDS
    if unknown:
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; known: {sorted(PII_KINDS)}")
    return pii


def scan_secrets(text: str, *, pii: frozenset[str] = frozenset()) -> list[Finding]:
    """Findings of secrets (always) and of the requested PII kinds (``PII_KINDS``) in ``text``."""
    _check_pii(pii)
    location = "output"
    head, truncated = cap(text)
    findings: list[Finding] = [truncated_note(len(text), location)] if truncated else []
    for span in _spans(head, pii):
        this = RULES[span.pattern.rule_id]
        value = head[span.start : span.end]
        findings.append(
            this.finding(
                f"{this.title} ({span.pattern.kind})",
                location,
                confidence=0.95 if this.category == "secrets" else 0.9,
                evidence=_evidence(span.pattern.kind, value),
            )
        )
    findings += _env_dump(head, location)
    return findings


@dataclass(slots=True)
class _Redactor:
    """Placeholder numbering shared across one call (so one value keeps one placeholder)."""

    pii: frozenset[str]
    numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def placeholder(self, kind: str, value: str, rule_id: str, location: str) -> str:
        per_kind = self.numbers.setdefault(kind, {})
        if value not in per_kind:
            per_kind[value] = len(per_kind) + 1
            this = RULES[rule_id]
            self.findings.append(
                this.finding(f"redacted {kind}", location, confidence=0.95, evidence=_evidence(kind, value))
            )
        return f"[REDACTED:{kind}:{per_kind[value]}]"

    def text(self, text: str, location: str) -> str:
        spans = _spans(text, self.pii)
        if not spans:
            return text
        parts: list[str] = []
        last = 0
        for span in spans:
            parts.append(text[last : span.start])
            value = text[span.start : span.end]
            parts.append(self.placeholder(span.pattern.kind, value, span.pattern.rule_id, location))
            last = span.end
        parts.append(text[last:])
        return "".join(parts)

    def value(self, value: Any, location: str, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value, location)
        if depth > 64:
            return value
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                path = f"{location}.{key}"
                if (
                    isinstance(key, str)
                    and isinstance(item, str)
                    and SECRET_FIELD_RE.search(key)
                    and len(item) >= 4
                    and not is_placeholder(item)
                ):
                    out[key] = self.placeholder("secret", item, "BST-SE-004", path)
                else:
                    out[key] = self.value(item, path, depth + 1)
            return out
        if isinstance(value, list | tuple):
            return [self.value(item, f"{location}[{index}]", depth + 1) for index, item in enumerate(value)]
        return value


def redact(text: str, *, pii: frozenset[str] = frozenset()) -> tuple[str, list[Finding]]:
    """``text`` with every secret (and requested PII kind) replaced by a stable placeholder.

    The whole text is redacted (no size cap: an unredacted tail would leak). Idempotent:
    placeholders are never redacted again.
    """
    redactor = _Redactor(_check_pii(pii))
    return redactor.text(text, "output"), redactor.findings


def redact_value(value: Any, *, pii: frozenset[str] = frozenset()) -> tuple[Any, list[Finding]]:
    """Redact every string inside a JSON value (dicts, lists, strings); other values pass.

    Placeholders are numbered across the whole value. Strings under secret-named keys
    (``password``, ``api_key``, ``token``, ``authorization``...) are redacted entirely.
    Tuples come back as lists (JSON has no tuples).
    """
    redactor = _Redactor(_check_pii(pii))
    return redactor.value(value, "$"), redactor.findings
