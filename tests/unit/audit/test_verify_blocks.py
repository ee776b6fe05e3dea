"""Records stored in blocks (models.py): tampering inside or with a block is named per record."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.audit.chain import event_id
from chalicelib.audit.models import AuditEventModel
from chalicelib.audit.repository import _unpack, block_item, pack
from chalicelib.audit.verify import Report, verify

from audit_fakes import Trail


def stored_blocks(trail: Trail, count: int, split: int | None = None) -> tuple[str, list[dict[str, Any]]]:
    """`count` sealed calls 10 ms apart, stored as the shipper would (or cut into two at `split`)."""
    trail.tick = timedelta(milliseconds=10)
    for _ in range(count):
        trail.call()
    assert trail.seal() is not None
    chain = trail.chain()
    entries = [(e.record, e.fields) for e in trail.repo.records(chain)]
    blocks = pack(entries) if split is None else [entries[:split], entries[split:]]
    return chain, [block_item(b) for b in blocks]


def check(trail: Trail, items: list[dict[str, Any]]) -> Report:
    events = [e for item in items for e in _unpack(AuditEventModel.from_raw_data(item))]
    return verify(events, trail.repo.chains(), trail.repo.digests(), trail.hsm.audit_public_key())


def rows(item: dict[str, Any]) -> list[list[str]]:
    return list(json.loads(item["records"]["S"]))


def with_rows(item: dict[str, Any], new: list[list[str]]) -> dict[str, Any]:
    return dict(item, records={"S": json.dumps(new, separators=(",", ":"))})


def test_an_untouched_block_verifies(trail):
    _, items = stored_blocks(trail, 6)
    assert len(items) == 1
    report = check(trail, items)
    assert report.ok, report.findings
    assert (report.records, report.sealed_records) == (6, 6)


def test_one_record_edited_inside_a_block_is_named(trail):
    chain, (item,) = stored_blocks(trail, 6)
    new = rows(item)
    event = json.loads(new[3][3])
    event["sourceIPAddress"] = "203.0.113.9"
    new[3][3] = json.dumps(event, sort_keys=True, separators=(",", ":"))
    report = check(trail, [with_rows(item, new)])
    assert [(f.kind, f.seq, f.event_id) for f in report.findings] == [("modified", 4, event_id(chain, 4))]


def test_a_dropped_block_is_named_record_by_record(trail):
    chain, items = stored_blocks(trail, 6, split=3)
    report = check(trail, items[:1])
    assert [(f.kind, f.seq, f.event_id) for f in report.findings] == [
        ("deleted", s, event_id(chain, s)) for s in (4, 5, 6)]


def test_records_reordered_within_a_block_are_named(trail):
    chain, (item,) = stored_blocks(trail, 6)
    new = rows(item)
    new[1], new[2] = new[2], new[1]
    report = check(trail, [with_rows(item, new)])
    assert sorted((f.kind, f.seq) for f in report.findings) == [("reordered", 2), ("reordered", 3)]


def test_a_record_cut_out_of_a_block_is_deleted_and_the_rest_reordered(trail):
    chain, (item,) = stored_blocks(trail, 6)
    new = rows(item)
    del new[2]
    report = check(trail, [with_rows(item, new)])
    assert ("deleted", 3) in {(f.kind, f.seq) for f in report.findings}


def test_block_index_attributes_that_would_hide_records_are_named(trail):
    _, (item,) = stored_blocks(trail, 4)
    for tampered, what in [
        (dict(item, key={"S": "00000000-0000-0000-0000-000000000000"}), "key"),
        ({k: v for k, v in item.items() if k != "used"}, "used"),
        (dict(item, day={"S": "2026-04-30"}), "day"),
        (dict(item, at={"S": rows(item)[0][0]}), "block at"),  # indexed at its oldest record
        (dict(item, at={"S": "2026-05-01T13:00:00.000000Z#x"}), "block at"),  # beyond the span
    ]:
        report = check(trail, [tampered])
        named = {f.seq for f in report.findings if f.kind == "modified" and what in f.detail}
        assert named and named <= {1, 2, 3, 4}, (what, report.findings)
    report = check(trail, [dict(item, key={"S": "00000000-0000-0000-0000-000000000000"})])
    assert {f.seq for f in report.findings} == {1, 2, 3, 4}
