"""Structural SQL-injection rules over one folded token stream (see ``_sql_lexer``).

A stream is the value lexed in one *context*: as-is (the value is pasted into SQL
unquoted, e.g. a numeric id) or starting inside a single/double-quoted literal. In a quoted
context the first token is that literal; if it never closes, the whole value stays data
and nothing can be injected. If it closes, the *tail* after it is what an attacker
controls, and prose almost never continues an apostrophe with ``OR 1=1``, ``;DROP TABLE``,
``UNION SELECT`` or a bare comment. The as-is context sees no breakout, so its rules are
stricter (tautologies with identical operands, known SQL-only functions).

Every rule is a pure function of the token list, linear in its length.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_bastion.detectors._sql_lexer import Token
from mcp_bastion.detectors._sql_stream import UNARY, Stream

__all__ = ["Analysis", "Hit", "analyse"]

_COMPARISONS = frozenset(
    {"=", "<>", "!=", "<", ">", "<=", ">=", "<=>", "!<", "!>", "like", "rlike", "regexp", "is", "in",
     "between", "sounds", "ilike", "glob"}
)  # fmt: skip
# Functions that only a database (or an attacker probing one) calls: flagged wherever called.
_DISTINCT_FUNCS = {
    "pg_sleep": "BST-SQLI-005", "benchmark": "BST-SQLI-005", "dbms_lock.sleep": "BST-SQLI-005",
    "dbms_pipe.receive_message": "BST-SQLI-005", "sys.dbms_pipe.receive_message": "BST-SQLI-005",
    "extractvalue": "BST-SQLI-006", "updatexml": "BST-SQLI-006", "name_const": "BST-SQLI-006",
    "utl_inaddr.get_host_name": "BST-SQLI-006", "ctxsys.drithsx.sn": "BST-SQLI-006",
    "gtid_subset": "BST-SQLI-006", "xmltype": "BST-SQLI-006",
    "load_file": "BST-SQLI-007", "utl_http.request": "BST-SQLI-007", "dbms_ldap.init": "BST-SQLI-007",
    "xp_cmdshell": "BST-SQLI-007", "master..xp_cmdshell": "BST-SQLI-007", "xp_dirtree": "BST-SQLI-007",
    "master..xp_dirtree": "BST-SQLI-007", "sys_eval": "BST-SQLI-007", "sys_exec": "BST-SQLI-007",
    "pg_read_file": "BST-SQLI-007", "lo_import": "BST-SQLI-007", "openrowset": "BST-SQLI-007",
}  # fmt: skip
# Ordinary names (``sleep`` is also Python/C) count only as an operand of SQL syntax.
_OPERAND_FUNCS = {
    "sleep": "BST-SQLI-005", "randomblob": "BST-SQLI-005", "exp": "BST-SQLI-006",
    "polygon": "BST-SQLI-006", "multipoint": "BST-SQLI-006", "geometrycollection": "BST-SQLI-006",
    "linestring": "BST-SQLI-006", "multilinestring": "BST-SQLI-006", "multipolygon": "BST-SQLI-006",
}  # fmt: skip
_REASONS = {
    "BST-SQLI-005": "time-delay function in an SQL expression",
    "BST-SQLI-006": "error-based extraction function in an SQL expression",
    "BST-SQLI-007": "file, command or out-of-band access from SQL",
}
_DDL_OBJECTS = frozenset(
    {"table", "database", "schema", "view", "index", "user", "login", "procedure", "function", "trigger"}
)
_OPERAND_LEFT = frozenset({"&", "o", "E", ";", "U", ","})
_NUMBER_OPS = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}  # fmt: skip
# Operators that join an expression to a literal (``'+(SELECT ..)+'``, ``'-SLEEP(5)-'``);
# ``%`` and ``~`` are left out: ``"%C(auto)"`` and ``"~(x)"`` are format strings and paths.
_CONCAT_OPERATORS = frozenset({"+", "-", "*", "/", "|", "^", "=", "<", ">", "<>", "!=", "<=", ">="})
_SELECT_STOP = frozenset({"where", "limit", "order", "group", "into", "having", "offset"})


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule match inside a stream: rule id, confidence, reason, index where it starts."""

    rule_id: str
    confidence: float
    reason: str
    start: int


