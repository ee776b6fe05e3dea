"""Chain ids, event ids and record hashes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.audit.chain import event_id, genesis_hash, new_chain_id, parse_event_id, record_hash

chains = st.text("0123456789abcdef", min_size=16, max_size=16)


@given(chain=chains, seq=st.integers(1, 2**64 - 1))
def test_event_id_names_its_chain_and_position(chain, seq):
    value = event_id(chain, seq)
    assert len(value) == 36 and value.count("-") == 4
    assert parse_event_id(value) == (chain, seq)
    assert parse_event_id(value.upper()) == (chain, seq)


@given(st.text(max_size=40))
def test_foreign_event_ids_name_no_position(value):
    parsed = parse_event_id(value)
    assert parsed is None or event_id(*parsed) == value.lower()


def test_sequence_zero_is_not_a_position():
    assert parse_event_id("00000000-0000-0000-0000-000000000000") is None


@given(prev=st.text("0123456789abcdef", min_size=64, max_size=64), event=st.text(), other=st.text())
def test_record_hash_depends_on_link_and_content(prev, event, other):
    h = record_hash(prev, event)
    assert (record_hash(prev, other) == h) == (other == event)
    assert record_hash(genesis_hash("0" * 16), event) != record_hash(genesis_hash("1" * 16), event)


def test_chain_ids_are_fresh():
    ids = {new_chain_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 16 for i in ids)
