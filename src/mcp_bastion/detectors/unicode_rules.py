"""Invisible Unicode, terminal escapes and the scan-size note (rules BST-UNI-*, BST-SYS-001)."""

from __future__ import annotations

import re

from mcp_bastion.detectors.textutil import (
    ANSI_RE,
    CONTROL_RE,
    INVISIBLE_RE,
    MAX_SCAN_CHARS,
    TAG_RE,
    non_ascii_lines,
)
from mcp_bastion.detectors.types import RULES, Finding, Severity, rule

__all__ = ["control_characters", "invisible_unicode", "truncated_note"]

_BIDI_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ZW_RE = re.compile("[\u00ad\u034f\u115f\u1160\u180e\u200b\u200c\u2060-\u2064\u3164\ufeff\uffa0]")
_ZW_RUN_RE = re.compile("[\u200b-\u200d\u2060\ufeff]{3,}")
_VS_SUPPLEMENT_RE = re.compile("[\U000e0100-\U000e01ef]")
_SGR_ONLY_RE = re.compile(r"\x1b\[[0-9;]{0,32}m")


def _codepoints(chars: str) -> str:
    return " ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(chars))[:80]


@rule(
    "BST-UNI-001",
    "Invisible Unicode",
    Severity.HIGH,
    cwe="CWE-1007",
    owasp="LLM01",
    category="unicode",
)
def invisible_unicode(text: str, location: str, *, metadata: bool) -> list[Finding]:
    """Invisible characters that hide text from the human reviewing it.

    A model reads every code point; a person reading a tool description or an output in a
    client does not see Unicode *tag characters* (U+E0000-U+E007F, which spell ASCII
    invisibly: "ASCII smuggling"), variation selectors used to encode bytes
    (U+E0100-U+E01EF), bidirectional controls (U+202A-U+202E, U+2066-U+2069, "Trojan
    Source") or zero-width characters (U+200B, U+2060, U+FEFF...).

    In tool metadata (names, descriptions, schemas, server instructions) any of them is
    reported. In outputs, where zero-width joiners occur in ordinary emoji and web text,
    tag characters, selector smuggling and bidi overrides are reported, and zero-width
    characters only in runs of three or more (a bit-encoding channel). The hidden ASCII
    of tag characters is decoded and also scanned by the injection rules.
    """
    if text.isascii() or INVISIBLE_RE.search(text) is None:
        return []
    text = non_ascii_lines(text)  # every pattern below matches code points above U+007F only
    this = RULES["BST-UNI-001"]
    out: list[Finding] = []
    tags = TAG_RE.findall(text)
    if tags:
        hidden = "".join(chr(ord(ch) - 0xE0000) for run in tags for ch in run)
        out.append(
            this.finding(
                f"{sum(map(len, tags))} Unicode tag characters hide text",
                location,
                confidence=0.97,
                evidence=f"hidden: {' '.join(hidden.split())[:80]}",
                severity=Severity.CRITICAL if len(hidden.strip()) >= 8 else Severity.HIGH,
            )
        )
    if _VS_SUPPLEMENT_RE.search(text):
        out.append(this.finding("variation selectors encode hidden bytes", location, confidence=0.9))
    bidi = _BIDI_RE.findall(text)
    if bidi:
        out.append(
            this.finding(
                "bidirectional control characters reorder the visible text",
                location,
                confidence=0.85 if metadata else 0.6,
                evidence=_codepoints("".join(bidi)),
                severity=Severity.HIGH if metadata else Severity.MEDIUM,
            )
        )
    zero_width = _ZW_RE.findall(text) if metadata else _ZW_RUN_RE.findall(text)
    if zero_width:
        out.append(
            this.finding(
                "zero-width characters hide content",
                location,
                confidence=0.8 if metadata else 0.6,
                evidence=_codepoints("".join(zero_width)),
                severity=Severity.HIGH if metadata else Severity.MEDIUM,
            )
        )
    return out


@rule(
    "BST-UNI-002",
    "Terminal escape or control characters",
    Severity.HIGH,
    cwe="CWE-150",
    owasp="LLM01",
    category="unicode",
)
def control_characters(text: str, location: str, *, metadata: bool) -> list[Finding]:
    """ANSI escape sequences and C0/C1 control characters.

    Escape sequences can erase or recolour what a terminal shows (``ESC[2K``, cursor moves,
    OSC 8 hyperlinks), so a description can look harmless on screen while the model reads
    instructions. Any escape or control character (other than tab, CR and LF) in tool
    metadata is reported as HIGH. In outputs, colour-only sequences (SGR, ``ESC[...m``) are
    common in command output and are reported as INFO; other sequences as MEDIUM.
    """
    if "\x1b" not in text and CONTROL_RE.search(text) is None:
        return []
    this = RULES["BST-UNI-002"]
    escapes = ANSI_RE.findall(text)
    if metadata:
        return [this.finding("escape/control characters in tool metadata", location, confidence=0.9)]
    if escapes and not all(_SGR_ONLY_RE.fullmatch(esc) for esc in escapes):
        return [
            this.finding(
                "terminal escape sequences that can hide or rewrite text",
                location,
                confidence=0.6,
                severity=Severity.MEDIUM,
            )
        ]
    if escapes:
        return [this.finding("terminal colour codes", location, confidence=0.5, severity=Severity.INFO)]
    return [this.finding("control characters", location, confidence=0.5, severity=Severity.LOW)]


@rule(
    "BST-SYS-001",
    "Input truncated for scanning",
    Severity.INFO,
    cwe="",
    owasp="",
    category="system",
)
def truncated_note(length: int, location: str) -> Finding:
    """The input was longer than the scan cap and only its head was scanned.

    Detectors scan at most the first 1,000,000 characters of one text so that the cost per
    message is bounded; the remainder is not inspected. Policy may treat an oversized
    output as it sees fit (for example deny it by size before detection).
    """
    return RULES["BST-SYS-001"].finding(
        f"scanned the first {MAX_SCAN_CHARS} of {length} characters", location, confidence=1.0
    )