def _compare(left: str, op: str, right: str) -> bool:
    """Truth of ``left op right`` for two decimal literals (False when it cannot be evaluated)."""
    try:
        return bool(_NUMBER_OPS[op](float(left), float(right)))
    except (KeyError, ValueError):
        return False


def _tautology(st: Stream, j: int, *, strict: bool) -> tuple[float, str] | None:  # noqa: PLR0912 - one flat branch per SQL shape reads as the rule table it is
    """Judge the expression after a logic operator at ``j``; ``strict`` for the as-is context."""
    while st.type(j) == "(" or (st.type(j) == "o" and st.text(j) in UNARY):
        j += 1
    kind = st.type(j)
    if kind == "E":
        return 0.95, "subquery after a logic operator"
    if kind == "f" and st.text(j) in _DISTINCT_FUNCS | _OPERAND_FUNCS:
        return 0.95, _REASONS[(_DISTINCT_FUNCS | _OPERAND_FUNCS)[st.text(j)]]
    lhs_end = st.operand_end(j)
    if lhs_end is None:
        return None
    op = lhs_end
    while st.type(op) == ")" and not st.end(op):
        op += 1
    if st.type(op) == "o" and st.text(op) in _COMPARISONS and not st.end(op):
        rhs = op + 1
        while st.type(rhs) == "(":
            rhs += 1
        rhs_end = st.operand_end(rhs)
        if st.type(rhs) == "E":
            return 0.95, "subquery compared after a logic operator"
        if rhs_end is None and st.text(op) not in ("is", "in", "between"):
            return None
        left = [t.text for t in st.toks[j:lhs_end]]
        right = [t.text for t in st.toks[rhs:rhs_end]] if rhs_end else []
        if left == right:
            return 0.95, "always-true comparison after a logic operator"
        if not strict:
            # Two bare words compared ("Jones' and Smith = partners") is prose unless a comment cuts it.
            if kind == "n" and st.type(rhs) == "n" and rhs_end is not None and not st.comment_at(rhs_end):
                return None
            return 0.95, "condition injected after a closed string literal"
        if st.type(j) == "1" and st.type(rhs) == "1" and rhs_end == rhs + 1:
            truth = _compare(st.text(j), st.text(op), st.text(rhs))
            if truth or (rhs_end is not None and st.comment_at(rhs_end)):
                return 0.9, "constant comparison after a logic operator"
            return 0.85, "false constant comparison after a logic operator"
        if kind == "f" and st.type(rhs) in ("1", "s"):
            return 0.9, "function probe compared to a constant"
        return None
    after_value = st.end(lhs_end) or st.type(lhs_end) in (")", ";")
    if not strict and st.text(lhs_end) in ("group", "order", "having", "limit", "procedure"):
        return 0.9, "condition and clause after a closed string literal"
    if kind == "1" and after_value and (not strict or st.end(lhs_end)):
        return 0.9, "constant truth value after a logic operator"
    # ``' or '1``: the application's closing quote completes a short literal; a long one
    # (``"&&" chains that are ...``) is a quotation in prose.
    short = st.toks[j].closed or (st.toks[j].quote == st.quote and len(st.toks[j].text) <= 8)
    if kind == "s" and not strict and after_value and short:
        return 0.9, "string truth value after a closed string literal"
    if kind == "n" and not strict and st.comment_at(lhs_end):
        return 0.9, "condition then comment after a closed string literal"
    if kind == "f" and not strict:
        return 0.9, "function call after a logic operator"
    return None


