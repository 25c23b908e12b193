"""High-confidence SQL-injection detection for tool-call string arguments.

How it works (details and measured figures in ``docs/injection-detection.md``):

1. Fast path: a value without any character SQL injection needs (quotes, comment marks,
   ``;``, parentheses, operators, ``%``, ``@``, full-width forms) returns ``None`` at once.
   So letters, digits and spaces alone are never flagged, whatever words they spell.
2. Bounded input: only the first 8 KiB and the last 1 KiB of a longer value are analysed.
3. Variants: the value as is, URL-decoded once (``%27``, ``+``), with MySQL executable
   comments opened (``/*!50000UNION*/``), with inline comments deleted (``UN/**/ION``), and
   NFKC-folded when it holds full-width forms.
4. Contexts (the libinjection idea): each variant is lexed as if pasted into SQL unquoted,
   inside a single-quoted literal and inside a double-quoted literal.
5. Rules (``_sql_rules``) judge each folded token stream; the best hit wins.

Rule IDs (CWE-89, OWASP LLM05 improper output handling / A03 injection):

- ``BST-SQLI-001`` condition (tautology, boolean probe, subquery) after a closed literal
- ``BST-SQLI-002`` ``UNION [ALL] SELECT`` with a real select list
- ``BST-SQLI-003`` stacked statement after ``;`` (DROP TABLE, DELETE FROM, EXEC xp_ ...)
- ``BST-SQLI-004`` comment truncation right after a closed literal (``admin'--``)
- ``BST-SQLI-005`` time delay (SLEEP, PG_SLEEP, BENCHMARK, WAITFOR DELAY, DBMS_PIPE)
- ``BST-SQLI-006`` error-based extraction (EXTRACTVALUE, UPDATEXML, NAME_CONST ...)
- ``BST-SQLI-007`` file, command or out-of-band access (INTO OUTFILE, LOAD_FILE, xp_cmdshell)
- ``BST-SQLI-008`` clause or concatenated expression after a closed literal (ORDER BY n)
- ``BST-SQLI-009`` tautology in an unquoted (numeric) context (``1 OR 1=1``)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote_plus

from mcp_bastion.detectors._sql_lexer import lex
from mcp_bastion.detectors._sql_rules import analyse

__all__ = ["HEAD_BYTES", "PREFIX_TOKENS", "TAIL_BYTES", "InjectionMatch", "bounded", "detect_sqli"]

HEAD_BYTES = 8192
TAIL_BYTES = 1024

_SUSPICIOUS = re.compile(r"['\"`;#\-/*()=<>|&%@!^~+,\\\uff01-\uff5e]")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# ``+`` as a form-encoded space next to a quote or an SQL word (``'+or+1=1--``), not ``C++``.
_PLUS_SPACE = re.compile(
    r"['\"]\+|\+['\"]|\+(?:\|\||&&)|\+(?:or|and|union|select|order|group|having|waitfor|exec|drop|delete|"
    r"insert|update)\b",
    re.IGNORECASE,
)
_EXEC_COMMENT = re.compile(r"/\*!\d*|\*/")
_INLINE_COMMENT = re.compile(r"/\*[^*]*\*/")
_FULLWIDTH = re.compile(r"[\uff01-\uff5e]")
# Rules that look past the first tokens of a stream (UNION, stacked statements, dangerous
# functions, INTO OUTFILE, WAITFOR, EXEC) need one of these words; without them only the
# start of each stream matters, so lexing stops after PREFIX_TOKENS tokens (the rules still
# run on those). The hint may over-match ("reunion"); it only decides how far to lex.
_GAP = r"(?:[\s(]|/\*[^*]*\*/)*"
_FUNCTION_NAMES = (
    "sleep", "benchmark", "extractvalue", "updatexml", "name_const", "utl_", "dbms_", "ctxsys", "gtid_subset",
    "xmltype", "load_file", "xp_", "sys_eval", "sys_exec", "pg_read_file", "lo_import", "openrowset",
    "randomblob", "exp", "polygon", "multipoint", "linestring", "geometrycollection",
)  # fmt: skip
_DDL = "(?:table|database|schema|view|index|user|login|procedure|function|trigger)"
# (substring that must be present, pattern confirming it) over the lower-cased text: plain
# substring tests first, because one big case-insensitive alternation costs ~0.6 us/char.
# Each pattern is a superset of what the matching rule in ``_sql_rules`` accepts.
_HINTS = (
    (";", re.compile(
        rf";{_GAP}(?:select\b|(?:drop|truncate|alter|create|rename){_GAP}{_DDL}|delete{_GAP}from|"
        rf"(?:insert|replace){_GAP}into|update{_GAP}[^\s;]+{_GAP}set\b|exec|shutdown|declare|waitfor|"
        rf"(?:grant|revoke){_GAP}(?:all|select|insert|update|delete|execute)|copy\b[^;]{{0,300}}program|"
        rf"load{_GAP}data|set{_GAP}@)"
    )),
    ("union", re.compile(rf"union{_GAP}(?:all|distinct|select)")),
    ("into", re.compile(rf"into{_GAP}(?:out|dump)file")),
    ("waitfor", re.compile(rf"waitfor{_GAP}(?:delay|time)")),
    ("exec", re.compile(rf"exec(?:ute)?{_GAP}(?:xp_|sp_|master)")),
)  # fmt: skip
_CALL_AFTER = re.compile(rf"[\w.]*{_GAP}\(")


def _needs_full_lex(text: str) -> bool:
    """True when a rule that looks past the start of a stream could fire (see PREFIX_TOKENS)."""
    lowered = text.lower()
    for needle, pattern in _HINTS:
        if needle in lowered and pattern.search(lowered):
            return True
    for name in _FUNCTION_NAMES:
        at = lowered.find(name)
        while at >= 0:
            # ``time.sleep(`` lexes as the word ``time.sleep``, which no rule knows; names with
            # an underscore (``master..xp_cmdshell``, ``sys.dbms_pipe``) may follow a dot.
            before = lowered[at - 1 : at]
            free = not before or not (
                before.isalnum() or before in "_$" or (before == "." and "_" not in name)
            )
            if free and _CALL_AFTER.match(lowered, at + len(name)):
                return True
            at = lowered.find(name, at + 1)
    return False


PREFIX_TOKENS = 64


@dataclass(frozen=True, slots=True)
class InjectionMatch:
    """A detector's finding on one string value; safe to show the caller."""

    rule_id: str
    kind: str
    confidence: float
    fingerprint: str
    reason: str


