"""A small, clean-room SQL tokenizer that folds text into typed tokens for the SQLi detector.

The lexer never fails and runs in linear time: every token is produced by one anchored
regular expression without nested quantifiers, or by ``str.find``. It understands just
enough SQL (MySQL, PostgreSQL, MSSQL, Oracle, SQLite) to tell an injected query fragment
from prose: strings with doubled-quote escapes, numbers (decimal, hex, binary), comments
(``--``, ``#``, ``/* */``), operators, variables (``@x``, ``@@version``) and words, which
are classified against small keyword tables.

Token types (one character each, so a token list folds into a short fingerprint):

====  =========================================================
s     string literal (``closed`` says whether its quote closed)
1     number, ``NULL``, ``TRUE``, ``FALSE``
n     bareword (identifier, possibly dotted, or back-quoted)
k     keyword (``FROM``, ``TABLE``, ``INTO``, ``BY`` ...)
E     ``SELECT``
T     statement verb (``DROP``, ``DELETE``, ``EXEC``, ``WAITFOR`` ...)
U     ``UNION``
&     logic operator (``AND``, ``OR``, ``XOR``, ``&&``, ``||``)
o     operator (``=``, ``<>``, ``LIKE``, ``IN``, ``NOT``, ``+`` ...)
f     function: a bareword directly followed by ``(``
v     variable (``@x``, ``@@version``)
c     comment
( ) ; ,   themselves
X     anything else (punctuation, symbols, emoji)
?     where lexing stopped (``limit``)
====  =========================================================
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["CUT", "Token", "lex"]

_LOGIC = frozenset({"and", "or", "xor"})
_OPWORDS = frozenset(
    {"like", "rlike", "regexp", "is", "in", "between", "div", "mod", "not", "sounds", "ilike", "glob"}
)
_STATEMENTS = frozenset(
    {
        "drop", "delete", "insert", "update", "truncate", "alter", "create", "exec", "execute",
        "shutdown", "declare", "waitfor", "grant", "revoke", "replace", "merge", "copy", "call",
        "load", "rename", "handler",
    }
)  # fmt: skip
_KEYWORDS = frozenset(
    {
        "from", "where", "table", "into", "values", "set", "by", "order", "group", "having", "limit",
        "offset", "as", "on", "join", "all", "distinct", "top", "case", "when", "then", "else", "end",
        "outfile", "dumpfile", "delay", "time", "procedure", "database", "schema", "view", "index",
        "user", "login", "trigger", "function", "data", "infile", "program", "with", "nowait",
        "asc", "desc", "to", "using", "exists", "if", "begin", "collate", "escape",
    }
)  # fmt: skip
_VALUES = frozenset({"null", "true", "false"})
# Words that keep their own class even when a parenthesis follows (``IN (``, ``AND (``).
_NOT_FUNCTIONS = _LOGIC | _OPWORDS | frozenset(
    {"union", "select", "from", "into", "values", "where", "as", "on", "using", "table", "join", "by",
     "having", "when", "then", "else", "all", "distinct", "limit", "with", "to", "set"}
) | (_STATEMENTS - {"replace", "insert", "load"})  # fmt: skip
# REPLACE(), INSERT() and LOAD() are also MySQL string functions, so they stay functions.

_WORD_RE = r"[^\W\d][\w$]*(?:\.{1,2}[\w$]+)*"
# One alternation, most frequent branches first; every branch is linear (no nested
# ambiguous quantifiers), so the whole lexer is linear in the input.
_MASTER = re.compile(
    r"(?P<ws>\s+)"
    rf"|(?P<word>{_WORD_RE})"
    r"|(?P<punct>[(),;])"
    r"|(?P<num>0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<sq>'(?P<sqb>(?:[^']|'')*)(?P<sqc>')?)"
    r"|(?P<dq>\"(?P<dqb>(?:[^\"]|\"\")*)(?P<dqc>\")?)"
    r"|(?P<lc>(?:\#|--)[^\n]*)"
    r"|(?P<bc>/\*(?:[^*]|\*(?!/))*(?:\*/)?)"
    r"|(?P<var>@@?[\w$.]*)"
    r"|(?P<bt>`(?P<btb>[^`]*)`?)"
    r"|(?P<op><=>|<>|!=|<=|>=|\|\||&&|:=|!<|!>|[=<>+\-*/%^~|&!])"
    r"|(?P<x>.)",
    re.DOTALL,
)
# A word is a function name when ``(`` follows, possibly after blanks and /* */ comments.
_PAREN_AFTER = re.compile(r"\s*(?:/\*(?:[^*]|\*(?!/))*\*/\s*)*\(")


class Token(NamedTuple):
    """One lexed token: one-letter type, lower-cased text; for strings, whether and how it is quoted.

    A NamedTuple rather than a frozen dataclass: tokens are created by the thousand per
    value and tuple construction is several times cheaper.
    """

    type: str
    text: str
    closed: bool = True
    quote: str = ""


_PAREN_LEADS = frozenset(" \t\r\n\f\v/")
CUT = Token("?", "")  # marks where lexing stopped at ``limit``; no rule matches it
_SIMPLE = {"bt": "n", "lc": "c", "bc": "c", "num": "1", "var": "v", "op": "o", "x": "X"}


def _scan_string(text: str, start: int, quote: str) -> tuple[str, int, bool]:
    """Scan a literal whose body starts at ``start``; doubled quotes are escapes (standard SQL).

    Backslash is deliberately *not* an escape: under standard-conforming strings it is a
    plain character, so ``\\'`` still closes the literal and must be analysed as a breakout.
    Returns (body, index after the closing quote, closed).
    """
    pos = start
    while True:
        end = text.find(quote, pos)
        if end < 0:
            return text[start:], len(text), False
        if end + 1 < len(text) and text[end + 1] == quote:
            pos = end + 2
            continue
        return text[start:end], end + 1, True


def _classify(lower: str, paren_follows: bool) -> str:
    if paren_follows and lower not in _NOT_FUNCTIONS:
        return "f"
    if lower in _LOGIC:
        return "&"
    if lower in _OPWORDS:
        return "o"
    if lower == "union":
        return "U"
    if lower == "select":
        return "E"
    if lower in _STATEMENTS:
        return "T"
    if lower in _VALUES:
        return "1"
    if lower in _KEYWORDS:
        return "k"
    return "n"


def lex(text: str, quote: str | None = None, limit: int | None = None) -> list[Token]:
    """Tokenize ``text``; with ``quote`` set, the text is lexed as if it began inside that literal.

    With ``limit``, lexing stops after that many tokens and the ``CUT`` token (type ``?``)
    marks the place, so rules never mistake the cut for the end of the value.
    """
    tokens: list[Token] = []
    pos = 0
    if quote is not None:
        body, pos, closed = _scan_string(text, 0, quote)
        tokens.append(Token("s", body, closed, quote))
    append = tokens.append
    for match in _MASTER.finditer(text, pos):
        kind = match.lastgroup
        if kind == "ws":
            continue
        if limit is not None and len(tokens) >= limit:
            append(CUT)
            break
        if kind == "word":
            lower = match.group().lower()
            end = match.end()
            nxt = text[end : end + 1]
            paren = nxt == "(" or (nxt in _PAREN_LEADS and _PAREN_AFTER.match(text, end) is not None)
            append(Token(_classify(lower, paren), lower))
        elif kind == "sq":
            append(Token("s", match.group("sqb"), match.group("sqc") is not None, "'"))
        elif kind == "dq":
            append(Token("s", match.group("dqb"), match.group("dqc") is not None, '"'))
        elif kind == "punct":
            value = match.group()
            append(Token(value, value))
        elif kind == "op":
            value = match.group()
            append(Token("&" if value in ("||", "&&") else "o", value))
        else:
            append(Token(_SIMPLE[kind or "x"], match.group().lower()))
    return tokens
