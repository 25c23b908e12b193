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

from mcp_bastion.detectors._anchors import anchors_of

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
    "lines_with",
    "make_signal",
    "non_ascii_lines",
    "skeleton",
    "unescape_serialized",
    "windows",
    "words_of",
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


_MIXED_SCRIPT_RE = re.compile("[a-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][a-z]")


def cap(text: str) -> tuple[str, bool]:
    """The scanned head of ``text`` and whether it was truncated."""
    if len(text) <= MAX_SCAN_CHARS:
        return text, False
    return text[:MAX_SCAN_CHARS], True


def skeleton(name: str) -> str:
    """A confusable-insensitive key for identifiers: NFKC, casefold, lookalikes mapped to ASCII."""
    folded = unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", name)).translate(CONFUSABLES).casefold()
    return folded.translate(_SKELETON_EXTRA)


_SERIALIZED_ESCAPE_RE = re.compile(
    r"\\\n[ \t]*(?:\\(?= ))?|\\[ntr\"'/\\]|\\U000[eE]00[0-7][0-9a-fA-F]|\\u[0-9a-fA-F]{4}"
)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "/": "/", "\\": "\\"}


def _unescape_one(match: re.Match[str]) -> str:
    token = match.group(0)
    if token[1] in "\n ":
        return ""  # YAML line continuation inside a double-quoted scalar
    if token[1] in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[token[1]]
    code = int(token[2:], 16)
    return token if 0xD800 <= code <= 0xDFFF else chr(code)


def unescape_serialized(text: str) -> str:
    """``text`` with JSON/YAML string escapes resolved (``\\n``, ``\\"``, ``\\uXXXX``, continuations).

    Outputs often reach the detectors still serialised (a JSON or YAML document inside a
    text block); the escapes would otherwise glue words together ("\\nIgnore").
    Surrogate pairs are kept as they are (they do not matter to the phrase rules).
    """
    return _SERIALIZED_ESCAPE_RE.sub(_unescape_one, text)


def _fold_line(line: str) -> str:
    """One non-ASCII line: invisible characters removed, NFKC, lower-cased."""
    clean = INVISIBLE_RE.sub("", line)
    if not unicodedata.is_normalized("NFKC", clean):
        clean = unicodedata.normalize("NFKC", clean)
    return clean.lower()


def fold_views(text: str) -> list[str]:
    """Lower-cased views of ``text`` to match rules against.

    ASCII text has one view. Other text is NFKC-normalised with invisible characters
    removed, and gets a second view with Cyrillic/Greek lookalikes mapped to Latin when that
    changes it (so "іgnore" matches, while Russian text keeps its own view for Russian rules).
    Tag characters (U+E0000 block) are decoded to the ASCII they smuggle, as a further view.

    The work is done line by line and only non-ASCII lines get more than ``lower()``: no
    step here reaches across a line feed (NFKC never composes with it, final-sigma
    lower-casing stops at it, lookalike pairs and tag runs never contain it), so the views
    are the same as folding the whole text at once, at a fraction of the cost for long,
    mostly-ASCII text.
    """
    if text.isascii():
        return [text.lower()]
    lines = text.split("\n")
    odd = [index for index, plain in enumerate(map(str.isascii, lines)) if not plain]
    folded = list(map(str.lower, lines))
    for index in odd:
        folded[index] = _fold_line(lines[index])
    views = ["\n".join(folded)]
    # Homoglyph spelling puts a Cyrillic/Greek letter next to Latin ones; only then is a
    # Latin view worth building (translating whole Russian or Greek texts is costly).
    if any(_MIXED_SCRIPT_RE.search(folded[i]) is not None for i in odd):
        for i in odd:
            folded[i] = folded[i].translate(CONFUSABLES)
        views.append("\n".join(folded))
    raw = "\n".join(lines[i] for i in odd)
    hidden = "".join(chr(ord(ch) - 0xE0000) for run in TAG_RE.findall(raw) for ch in run)
    if hidden.strip():
        views.append(hidden.lower())
    return views


