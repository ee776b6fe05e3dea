"""Blocks: the hand-built item is what the pynamodb model would store, and packing loses nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.audit.chain import Record, event_id
from chalicelib.audit.index import IndexFields, at_of
from chalicelib.audit.models import AuditEventModel
from chalicelib.audit.repository import _unpack, block_item, event_item, from_event_item, pack

optional = st.none() | st.text(min_size=1, max_size=20)
CHAIN = "0123456789abcdef"
T0 = datetime(2026, 5, 1, 12, 0, 0)


def entry(seq: int, *, key: str | None = "k1", key2: str | None = None, used: bool | None = True,
          when: datetime | None = None) -> tuple[Record, IndexFields]:
    eid = event_id(CHAIN, seq)
    when = when or T0 + timedelta(milliseconds=seq % 1000)
    event = json.dumps({"eventID": eid, "eventName": "Encrypt", "eventTime": f"{when:%Y-%m-%dT%H:%M:%SZ}"})
    fields = IndexFields(day=f"{when:%Y-%m-%d}", at=at_of(when, eid), name="Encrypt", ro=True, user=None,
                         key=key, key2=key2, used=used)
    return Record(CHAIN, seq, "a" * 64, "b" * 64, event), fields


@given(seq=st.integers(1, 2**63 - 30), n=st.integers(1, 25), key=optional, key2=optional, used=st.none() | st.just(True))
def test_block_item_matches_the_model(seq, n, key, key2, used):
    entries = [entry(seq + i, key=key, key2=key2, used=used) for i in range(n)]
    item = block_item(entries)
    model = AuditEventModel(
        chain=CHAIN, seq=seq, records=item["records"]["S"], day=entries[0][1].day, at=max(f.at for _, f in entries),
        key=key, key2=key2, used=used,
    )
    assert item == model.serialize()


def test_a_batch_of_one_key_is_one_block_and_unpacks_to_its_records() -> None:
    entries = [entry(s) for s in range(1, 26)]
    (block,) = pack(entries)
    stored = _unpack(AuditEventModel.from_raw_data(block_item(block)))
    assert [e.record for e in stored] == [r for r, _ in entries]
    assert [e.fields.at for e in stored] == [f.at for _, f in entries]


def test_blocks_break_at_a_key_a_gap_a_day_or_past_the_span() -> None:
    entries = [entry(1), entry(2), entry(3, key="k2"), entry(5, key="k2"), entry(6, key="k2", when=T0 + timedelta(seconds=5)),
               entry(7, key="k2", when=T0 + timedelta(days=1))]
    assert [[r.seq for r, _ in b] for b in pack(entries)] == [[1, 2], [3], [5], [6], [7]]


def test_spool_lines_round_trip() -> None:
    record, fields = entry(3, key2="k2")
    assert from_event_item(json.loads(json.dumps(event_item(record, fields)))) == (record, fields)


def test_blocks_stay_well_under_the_item_size_limit() -> None:
    big = [(r.__class__(r.chain, r.seq, r.prev, r.hash, r.event + " " * 60_000), f) for r, f in
           (entry(s) for s in range(1, 11))]
    blocks = pack(big)
    assert [len(b) for b in blocks] == [3, 3, 3, 1]
    assert all(len(json.dumps(block_item(b))) < 400_000 for b in blocks)
