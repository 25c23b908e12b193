"""Record encoding: the fast sealing encoder equals the reference canonical JSON."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_bastion.audit.record import AuditEvent, encode, new_record_id, rfc3339, seal
from mcp_bastion.canonical import canonical_json, digest

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_plain_events_seal_to_the_reference_canonical_form(arguments: Any) -> None:
    event = AuditEvent(principal="p\u2028é\x00", method="tools/call", verdict="allow", arguments=arguments)
    fields, plain = event.prepare(1_800_000_000.25)
    record = seal(fields, 7, "sha256:" + "0" * 64, plain=plain)
    reference = canonical_json({**fields, "seq": 7, "prev": "sha256:" + "0" * 64})
    assert record.body == reference
    assert record.hash == "sha256:" + hashlib.sha256(reference).hexdigest()
    assert fields["arguments_digest"] == digest(arguments)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_plain_exactly_when_orjson_agrees(value: float) -> None:
    # Without the "plain" rule orjson would disagree on e.g. 1e-05 and 1e+16.
    fields, plain = AuditEvent(principal="p", method="m", verdict="allow", arguments=[value]).prepare(0.0)
    assert encode(fields, plain=plain) == canonical_json(fields)


def test_exponent_floats_take_the_reference_path() -> None:
    _, plain = AuditEvent(principal="p", method="m", verdict="allow", arguments={"x": 1e-05}).prepare(0.0)
    assert plain is False
    fields = {"x": 1e-05}
    assert encode(fields, plain=True) != canonical_json(fields)  # what the rule prevents
    assert encode(fields, plain=False) == canonical_json(fields)


def test_ids_and_times() -> None:
    ids = {new_record_id(1_800_000_000.0) for _ in range(1000)}
    assert len(ids) == 1000
    parsed = uuid.UUID(next(iter(ids)))
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert int(parsed.hex[:12], 16) == 1_800_000_000_000  # the millisecond timestamp
    assert rfc3339(1_800_000_000.5) == "2027-01-15T08:00:00.500000Z"
    assert json.loads(canonical_json({"t": rfc3339(0.0)})) == {"t": "1970-01-01T00:00:00.000000Z"}


def test_unusual_arguments_take_the_reference_path() -> None:
    class Key(str):
        pass

    for arguments in ({1: "int key"}, {Key("k"): 1}, [2**64], [float("1e16")], (1, "x")):
        event = AuditEvent(principal="p", method="m", verdict="allow", arguments=arguments)
        fields, plain = event.prepare(0.0)
        assert plain is isinstance(arguments, tuple)
        assert fields["arguments_digest"] == digest(arguments)
    for bad in (float("nan"), {"x": float("inf")}):  # not JSON: refused, as by canonical_json
        with pytest.raises(ValueError, match="JSON compliant"):
            AuditEvent(principal="p", method="m", verdict="allow", arguments=bad).prepare(0.0)