def lines_with(text: str, needle: str) -> str:
    """The lines of ``text`` that contain ``needle``, joined by line feeds.

    For patterns that never match across a line feed, finding them in this text finds the
    same matches, in the same order, as in ``text``; on a long text with few such lines
    it is much cheaper (a regex that cannot skip ahead by a literal prefix would otherwise
    try every position, on a four-byte-per-character string when one emoji is present).
    """
    if len(text) <= 8192:
        return text
    return "\n".join([line for line in text.split("\n") if needle in line])


def non_ascii_lines(text: str) -> str:
    """The lines of ``text`` that hold a non-ASCII character, joined by line feeds.

    Runs of invisible or control code points above U+007F never contain a line feed, so
    patterns for them find the same matches here, in the same order, at less cost.
    """
    if len(text) <= 8192:
        return text
    return "\n".join([line for line in text.split("\n") if not line.isascii()])


def excerpt(text: str, start: int, end: int, *, width: int = 100) -> str:
    """A one-line excerpt of at most ``width`` characters around ``text[start:end]``."""
    pad = max(0, (width - (end - start)) // 2)
    snippet = text[max(0, start - pad) : min(len(text), end + pad)]
    snippet = " ".join(snippet.split())
    return snippet[:width]


_WORD_RE = re.compile(r"[^\W\d_]+")
# Needles spelt in Latin letters are looked up as whole words; others (CJK runs have no
# spaces, Cyrillic needles are stems) as substrings.
_LATIN_WORD_RE = re.compile("[a-z\u00c0-\u024f]+")


# ASCII fast path: every byte that is not a letter becomes a space (bytes.translate is C-fast).
_ASCII_LETTERS_ONLY = bytes(b if chr(b).isalpha() and b < 128 else 32 for b in range(256))


def words_of(view: str) -> frozenset[str]:
    """The set of letter-only words of ``view``."""
    if view.isascii():
        return frozenset(view.encode().translate(_ASCII_LETTERS_ONLY).decode().split())
    out: set[str] = set()
    for token in set(view.split()):
        if token.isalpha():
            out.add(token)
        else:
            out.update(_WORD_RE.findall(token))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class NeedleGroup:
    """Alternatives of which one must be present: whole words, or substrings."""

    words: frozenset[str]
    substrings: tuple[str, ...]
    ascii_substrings: tuple[str, ...]

    def present(self, view: str, words: frozenset[str], ascii_view: bool) -> bool:
        """Whether any alternative occurs in ``view`` (``words`` is its word set)."""
        if not self.words.isdisjoint(words):
            return True
        for needle in self.ascii_substrings if ascii_view else self.substrings:  # noqa: SIM110  -- a plain loop: no generator on the hot path
            if needle in view:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Signal:
    """A weighted piece of evidence for a rule: a regex gated by cheap needles.

    Every one of ``groups`` must have a member present (a word of the view's word set,
    or a substring) before the regex runs; this keeps clean text fast. A pattern that
    began with ``\\b`` is compiled without it and the word boundary is checked on each
    match instead. When every match must start with one of a few literal ``anchors``
    (see :mod:`mcp_bastion.detectors._anchors`), the pattern is only tried where
    ``str.find`` sees one.
    """

    rule_id: str
    weight: float
    groups: tuple[NeedleGroup, ...]
    pattern: re.Pattern[str]
    label: str
    word_start: bool
    anchors: tuple[str, ...] = ()

    def gate(self, view: str, words: frozenset[str], ascii_view: bool) -> bool:
        """Whether every needle group has a member present in ``view``."""
        for group in self.groups:  # noqa: SIM110  -- a plain loop: no generator on the hot path
            if not group.present(view, words, ascii_view):
                return False
        return True

    def search(self, view: str) -> re.Match[str] | None:
        """The first match of the pattern (at a word boundary when the pattern asked for one)."""
        if self.anchors:
            return self._anchored(view)
        pos = 0
        for _ in range(256):
            match = self.pattern.search(view, pos)
            if match is None or not self.word_start:
                return match
            start = match.start()
            if start == 0 or not (view[start - 1].isalnum() or view[start - 1] == "_"):
                return match
            pos = start + 1
        return None

    def _anchored(self, view: str) -> re.Match[str] | None:
        """``search`` tried only where an anchor occurs: the leftmost success is the same match."""
        starts: list[int] = []
        find = view.find
        for anchor in self.anchors:
            at = find(anchor)
            while at != -1:
                starts.append(at)
                at = find(anchor, at + 1)
        if not starts:
            return None
        if len(starts) > 1:
            starts = sorted(set(starts))
        match_at = self.pattern.match
        for start in starts:
            if self.word_start and start and (view[start - 1].isalnum() or view[start - 1] == "_"):
                continue
            match = match_at(view, start)
            if match is not None:
                return match
        return None


def make_signal(rule_id: str, weight: float, needles: str, pattern: str, label: str) -> Signal:
    """A :class:`Signal`; ``needles`` holds groups split by ``&``, alternatives by ``|``."""
    groups = []
    for group in needles.split("&"):
        alternatives = [n for n in group.split("|") if n]
        subs = tuple(n for n in alternatives if not _LATIN_WORD_RE.fullmatch(n))
        groups.append(
            NeedleGroup(
                frozenset(n for n in alternatives if _LATIN_WORD_RE.fullmatch(n)),
                subs,
                tuple(n for n in subs if n.isascii()),
            )
        )
    word_start = pattern.startswith(r"\b")
    compiled = re.compile(pattern[2:] if word_start else pattern)
    return Signal(rule_id, weight, tuple(groups), compiled, label, word_start, anchors_of(compiled))


def windows(view: str, size: int = 2048, overlap: int = 400) -> list[str]:
    """``view`` cut into overlapping windows, so needle gates stay selective on large texts.

    Patterns span at most a few hundred characters, so a match is never lost at a cut.
    """
    if len(view) <= size + overlap:
        return [view]
    return [view[i : i + size + overlap] for i in range(0, len(view), size)]


_SubstringGroups = tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A signal table as bit masks: one bit per distinct needle group."""

    signals: Sequence[Signal]
    word_bits: dict[str, int]  # word -> bits of the groups it satisfies
    vocabulary: frozenset[str]
    # Per signal, in table order: the bits of its word-only groups, the bits of all its
    # groups, its groups with substring needles as (bit, needles, ASCII needles), its
    # (rule id, label), and the signal.
    entries: tuple[tuple[int, int, _SubstringGroups, tuple[str, str], Signal], ...]
    # Every substring group as (bit, needles) and (bit, ASCII needles), for short views.
    all_substrings: tuple[tuple[int, tuple[str, ...]], ...]
    ascii_substrings: tuple[tuple[int, tuple[str, ...]], ...]


_COMPILED: dict[int, _Compiled] = {}
# Up to this length every substring needle is looked for at once; longer views (windows of
# long texts) look for a group only when a signal still needs it.
_EAGER = 1024


def _compiled(signals: Sequence[Signal]) -> _Compiled:
    """The bit-mask form of ``signals``, cached by identity (the tables are module constants)."""
    cached = _COMPILED.get(id(signals))
    if cached is not None and cached.signals is signals:
        return cached
    bits: dict[NeedleGroup, int] = {}
    for sig in signals:
        for group in sig.groups:
            bits.setdefault(group, 1 << len(bits))
    word_bits: dict[str, int] = {}
    for group, bit in bits.items():
        for word in group.words:
            word_bits[word] = word_bits.get(word, 0) | bit
    result = _Compiled(
        signals,
        word_bits,
        frozenset(word_bits),
        tuple(
            (
                sum(bits[g] for g in set(sig.groups) if not g.substrings),
                sum(bits[g] for g in set(sig.groups)),
                tuple((bits[g], g.substrings, g.ascii_substrings) for g in sig.groups if g.substrings),
                (sig.rule_id, sig.label),
                sig,
            )
            for sig in signals
        ),
        tuple((bit, g.substrings) for g, bit in bits.items() if g.substrings),
        tuple((bit, g.ascii_substrings) for g, bit in bits.items() if g.ascii_substrings),
    )
    _COMPILED[id(signals)] = result
    return result


def _present(table: _Compiled, view: str) -> int:
    """The bits of the needle groups that a word of ``view`` satisfies."""
    if view.isascii():
        words = table.vocabulary.intersection(view.encode().translate(_ASCII_LETTERS_ONLY).decode().split())
    else:
        words = words_of(view) & table.vocabulary
    present = 0
    word_bits = table.word_bits
    for word in words:
        present |= word_bits[word]
    return present


def _substrings_present(groups: _SubstringGroups, view: str, ascii_view: bool, state: list[int]) -> bool:
    """Whether each group has a word (bit already set) or a substring in ``view``; memoised in ``state``."""
    for bit, subs, ascii_subs in groups:
        if bit & state[0]:
            continue
        if bit & state[1]:
            return False  # looked for before, not there
        state[1] |= bit
        for needle in ascii_subs if ascii_view else subs:
            if needle in view:
                state[0] |= bit
                break
        else:
            return False
    return True


def evaluate(signals: Sequence[Signal], views: Iterable[str]) -> dict[str, tuple[float, str, list[str]]]:
    """Noisy-OR of the weights of the signals that match any view, per rule.

    Returns ``rule_id -> (confidence, evidence excerpt of the strongest hit, labels)``.
    A signal runs its regex only when each of its needle groups is present: the words of a
    view set their groups' bits at once; a group with substring needles is checked only
    when a signal still needs it.
    """
    table = _compiled(signals)
    hits: dict[str, dict[str, tuple[float, str]]] = {}
    done: set[tuple[str, str]] = set()
    for view in views:
        present = _present(table, view)
        ascii_view = view.isascii()
        if len(view) <= _EAGER:
            # Short text: look for every substring needle now, in one tight loop.
            for bit, needles in table.ascii_substrings if ascii_view else table.all_substrings:
                for needle in needles:
                    if needle in view:
                        present |= bit
                        break
            absent = ~present
            candidates = [(e[3], e[4]) for e in table.entries if not e[1] & absent]
        else:
            absent = ~present
            state = [present, present]  # groups present; groups present or looked for
            candidates = [
                (e[3], e[4])
                for e in table.entries
                if not e[0] & absent and (not e[2] or _substrings_present(e[2], view, ascii_view, state))
            ]
        for key, sig in candidates:
            if key in done:
                continue
            match = sig.search(view)
            if match is not None:
                done.add(key)
                hits.setdefault(sig.rule_id, {})[sig.label] = (
                    sig.weight,
                    excerpt(view, match.start(), match.end()),
                )
    out: dict[str, tuple[float, str, list[str]]] = {}
    for rule_id, labelled in hits.items():
        miss = 1.0
        for weight, _ in labelled.values():
            miss *= 1.0 - weight
        best = max(labelled.values(), key=lambda item: item[0])
        out[rule_id] = (1.0 - miss, best[1], sorted(labelled))
    return out


_B64_RE = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_HEX_RE = re.compile(r"(?:\\x|0x)?(?:[0-9a-fA-F]{2}(?:\\x)?){16,}")
_URLENC_TOKEN_RE = re.compile(r"(?:%[0-9a-fA-F]{2}[^\s%]{0,200}){3,}")
_ENTITY_RUN_RE = re.compile(r"(?:&(?:#[0-9]{2,7}|#x[0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});[^&<>\n]{0,40}){4,}")
_UNICODE_ESCAPE_RUN_RE = re.compile(
    r"(?:\\U000[eE]00[0-7][0-9a-fA-F]|\\u[dD][bB]40\\u[dD][cC][0-7][0-9a-fA-F]){4,}"
)
_UNICODE_ESCAPE_RE = re.compile(r"\\U000[eE]00([0-7][0-9a-fA-F])|\\u[dD][bB]40\\u[dD][cC]([0-7][0-9a-fA-F])")
_COMMENT_RE = re.compile(r"<!--(.{0,20000}?)-->", re.DOTALL)
_MAX_CANDIDATES = 64
_MAX_CANDIDATE_LEN = 65_536


def _with_word_before(text: str, start: int, end: int) -> str:
    """``text[start:end]`` extended back to the preceding whitespace (at most 200 characters)."""
    floor = max(0, start - 200)
    while start > floor and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _unescape_unicode(run: str) -> str:
    """ASCII smuggled as escaped tag characters (``\\U000E0041`` or the surrogate pair ``\\uDB40\\uDC41``)."""
    return "".join(chr(int(m.group(1) or m.group(2), 16)) for m in _UNICODE_ESCAPE_RE.finditer(run))


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


def _blob_views(text: str) -> Iterator[tuple[str, str]]:
    """Base64 and hex payloads, looked for only inside long whitespace-free tokens.

    Splitting first keeps ordinary prose cheap: a regex over every word start would
    re-scan each word once per character.
    """
    candidates = 0
    for token in dict.fromkeys([t for t in text.split() if len(t) >= 24]):
        for match in _B64_RE.finditer(token):
            candidate = match.group(0)
            if len(candidate) > _MAX_CANDIDATE_LEN or candidate.isalpha() or candidate.isdigit():
                continue
            candidates += 1
            decoded = _b64(candidate)
            if decoded is not None:
                yield "base64", decoded
        for match in _HEX_RE.finditer(token):
            candidates += 1
            decoded = _hex(match.group(0)[:_MAX_CANDIDATE_LEN])
            if decoded is not None:
                yield "hex", decoded
        if candidates > _MAX_CANDIDATES:
            return


def decoded_views(text: str) -> Iterator[tuple[str, str]]:
    """Yield ``(encoding, decoded text)`` for payloads hidden in ``text``.

    Covers base64 (standard and URL-safe), hex (plain, ``\\x`` and ``0x``), URL-encoding,
    HTML entities and HTML comments. Candidates are bounded in number and size, and only
    decodings that are mostly printable text are kept.
    """
    yield from _blob_views(text)
    if "%" in text:
        # Only the tokens that carry escapes are decoded: cheap, and no rescan of the whole text.
        lines = lines_with(text, "%")
        tokens = [_with_word_before(lines, m.start(), m.end()) for m in _URLENC_TOKEN_RE.finditer(lines)]
        tokens = tokens[:_MAX_CANDIDATES]
        if tokens:
            yield "url", "\n".join(urllib.parse.unquote_plus(t) for t in tokens)
    if "&" in text:
        runs = [m.group(0) for m in _ENTITY_RUN_RE.finditer(lines_with(text, "&"))][:_MAX_CANDIDATES]
        if runs:
            yield "html_entities", "\n".join(html.unescape(r) for r in runs)
    if "\\u" in text or "\\U" in text:
        lines = lines_with(text, "\\")
        escapes = [m.group(0) for m in _UNICODE_ESCAPE_RUN_RE.finditer(lines)][:_MAX_CANDIDATES]
        decoded = "".join(_unescape_unicode(e) for e in escapes)
        if decoded.strip():
            yield "unicode_escapes", decoded
    if "<!--" in text:
        for match in _COMMENT_RE.finditer(text):
            yield "html_comment", match.group(1)