def _select_list(st: Stream, j: int, *, strong_prefix: bool) -> float | None:
    """Confidence that the tokens after ``SELECT`` at ``j`` are a real select list, not prose."""
    while st.text(j) in ("all", "distinct"):
        j += 1
    if st.text(j) == "top" and st.type(j + 1) == "1":
        j += 2
    if st.end(j):
        return None
    kind, text = st.type(j), st.text(j)
    if kind in ("1", "v", "f", "(") or (kind == "s" and st.toks[j].closed) or text == "*":
        return 0.95
    if kind == "n":
        nxt = j + 1
        if st.type(nxt) == "," and not st.end(nxt):
            return 0.95
        if st.text(nxt) == "from" and st.type(nxt + 1) == "n" and not st.end(nxt):
            after = nxt + 2
            if st.end(after) or st.type(after) in (";", ")", "U") or st.text(after) in _SELECT_STOP:
                return 0.95 if strong_prefix or st.comment_at(after) else 0.85
        if st.end(nxt) and (strong_prefix or st.comment_at(nxt)):
            return 0.9 if strong_prefix else 0.8
    return None


def _statement(st: Stream, j: int, *, strong_prefix: bool) -> float | None:  # noqa: PLR0912 - one flat branch per SQL shape reads as the rule table it is
    """Confidence that a complete SQL statement starts at ``j`` (after a ``;``)."""
    kind, verb, nxt = st.type(j), st.text(j), st.text(j + 1)
    if kind == "E":
        return _select_list(st, j + 1, strong_prefix=strong_prefix)
    if kind == "k" and verb == "set" and st.type(j + 1) == "v":
        return 0.9
    if kind == "f" and verb in _DISTINCT_FUNCS | _OPERAND_FUNCS:
        return 0.95
    if kind == "f" and verb in ("insert", "replace") and nxt == "(":
        kind = "T"
    if kind != "T" or (st.end(j + 1) and verb != "shutdown"):
        return None
    if verb in ("drop", "truncate", "alter", "create", "rename") and nxt in _DDL_OBJECTS:
        return 0.95
    if verb == "delete" and nxt == "from" and st.type(j + 2) == "n":
        after = j + 3
        sqlish = st.comment_at(after) or st.text(after) == "where"
        return 0.95 if strong_prefix or sqlish else 0.85
    if verb in ("insert", "replace") and nxt == "into" and st.type(j + 2) in ("n", "f"):
        return 0.95
    if verb == "update" and st.type(j + 1) == "n" and st.text(j + 2) == "set":
        return 0.95
    if verb in ("exec", "execute"):
        if st.type(j + 1) in ("f", "(", "s", "v") or nxt.startswith(("xp_", "sp_", "master.")):
            return 0.95
        return None
    if verb == "shutdown" and (st.end(j + 1) or nxt == "with"):
        return 0.95
    if verb == "declare" and st.type(j + 1) == "v":
        return 0.95
    if verb == "waitfor" and nxt in ("delay", "time"):
        return 0.95
    if verb == "copy":
        st.touch(j + 8)
        return 0.95 if any(t.text == "program" for t in st.toks[j : j + 8]) else None
    if verb in ("grant", "revoke") and nxt in ("all", "select", "insert", "update", "delete", "execute"):
        st.touch(j + 12)
        return 0.95 if any(t.text in ("to", "from") for t in st.toks[j : j + 12]) else 0.85
    if verb == "load" and nxt == "data":
        return 0.9
    return None


