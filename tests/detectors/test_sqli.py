"""SQL-injection detector: corpus rates, regression cases, properties, and a real-database attack."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_bastion.detectors import sqli
from mcp_bastion.detectors._sql_lexer import lex
from mcp_bastion.detectors.sqli import (
    HEAD_BYTES,
    PREFIX_TOKENS,
    TAIL_BYTES,
    InjectionMatch,
    bounded,
    detect_sqli,
)

DATA = Path(__file__).parent / "data"
THRESHOLD = 0.9


def _corpus(name: str) -> Iterator[tuple[str, str, str, str]]:
    """(split, family, variant, value) rows of a committed corpus file."""
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            split, family, variant, encoded = line.split("\t", 3)
            yield split, family, variant, json.loads(encoded)


def _blocked(value: str) -> bool:
    match = detect_sqli(value)
    return match is not None and match.confidence >= THRESHOLD


@pytest.mark.parametrize("split", ["tune", "holdout"])
def test_malicious_corpus_detection_rate(split: str) -> None:
    rows = [row for row in _corpus("sqli_malicious.txt") if row[0] == split]
    assert len(rows) >= 250
    missed = [row for row in rows if not _blocked(row[3])]
    rate = 1 - len(missed) / len(rows)
    assert rate >= 0.95, f"{split}: {rate:.3f}, missed {missed[:10]}"


def test_malicious_corpus_size_and_families() -> None:
    rows = list(_corpus("sqli_malicious.txt"))
    assert len(rows) >= 500
    assert {row[1] for row in rows} >= {"tautology", "union", "stacked", "comment", "time", "error"}


def test_benign_corpus_has_no_false_positives() -> None:
    rows = list(_corpus("sqli_benign.txt"))
    assert len(rows) >= 2000
    flagged = [(row[1], row[3], detect_sqli(row[3])) for row in rows if _blocked(row[3])]
    assert flagged == []


@pytest.mark.parametrize(
    "value",
    [
        "O'Brien", "D'Angelo", "rock 'n' roll", "it's 5 o'clock", "L'Oréal", "Côte d'Ivoire",
        "select the best option or union of sets", "drop me a line", "Update: the order was deleted",
        "Say 'yes' or 'no'", "The Jones' and Smiths' house", "Jones' and Smith = partners",
        "It's great; select the best option from the menu", "5'10\" tall", "john.o'reilly@example.com",
        '{"name": "O\'Brien", "age": 42}', "https://example.com/?q=rock+%27n%27+roll&page=2",
        "time.sleep(5)", "x = sleep(5)", "Call sleep(5) then retry", "Don't or won't -- who knows",
        "Tom's--the best", "Use ' or \" to quote strings", "WHERE name = 'O''Brien'", "4 or 5 = 9",
        "Qu'est-ce que c'est ?", "Grüß Gott, wie geht's?", "Let's go 🚀 to the moon", "2024-05-01",
        "-- a dash list item", "# Heading", "| id | name |", "50% off - today only!", "1 or 2",
        '<font color="#909090">', 'see the "--help-formats" option', "contains a single '#'.",
        "inserts a '-->' marker", "benchmark (suite_name=x)", 'the "%C(auto)" format specifier',
        'Look for broken "&&" chains that are hidden in subshells',
        'It strips " # for v3.2 and up" part\nbefore adding the line',
    ],
)  # fmt: skip
def test_legitimate_values_pass(value: str) -> None:
    assert not _blocked(value), detect_sqli(value)


@pytest.mark.parametrize(
    ("value", "rule_id"),
    [
        ("' OR '1'='1", "BST-SQLI-001"),
        ("' or 1=1--", "BST-SQLI-001"),
        ("') or ('x'='x", "BST-SQLI-001"),
        ("' UNION SELECT username, password FROM users--", "BST-SQLI-002"),
        ("' UN/**/ION SEL/**/ECT 1,2--", "BST-SQLI-002"),
        ("'/*!50000union*/ /*!50000select*/ 1,2--", "BST-SQLI-002"),
        ("'; DROP TABLE users--", "BST-SQLI-003"),
        ("'); DROP TABLE records;--", "BST-SQLI-003"),
        ("1; DROP TABLE users", "BST-SQLI-003"),
        ("admin'--", "BST-SQLI-004"),
        ("admin' #", "BST-SQLI-004"),
        ("1; WAITFOR DELAY '0:0:5'", "BST-SQLI-003"),
        ("1 AND BENCHMARK(5000000,MD5(1))", "BST-SQLI-009"),
        ("x' AND SLEEP(5) AND 'a'='a", "BST-SQLI-001"),
        ("sleep(5)#", "BST-SQLI-005"),
        ("extractvalue(1,concat(0x7e,version()))", "BST-SQLI-006"),
        ("1 INTO OUTFILE '/tmp/x'", "BST-SQLI-007"),
        ("' ORDER BY 3--", "BST-SQLI-008"),
        ("1 or 1=1", "BST-SQLI-009"),
        ("%27%20OR%201%3D1--", "BST-SQLI-001"),
        ("＇ or 1=1--", "BST-SQLI-001"),
        ("' Or ChAr(65)=cHaR(65)--", "BST-SQLI-001"),
    ],
)
def test_attacks_are_detected(value: str, rule_id: str) -> None:
    match = detect_sqli(value)
    assert match is not None
    assert match.confidence >= THRESHOLD
    assert match.rule_id == rule_id
    assert match.kind == "sql"
    assert match.fingerprint


def test_match_is_frozen_and_safe_to_show() -> None:
    match = detect_sqli("' OR '1'='1")
    assert isinstance(match, InjectionMatch)
    with pytest.raises(AttributeError):
        match.confidence = 0.0  # type: ignore[misc]
    assert "'" not in match.reason  # the reason names the shape, it does not echo the value


def test_lexer_types() -> None:
    types = "".join(t.type for t in lex("a' OR 1=1 -- x", "'"))
    assert types == "s&1o1c"
    assert lex("sleep (5)")[0].type == "f"
    unterminated = lex("'unterminated")
    assert unterminated[0].type == "s"
    assert not unterminated[0].closed


def test_bounded_analyses_head_and_tail_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def spy(text: str, quote: str | None = None, limit: int | None = None) -> list[object]:
        seen.append(len(text))
        return list(lex(text, quote, limit))

    monkeypatch.setattr(sqli, "lex", spy)
    filler = "ab, " * 10_000
    assert detect_sqli(filler + "' OR '1'='1") is not None  # in the last 1 KiB: seen
    assert max(seen) <= HEAD_BYTES + TAIL_BYTES + 1
    middle = filler + "' OR '1'='1 " + filler
    assert detect_sqli(middle) is None  # documented limit: the middle of a huge value is not read
    assert len(bounded(middle)) == HEAD_BYTES + TAIL_BYTES + 1


@pytest.mark.parametrize(
    "payload",
    ["' OR '1'='1", "x' UNION SELECT password FROM users--", "1; DROP TABLE users", "') AND SLEEP(5)--"],
)
def test_payload_after_a_long_benign_prefix_is_found(payload: str) -> None:
    prefix = "The quick (brown) fox, jumps over the lazy dog - again. " * 60  # ~700 tokens, < 8 KiB
    assert _blocked(prefix + payload)


@pytest.mark.parametrize(
    "payload",
    [
        "' OR " + "(" * 200 + "1=1" + ")" * 200 + "--",
        "' OR " + "NOT " * 200 + "NOT 1=1--",
        "'" + "/**/" * 300 + "OR 1=1--",
        "1 AND " + "(" * 200 + "SLEEP(5)" + ")" * 200,
    ],
)
def test_padding_past_the_prefix_limit_does_not_hide_a_payload(payload: str) -> None:
    # Without far-reaching hints only PREFIX_TOKENS tokens are lexed; a rule that reaches the
    # cut must trigger a full lex instead of giving up.
    assert max(len(lex(payload)), len(lex(payload, "'"))) > PREFIX_TOKENS
    assert _blocked(payload)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("unit", ["'", '"', "/*", "(", "--", "' or ", "%27", "/*!", "`", "@@", "0x", ";"])
def test_pathological_repetitions_finish(unit: str) -> None:
    detect_sqli(unit * 20_000)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(value: str) -> None:
    match = detect_sqli(value)
    assert match is None or 0.0 < match.confidence <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", max_size=200))
def test_letters_digits_spaces_never_flagged(value: str) -> None:
    assert detect_sqli(value) is None


_CANONICAL = [
    "' or 1=1--",
    "' OR '1'='1",
    "' UNION SELECT NULL,NULL--",
    "'; DROP TABLE users--",
    "1 AND SLEEP(5)",
    "admin'--",
    "' AND extractvalue(1,concat(0x7e,version()))--",
    "1; SELECT pg_sleep(5)",
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_CANONICAL), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=80))
def test_trailing_benign_suffix_does_not_hide_payload(payload: str, suffix: str) -> None:
    assert _blocked(payload + " " + suffix)


def _vulnerable_lookup(db: sqlite3.Connection, name: str) -> list[tuple[str]]:
    """The classic mistake the guard exists for: a value pasted into SQL."""
    sql = f"SELECT secret FROM users WHERE name = '{name}'"  # deliberately vulnerable
    return list(db.execute(sql))


def _guarded_lookup(db: sqlite3.Connection, name: str) -> list[tuple[str]] | None:
    if _blocked(name):
        return None
    return _vulnerable_lookup(db, name)


def test_attack_succeeds_without_the_detector_and_fails_with_it() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (name TEXT, secret TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?)", [("alice", "a-secret"), ("bob", "b-secret")])
    payload = "nobody' OR '1'='1"
    assert len(_vulnerable_lookup(db, payload)) == 2  # without the control: every secret leaks
    assert _guarded_lookup(db, payload) is None  # with it: refused before the query runs
    assert _guarded_lookup(db, "alice") == [("a-secret",)]  # and ordinary values still work


def _vulnerable_insert(db: sqlite3.Connection, name: str, address: str) -> None:
    """The pattern of ``examples/vulnerable/seed_server.py``: f-string SQL run as a script."""
    db.executescript(f"INSERT INTO records (name, address) VALUES ('{name}', '{address}');")


def _guarded_insert(db: sqlite3.Connection, name: str, address: str) -> bool:
    if _blocked(name) or _blocked(address):
        return False
    _vulnerable_insert(db, name, address)
    return True


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize(
    "address",
    ["x'); DROP TABLE records;--", "Robert'); DROP TABLE records; --"],
)
def test_stacked_drop_succeeds_without_the_detector_and_fails_with_it(address: str) -> None:
    unguarded = sqlite3.connect(":memory:")
    unguarded.execute("CREATE TABLE records (name TEXT, address TEXT)")
    _vulnerable_insert(unguarded, "eve", address)
    assert "records" not in _tables(unguarded)  # without the control the table is gone

    guarded = sqlite3.connect(":memory:")
    guarded.execute("CREATE TABLE records (name TEXT, address TEXT)")
    assert not _guarded_insert(guarded, "eve", address)
    assert "records" in _tables(guarded)
    assert _guarded_insert(guarded, "alice", "12 Main Street")
    assert guarded.execute("SELECT count(*) FROM records").fetchone() == (1,)
