"""A folded SQL token stream: the view the SQL-injection rules read (see ``_sql_rules``).

Comments are removed; a line comment (or an unclosed block comment) is remembered as a
*cut* before the next token, because it ends the statement there. Accessors never fail on
an index past the end, and they record when a rule looks at the ``CUT`` token a
token-limited lex left at its end, so the caller knows to lex the whole value.
"""

from __future__ import annotations

from mcp_bastion.detectors._sql_lexer import CUT, Token

__all__ = ["UNARY", "Stream"]

UNARY = frozenset({"not", "!", "-", "+", "~"})
_COMMENT_FOLLOWERS = frozenset(" \t\r\n\f\v-+;/*")


class Stream:
    """A folded token list: comments removed, line comments remembered as cuts."""

    __slots__ = (
        "cut",
        "cut_text",
        "limit_at",
        "quote",
        "toks",
        "touched_cut",
        "trailing_comment",
        "trailing_text",
    )

    def __init__(self, tokens: list[Token]) -> None:
        self.toks: list[Token] = []
        self.cut: list[bool] = []
        self.cut_text: list[str] = []
        pending = ""
        for tok in tokens:
            if tok.type == "c":
                # A line comment (or an unclosed block) ends the statement; /* x */ is whitespace.
                if not tok.text.startswith("/*") or not tok.text.endswith("*/") or len(tok.text) < 4:
                    pending = pending or tok.text
                continue
            self.toks.append(tok)
            self.cut.append(bool(pending))
            self.cut_text.append(pending)
            pending = ""
        self.trailing_comment = bool(pending)
        self.trailing_text = pending
        # The quote of the context literal (quoted streams); an unclosed literal of the same
        # quote is completed by the application's own closing quote.
        self.quote = tokens[0].quote if tokens and tokens[0].type == "s" else ""
        # A stream lexed with a token limit ends in CUT; a rule that looks that far cannot
        # decide on the prefix, and ``touched_cut`` tells the caller to lex everything.
        self.limit_at = len(self.toks) - 1 if self.toks and self.toks[-1] is CUT else len(self.toks) + 1
        self.touched_cut = False

    def touch(self, i: int) -> None:
        """Record that a rule looked at token ``i``."""
        if i >= self.limit_at:
            self.touched_cut = True

    def end(self, i: int) -> bool:
        """True when the statement ends before token ``i`` (end of input or a line comment)."""
        if i >= self.limit_at:
            self.touched_cut = True
        return i >= len(self.toks) or self.cut[i]

    def comment_at(self, i: int) -> bool:
        """True when a line comment (not just the end of input) cuts the statement before ``i``."""
        if i >= self.limit_at:
            self.touched_cut = True
        return self.cut[i] if i < len(self.toks) else self.trailing_comment

    def payload_comment_at(self, i: int) -> bool:
        """True when the comment cutting before ``i`` looks typed to truncate a query.

        Only a comment that ends the value counts (payloads end ``--``, ``-- -``,
        ``--+``, ``#`` or ``/*``), and ``--``/``#`` followed by a letter, digit or quote are
        left out: ``"--help"``, ``"#f0f0f8"`` and ``'#'`` are option names, colours and
        quoted characters in ordinary text.
        """
        if i < len(self.toks):
            return False  # statements follow the comment: a remark inside text, not a truncation
        text = self.trailing_text
        if not text or "\n" in text.rstrip():
            return False
        if text.startswith("/*"):
            return True
        rest = text[2:] if text.startswith("--") else text[1:]
        return not rest or rest[0] in _COMMENT_FOLLOWERS

    def type(self, i: int) -> str:
        """Type of token ``i`` (``""`` past the end)."""
        if i >= self.limit_at:
            self.touched_cut = True
        return self.toks[i].type if i < len(self.toks) else ""

    def text(self, i: int) -> str:
        """Lower-cased text of token ``i`` (``""`` past the end)."""
        if i >= self.limit_at:
            self.touched_cut = True
        return self.toks[i].text if i < len(self.toks) else ""

    def fingerprint(self, start: int, width: int = 8) -> str:
        """Token types from ``start`` (at most ``width``), plus ``c`` for a trailing comment."""
        types = "".join(t.type for t in self.toks[start : start + width])
        if start + width >= len(self.toks) and self.trailing_comment:
            types += "c"
        return types

    def operand_end(self, i: int) -> int | None:
        """Index just after one operand starting at ``i`` (value, call or parenthesised group)."""
        while self.type(i) == "o" and self.text(i) in UNARY:
            i += 1
        kind = self.type(i)
        if kind == "f":
            i += 1
            kind = self.type(i)
            if kind != "(":
                return i
        if kind == "(":
            depth = 0
            while i < len(self.toks):
                if self.toks[i].type == "(":
                    depth += 1
                elif self.toks[i].type == ")":
                    depth -= 1
                    if depth == 0:
                        return i + 1
                i += 1
            self.touch(i)  # the group runs into the end (or the cut) of the stream
            return i
        if kind in ("1", "s", "n", "v"):
            return i + 1
        return None