def _breakout(st: Stream) -> Hit | None:  # noqa: PLR0912 - one flat branch per SQL shape reads as the rule table it is
    """Rules for the tail after a closed literal (quoted contexts only)."""
    i = 1
    while st.type(i) == ")" and not st.end(i):
        i += 1
    if st.end(i):
        if st.payload_comment_at(i):
            return Hit("BST-SQLI-004", 0.9, "comment truncation after a closed string literal", 0)
        return None
    kind, text = st.type(i), st.text(i)
    verdict: tuple[str, float, str] | None = None
    if kind == "&":
        taut = _tautology(st, i + 1, strict=False)
        if taut is not None:
            verdict = ("BST-SQLI-001", taut[0], taut[1])
    elif kind == ";":
        if st.end(i + 1) and st.payload_comment_at(i + 1):
            verdict = ("BST-SQLI-004", 0.9, "comment truncation after a closed string literal")
        else:
            conf = _statement(st, i + 1, strong_prefix=True)
            if conf is not None:
                verdict = ("BST-SQLI-003", conf, "stacked query after a closed string literal")
    elif kind == "k" and text in ("order", "group") and st.text(i + 1) == "by":
        if st.type(i + 2) in ("1", "n") and (st.end(i + 3) or st.type(i + 3) in (",", "k", ")", "&")):
            verdict = ("BST-SQLI-008", 0.95, "ORDER/GROUP BY clause after a closed string literal")
    elif kind == "k" and text == "having" and _tautology(st, i + 1, strict=False):
        verdict = ("BST-SQLI-008", 0.95, "HAVING clause after a closed string literal")
    elif kind == "k" and text == "limit" and st.type(i + 1) == "1" and st.comment_at(i + 2):
        verdict = ("BST-SQLI-008", 0.9, "LIMIT clause after a closed string literal")
    elif kind == "o" and text in _CONCAT_OPERATORS:
        j = i + 1
        while st.type(j) == "(":
            j += 1
        if st.type(j) == "E" or (st.type(j) == "f" and st.type(j + 1) == "("):
            verdict = ("BST-SQLI-008", 0.9, "expression concatenated to a closed string literal")
    return None if verdict is None else Hit(verdict[0], verdict[1], verdict[2], 0)


def _as_is(st: Stream) -> Hit | None:
    """Rules anchored at the start of an unquoted value (numeric or identifier context)."""
    i = 0
    while st.type(i) == "(" or (st.type(i) == "o" and st.text(i) == "-"):
        i += 1
    kind = st.type(i)
    if kind in ("1", "s", "n"):
        i += 1
        while st.type(i) == ")" and not st.end(i):
            i += 1
        kind = st.type(i)
    if kind == "&" and not st.end(i):
        taut = _tautology(st, i + 1, strict=True)
        if taut is not None:
            return Hit("BST-SQLI-009", taut[0], taut[1], 0)
    return None


def _anywhere(st: Stream, first: int) -> Hit | None:  # noqa: PLR0912 - one flat branch per SQL shape reads as the rule table it is
    """Rules that hold wherever they appear in the analysed part of the stream."""
    toks = st.toks
    best: Hit | None = None
    for i in range(first, len(toks)):
        kind, text = toks[i].type, toks[i].text
        hit: Hit | None = None
        if kind == "U" and not st.end(i + 1):
            j = i + 1
            if st.text(j) in ("all", "distinct"):
                j += 1
            while st.type(j) == "(":
                j += 1
            if st.type(j) == "E" and not st.end(j):
                conf = _select_list(st, j + 1, strong_prefix=i > first or st.comment_at(len(toks)))
                if conf is not None:
                    hit = Hit("BST-SQLI-002", conf, "UNION SELECT appended to the query", i)
        elif kind == ";" and not st.end(i + 1):
            prev = st.type(i - 1) if i > 0 else ""
            strong = prev in ("1", ")") or (prev == "s" and toks[i - 1].closed)
            conf = _statement(st, i + 1, strong_prefix=strong)
            if conf is not None:
                hit = Hit("BST-SQLI-003", conf, "stacked query after a statement separator", i)
        elif kind == "f" and st.type(i + 1) == "(":
            hit = _function(st, i, first)
        elif kind == "k" and text == "into" and st.text(i + 1) in ("outfile", "dumpfile"):
            hit = Hit("BST-SQLI-007", 0.95, "INTO OUTFILE/DUMPFILE writes a file", i)
        elif kind == "T" and text == "waitfor" and st.text(i + 1) in ("delay", "time"):
            if st.type(i + 2) == "s":
                hit = Hit("BST-SQLI-005", 0.95, "WAITFOR time delay", i)
        elif (
            kind == "T"
            and text in ("exec", "execute")
            and st.text(i + 1).startswith(("xp_", "master..xp_", "sp_oa", "sp_configure", "sp_executesql"))
        ):
            hit = Hit("BST-SQLI-007", 0.95, "extended stored procedure call", i)
        if hit is not None and (best is None or hit.confidence > best.confidence):
            best = hit
            if best.confidence >= 0.95:
                break
    return best


