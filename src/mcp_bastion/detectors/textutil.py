"""Text plumbing shared by the detectors: size cap, folding, confusable skeletons, decoding.

Everything here is linear-time over its input: regexes have no nested quantifiers over
overlapping classes, and every decoder works on bounded candidates.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "ANSI_RE",
    "CONTROL_RE",
    "INVISIBLE_RE",
    "MAX_SCAN_CHARS",
    "TAG_RE",
    "Signal",
    "cap",
    "decoded_views",
    "evaluate",
    "excerpt",
    "fold_views",
    "skeleton",
]

# The gateway runs detectors on every tool output; past this size only the head is scanned
# and a note (BST-SYS-001) says so, which keeps the cost per message bounded.
MAX_SCAN_CHARS = 1_000_000

TAG_RE = re.compile("[\U000e0000-\U000e007f]+")
INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\u3164\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
ANSI_RE = re.compile(r"\x1b(?:\[[0-9;?]{0,32}[ -/]{0,4}[@-~]|\][^\x07\x1b]{0,2048}(?:\x07|\x1b\\)|[@-Z\\-_])")
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")

# Latin lookalikes from Cyrillic and Greek (a subset of Unicode's confusables.txt that covers
# every letter an attacker needs to spell an ASCII identifier), plus digit/letter lookalikes.
_CONFUSABLE_PAIRS = (
    "аa вb сc еe ёe һh іi їi јj кk мm нh оo рp ѕs тt уy хx ԁd ԛq ԝw ӏl ьb ʏy ɡg ɑa"
    " АA ВB СC ЕE НH ІI ЈJ КK МM ОO РP ЅS ТT УY ХX Ԝw"
    " αa βb γy εe ζz ηn ιi κk νv οo ρp τt υu χx ϲc ϳj"
    " ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX"
)
CONFUSABLES = {ord(pair[0]): pair[1] for pair in _CONFUSABLE_PAIRS.split()}
_SKELETON_EXTRA = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "-": "", "_": "", ".": "", " ": ""})


def cap(text: str) -> tuple[str, bool]:
    """The scanned head of ``text`` and whether it was truncated."""
    if len(text) <= MAX_SCAN_CHARS:
        return text, False
    return text[:MAX_SCAN_CHARS], True


def skeleton(name: str) -> str:
    """A confusable-insensitive key for identifiers: NFKC, casefold, lookalikes mapped to ASCII."""
    folded = unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", name)).translate(CONFUSABLES).casefold()
    return folded.translate(_SKELETON_EXTRA)


def fold_views(text: str) -> list[str]:
    """Lower-cased views of ``text`` to match rules against.

    ASCII text has one view. Other text is NFKC-normalised with invisible characters
    removed, and gets a second view with Cyrillic/Greek lookalikes mapped to Latin when that
    changes it (so "іgnore" matches, while Russian text keeps its own view for Russian rules).
    Tag characters (U+E0000 block) are decoded to the ASCII they smuggle, as a further view.
    """
    if text.isascii():
        return [text.lower()]
    clean = unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", text)).lower()
    views = [clean]
    latin = clean.translate(CONFUSABLES)
    if latin != clean:
        views.append(latin)
    hidden = "".join(chr(ord(ch) - 0xE0000) for run in TAG_RE.findall(text) for ch in run)
    if hidden.strip():
        views.append(hidden.lower())
    return views


def excerpt(text: str, start: int, end: int, *, width: int = 100) -> str:
    """A one-line excerpt of at most ``width`` characters around ``text[start:end]``."""
    pad = max(0, (width - (end - start)) // 2)
    snippet = text[max(0, start - pad) : min(len(text), end + pad)]
    snippet = " ".join(snippet.split())
    return snippet[:width]


@dataclass(frozen=True, slots=True)
class Signal:
    """A weighted piece of evidence for a rule: a regex gated by cheap substring needles.

    ``needles`` are lower-case substrings of which at least one must occur for the regex
    to be able to match; checking them first keeps clean text fast.
    """

    rule_id: str
    weight: float
    needles: tuple[str, ...]
    pattern: re.Pattern[str]
    label: str


def evaluate(signals: Sequence[Signal], views: Iterable[str]) -> dict[str, tuple[float, str, list[str]]]:
    """Noisy-OR of the weights of the signals that match any view, per rule.

    Returns ``rule_id -> (confidence, evidence excerpt of the strongest hit, labels)``.
    """
    hits: dict[str, dict[str, tuple[float, str]]] = {}
    for view in views:
        for sig in signals:
            per_rule = hits.setdefault(sig.rule_id, {})
            if sig.label in per_rule or not any(n in view for n in sig.needles):
                continue
            match = sig.pattern.search(view)
            if match is not None:
                per_rule[sig.label] = (sig.weight, excerpt(view, match.start(), match.end()))
    out: dict[str, tuple[float, str, list[str]]] = {}
    for rule_id, labelled in hits.items():
        if not labelled:
            continue
        miss = 1.0
        for weight, _ in labelled.values():
            miss *= 1.0 - weight
        best = max(labelled.values(), key=lambda item: item[0])
        out[rule_id] = (1.0 - miss, best[1], sorted(labelled))
    return out


_B64_RE = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_HEX_RE = re.compile(r"(?:\\x|0x)?(?:[0-9a-fA-F]{2}(?:\\x)?){16,}")
_URLENC_RE = re.compile(r"%[0-9a-fA-F]{2}")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{2,6}|#x[0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});")
_COMMENT_RE = re.compile(r"<!--(.{0,20000}?)-->", re.DOTALL)
_MAX_CANDIDATES = 64
_MAX_CANDIDATE_LEN = 65_536


def _printable(decoded: str) -> bool:
    if len(decoded) < 8:
        return False
    good = sum(1 for ch in decoded if ch.isprintable() or ch in "\n\r\t")
    return good / len(decoded) >= 0.9 and any(ch.isalpha() for ch in decoded) and " " in decoded


def _b64(candidate: str) -> str | None:
    data = candidate.rstrip("=")
    data += "=" * (-len(data) % 4)
    try:
        raw = base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded if _printable(decoded) else None


def _hex(candidate: str) -> str | None:
    digits = candidate.replace("\\x", "").replace("0x", "")
    try:
        decoded = bytes.fromhex(digits).decode("utf-8")
    except ValueError:
        return None
    return decoded if _printable(decoded) else None


def decoded_views(text: str) -> Iterator[tuple[str, str]]:
    """Yield ``(encoding, decoded text)`` for payloads hidden in ``text``.

    Covers base64 (standard and URL-safe), hex (plain, ``\\x`` and ``0x``), URL-encoding,
    HTML entities and HTML comments. Candidates are bounded in number and size, and only
    decodings that are mostly printable text are kept.
    """
    count = 0
    for match in _B64_RE.finditer(text):
        candidate = match.group(0)
        if len(candidate) > _MAX_CANDIDATE_LEN or candidate.isalpha() or candidate.isdigit():
            continue
        count += 1
        if count > _MAX_CANDIDATES:
            break
        decoded = _b64(candidate)
        if decoded is not None:
            yield "base64", decoded
    count = 0
    for match in _HEX_RE.finditer(text):
        count += 1
        if count > _MAX_CANDIDATES:
            break
        decoded = _hex(match.group(0)[:_MAX_CANDIDATE_LEN])
        if decoded is not None:
            yield "hex", decoded
    if "%" in text and len(_URLENC_RE.findall(text, 0, 200_000)) >= 3:
        unquoted = urllib.parse.unquote_plus(text[:200_000])
        if unquoted != text[:200_000]:
            yield "url", unquoted
    if "&" in text and _ENTITY_RE.search(text) is not None:
        unescaped = html.unescape(text[:200_000])
        if unescaped != text[:200_000]:
            yield "html_entities", unescaped
    if "<!--" in text:
        for match in _COMMENT_RE.finditer(text):
            yield "html_comment", match.group(1)
