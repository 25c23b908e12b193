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
====  =========================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Token", "lex"]

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

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d][\w$]*(?:\.{1,2}[\w$]+)*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[bB][01]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_VARIABLE = re.compile(r"@@?[\w$.]*")
_LINE_COMMENT = re.compile(r"[^\n]*")
_OPERATOR = re.compile(r"<=>|<>|!=|<=|>=|\|\||&&|:=|!<|!>|[=<>+\-*/%^~|&!]")
_PUNCT = frozenset("(),;")
_DIGITS = frozenset("0123456789")  # str.isdigit() also accepts superscripts, which \d does not


@dataclass(frozen=True, slots=True)
class Token:
    """One lexed token: one-letter type, lower-cased text; for strings, whether and how it is quoted."""

    type: str
    text: str
    closed: bool = True
    quote: str = ""


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


def _next_is_paren(text: str, pos: int) -> bool:
    """True when the next non-blank character (skipping ``/* */`` comments) is ``(``."""
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch.isspace():
            match = _SPACE.match(text, pos)
            pos = match.end() if match else pos + 1
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                return False
            pos = end + 2
        else:
            return ch == "("
    return False


def _classify(word: str, paren_follows: bool) -> str:
    lower = word.lower()
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


def lex(text: str, quote: str | None = None) -> list[Token]:  # noqa: PLR0912, PLR0915 - a single-pass lexer is one dispatch on the next character
    """Tokenize ``text``; with ``quote`` set, the text is lexed as if it began inside that literal."""
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    if quote is not None:
        body, pos, closed = _scan_string(text, 0, quote)
        tokens.append(Token("s", body, closed, quote))
    while pos < n:
        ch = text[pos]
        if ch.isspace():
            match = _SPACE.match(text, pos)
            pos = match.end() if match else pos + 1
        elif ch in "'\"":
            body, pos, closed = _scan_string(text, pos + 1, ch)
            tokens.append(Token("s", body, closed, ch))
        elif ch == "`":
            body, pos, _ = _scan_string(text, pos + 1, "`")
            tokens.append(Token("n", body.lower()))
        elif ch == "#" or text.startswith("--", pos):
            match = _LINE_COMMENT.match(text, pos)
            assert match is not None
            tokens.append(Token("c", match.group()))
            pos = match.end()
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            stop = n if end < 0 else end + 2
            tokens.append(Token("c", text[pos:stop]))
            pos = stop
        elif ch in _DIGITS or (ch == "." and pos + 1 < n and text[pos + 1] in _DIGITS):
            match = _NUMBER.match(text, pos)
            assert match is not None
            tokens.append(Token("1", match.group().lower()))
            pos = match.end()
        elif ch == "@":
            match = _VARIABLE.match(text, pos)
            assert match is not None
            tokens.append(Token("v", match.group().lower()))
            pos = match.end()
        elif ch in _PUNCT:
            tokens.append(Token(ch, ch))
            pos += 1
        else:
            word = _WORD.match(text, pos)
            if word is not None:
                pos = word.end()
                tokens.append(Token(_classify(word.group(), _next_is_paren(text, pos)), word.group().lower()))
                continue
            op = _OPERATOR.match(text, pos)
            if op is not None:
                symbol = op.group()
                tokens.append(Token("&" if symbol in ("||", "&&") else "o", symbol))
                pos = op.end()
                continue
            tokens.append(Token("X", ch))
            pos += 1
    return tokens