def _function(st: Stream, i: int, first: int) -> Hit | None:
    """A call of an SQL-only function anywhere, or of an ambiguous one in operand position."""
    name = st.text(i)
    rule = _DISTINCT_FUNCS.get(name)
    if name == "benchmark" and (st.type(i + 2) not in ("1", "(") or st.type(i + 3) not in (",", "1", ")")):
        return None  # BENCHMARK(count, expr): "benchmark (suite_name=...)" is ordinary code
    if rule is not None:
        return Hit(rule, 0.95 if rule != "BST-SQLI-006" or st.type(i + 2) != "n" else 0.9, _REASONS[rule], i)
    rule = _OPERAND_FUNCS.get(name)
    if rule is None or st.type(i + 2) in ("n", ")", ""):
        return None
    prev = i - 1
    while prev >= first and st.type(prev) == "(" and prev - 1 >= first:
        if st.type(prev - 1) == "f":
            prev -= 2
        elif st.type(prev - 1) == "(":
            prev -= 1
        else:
            break
    left = st.type(prev) if prev >= first else ""
    arg_end = st.operand_end(i)
    simple_call = arg_end is not None and (st.end(arg_end) or st.type(arg_end) in (")", ",", "o", "&", ";"))
    if left == "o" and st.text(prev) == "=" and first == 0:
        return None  # ``x = sleep(5)`` is ordinary code; SQL needs more than an assignment
    if left in _OPERAND_LEFT or (left == "(" and st.type(prev - 1) in _OPERAND_LEFT):
        return Hit(rule, 0.95, _REASONS[rule], i)
    if prev < first and simple_call and (first > 0 or st.comment_at(arg_end or 0) or st.end(arg_end or 0)):
        return Hit(rule, 0.9, _REASONS[rule], i)
    return None


@dataclass(frozen=True, slots=True)
class Analysis:
    """The best hit of one stream (if any), its fingerprint, and whether the cut was reached."""

    hit: Hit | None
    fingerprint: str
    incomplete: bool


def analyse(tokens: list[Token], *, quoted: bool) -> Analysis:
    """Judge one lexed stream.

    A stream lexed with a token limit is only lexed that far because no far-reaching rule
    (``_anywhere``) can fire on it; the start-anchored rules run, and ``incomplete`` says
    they looked at the cut, so the caller must lex the whole value and ask again.
    """
    st = Stream(tokens)
    truncated = st.limit_at < len(st.toks)
    hits: list[Hit] = []
    if quoted:
        if st.toks and st.toks[0].type == "s" and st.toks[0].closed:
            hit = _breakout(st)
            if hit is not None:
                hits.append(hit)
            if not truncated:
                hit = _anywhere(st, 1)
                if hit is not None:
                    hits.append(hit)
    elif st.toks:
        hit = _as_is(st)
        if hit is not None:
            hits.append(hit)
        if not truncated:
            hit = _anywhere(st, 0)
            if hit is not None:
                hits.append(hit)
    if not hits:
        return Analysis(None, "", st.touched_cut)
    best = max(hits, key=lambda h: h.confidence)
    return Analysis(best, st.fingerprint(best.start), st.touched_cut)