def bounded(value: str) -> str:
    """The part of ``value`` that is analysed: the first 8 KiB plus the last 1 KiB (characters)."""
    if len(value) <= HEAD_BYTES + TAIL_BYTES:
        return value
    # A newline between the pieces keeps a line comment in the head from hiding the tail.
    return value[:HEAD_BYTES] + "\n" + value[-TAIL_BYTES:]


def _variants(text: str) -> list[str]:
    """The value plus the decoded / de-obfuscated forms a database or web stack would see."""
    out = [text]
    if _PERCENT.search(text):
        out.append(unquote_plus(text))
    elif "+" in text and _PLUS_SPACE.search(text):
        out.append(text.replace("+", " "))
    for base in list(out):
        if "/*!" in base:
            out.append(_EXEC_COMMENT.sub(" ", base))
        if "/*" in base:
            out.append(_INLINE_COMMENT.sub("", base))
        if _FULLWIDTH.search(base):
            out.append(unicodedata.normalize("NFKC", base))
    return list(dict.fromkeys(out))


def detect_sqli(value: str) -> InjectionMatch | None:
    """Return the strongest SQL-injection finding in ``value``, or ``None`` if it looks benign."""
    if not _SUSPICIOUS.search(value):
        return None
    best: InjectionMatch | None = None
    for text in _variants(bounded(value)):
        limit = None if _needs_full_lex(text) else PREFIX_TOKENS
        contexts: list[str | None] = [None]
        if "'" in text:
            contexts.append("'")
        if '"' in text:
            contexts.append('"')
        for quote in contexts:
            found = analyse(lex(text, quote, limit), quoted=quote is not None)
            if found.incomplete:
                found = analyse(lex(text, quote), quoted=quote is not None)
            hit = found.hit
            if hit is None:
                continue
            if best is None or hit.confidence > best.confidence:
                best = InjectionMatch(hit.rule_id, "sql", hit.confidence, found.fingerprint, hit.reason)
                if best.confidence >= 0.95:
                    return best
    return best
