"""The verifier names every record an attacker with write access to the tables altered."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from chalicelib.audit.chain import Record, event_id, record_hash
from chalicelib.audit.digest import digest_hash
from chalicelib.audit.index import index_fields
from chalicelib.audit.repository import StoredDigest, StoredEvent

from audit_fakes import Trail


def kinds(report):
    return sorted({(f.kind, f.seq) for f in report.findings if f.digest is None or f.seq is not None})


def write(trail: Trail, count: int, seal: bool = True) -> str:
    for _ in range(count):
        trail.call()
    if seal:
        assert trail.seal() is not None
    return trail.chain()


def rewrite(trail: Trail, chain: str, seq: int, change, rehash: bool) -> StoredEvent:
    """Edit the event of record `seq`; with `rehash`, recompute its hash as an attacker could."""
    item = trail.repo.events[(chain, seq)]
    event = json.loads(item.record.event)
    change(event)
    text = json.dumps(event, sort_keys=True, separators=(",", ":"))
    record = dataclasses.replace(item.record, event=text,
                                 hash=record_hash(item.record.prev, text) if rehash else item.record.hash)
    trail.repo.events[(chain, seq)] = StoredEvent(record, item.fields)
    return trail.repo.events[(chain, seq)]


def test_untouched_trail_verifies(trail):
    write(trail, 5)
    trail.call()  # one record after the digest: unsealed but sound
    report = trail.verify()
    assert report.ok, report.findings
    assert (report.records, report.chains, report.digests, report.sealed_records) == (6, 1, 1, 5)


def test_modified_record_is_named(trail):
    chain = write(trail, 5)
    rewrite(trail, chain, 3, lambda e: e.update(sourceIPAddress="203.0.113.9"), rehash=False)
    report = trail.verify()
    assert [(f.kind, f.seq, f.event_id) for f in report.findings] == [("modified", 3, event_id(chain, 3))]


def test_modified_and_rehashed_record_is_named_through_its_successor(trail):
    chain = write(trail, 5)
    rewrite(trail, chain, 2, lambda e: e.update(eventName="DescribeKey"), rehash=True)
    report = trail.verify()
    assert ("modified", 2) in kinds(report)
    assert all(f.seq == 2 for f in report.findings)


def test_rewritten_sealed_head_is_caught_by_the_digest(trail):
    chain = write(trail, 4)
    rewrite(trail, chain, 4, lambda e: e.update(errorCode="AccessDeniedException"), rehash=True)
    report = trail.verify()
    assert kinds(report) == [("modified", 4)]
    assert any(f.digest == 1 for f in report.findings)


def test_query_attribute_tampering_is_modification(trail):
    chain = write(trail, 3)
    item = trail.repo.events[(chain, 2)]
    trail.repo.events[(chain, 2)] = StoredEvent(item.record, dataclasses.replace(item.fields, name="ListKeys"))
    report = trail.verify()
    assert [(f.kind, f.seq) for f in report.findings] == [("modified", 2)]
    assert "name" in report.findings[0].detail


def test_deleted_record_in_the_middle_is_named(trail):
    chain = write(trail, 5)
    del trail.repo.events[(chain, 3)]
    report = trail.verify()
    assert [(f.kind, f.seq, f.event_id) for f in report.findings] == [("deleted", 3, event_id(chain, 3))]


def test_deleted_sealed_tail_is_named(trail):
    chain = write(trail, 5)
    del trail.repo.events[(chain, 5)]
    del trail.repo.events[(chain, 4)]
    assert kinds(trail.verify()) == [("deleted", 4), ("deleted", 5)]


def test_deleted_record_with_successors_renumbered_is_named(trail):
    chain = write(trail, 5)
    del trail.repo.events[(chain, 2)]
    for seq in (3, 4, 5):
        trail.repo.move(chain, seq, seq - 1)
    report = trail.verify()
    assert ("deleted", 2) in kinds(report)
    assert not [f for f in report.findings if f.kind == "reordered"]


def test_inserted_record_with_successors_shifted_is_named(trail):
    chain = write(trail, 5)
    # Shift 3..5 up by one, then forge a record at position 3 that links to record 2.
    for seq in (5, 4, 3):
        trail.repo.move(chain, seq, seq + 1)
    two = trail.repo.events[(chain, 2)].record
    original = json.loads(trail.repo.events[(chain, 4)].record.event)
    forged = dict(original, eventName="CreateKey", requestID="forged")
    text = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    trail.repo.events[(chain, 3)] = StoredEvent(
        Record(chain, 3, two.hash, record_hash(two.hash, text), text), index_fields(forged, datetime.fromisoformat(forged["eventTime"].replace("Z", "+00:00")))
    )
    report = trail.verify()
    assert [(f.kind, f.seq) for f in report.findings] == [("inserted", 3)]


def test_record_in_an_unregistered_chain_is_inserted(trail):
    write(trail, 2)
    forger = Trail()
    forger.call()
    ((key, item),) = forger.repo.events.items()
    trail.repo.events[key] = item
    report = trail.verify()
    assert [(f.kind, f.chain, f.seq) for f in report.findings] == [("inserted", key[0], 1)]


def test_record_appended_to_a_closed_chain_is_inserted():
    trail = Trail(chain_seconds=60)
    chain = write(trail, 3)
    trail.now = trail.now.replace(hour=trail.now.hour + 1)
    assert trail.seal() is not None  # closes the expired chain
    head = trail.repo.events[(chain, 3)].record
    text = head.event.replace('"eventName":"Encrypt"', '"eventName":"Decrypt"').replace(
        event_id(chain, 3), event_id(chain, 4))
    trail.repo.events[(chain, 4)] = StoredEvent(Record(chain, 4, head.hash, record_hash(head.hash, text), text),
                                                dataclasses.replace(trail.repo.events[(chain, 3)].fields,
                                                                    name="Decrypt", at=trail.repo.events[(chain, 3)].fields.at.replace(event_id(chain, 3), event_id(chain, 4))))
    assert [(f.kind, f.seq) for f in trail.verify().findings] == [("inserted", 4)]


def test_swapped_records_are_reordered(trail):
    chain = write(trail, 5)
    three, four = trail.repo.events[(chain, 3)], trail.repo.events[(chain, 4)]
    trail.repo.events[(chain, 3)] = StoredEvent(dataclasses.replace(four.record, seq=3), four.fields)
    trail.repo.events[(chain, 4)] = StoredEvent(dataclasses.replace(three.record, seq=4), three.fields)
    report = trail.verify()
    assert kinds(report) == [("reordered", 3), ("reordered", 4)]


def test_forged_digest_signature_fails(trail):
    write(trail, 3)
    digest = trail.repo.digest_items[1]
    body = json.loads(digest.body)
    body["chains"] = {}
    trail.repo.digest_items[1] = StoredDigest(1, json.dumps(body, sort_keys=True, separators=(",", ":")),
                                              digest.signature)
    report = trail.verify()
    assert ("signature", 1) in [(f.kind, f.digest) for f in report.findings]


def test_deleted_digest_in_the_middle_is_named(trail):
    write(trail, 2)
    trail.call()
    trail.seal()
    trail.call()
    trail.seal()
    del trail.repo.digest_items[2]
    report = trail.verify()
    assert ("deleted", 2) in {(f.kind, f.digest) for f in report.findings}


def test_deleted_newest_digest_is_named_from_the_chain_registry(trail):
    write(trail, 2)
    trail.call()
    trail.seal()
    del trail.repo.digest_items[2]
    report = trail.verify()
    assert [(f.kind, f.seq) for f in report.findings] == [("deleted", 3)]


def test_forged_chain_registration_fails(trail):
    chain = write(trail, 2)
    info = trail.repo.chain_items[chain]
    trail.repo.chain_items[chain] = dataclasses.replace(info, signature=bytes(64))
    report = trail.verify()
    assert ("signature", None) in {(f.kind, f.seq) for f in report.findings}
    assert {f.kind for f in report.findings} >= {"signature"}


def test_digests_link_to_their_predecessors(trail):
    write(trail, 1)
    trail.call()
    trail.seal()
    first, second = trail.repo.digests()
    assert json.loads(second.body)["previous"] == digest_hash(first.body)
    assert json.loads(first.body)["previous"] is None


def test_a_later_digest_does_not_hide_a_deleted_sealed_tail(trail):
    chain = write(trail, 4)
    del trail.repo.events[(chain, 4)]
    trail.call()  # the chain grows again (the writer's head is still 4, so this is position 5)
    trail.seal()
    assert ("deleted", 4) in kinds(trail.verify())


def test_the_sealer_does_not_seal_a_chain_that_shrank(trail):
    chain = write(trail, 4)
    del trail.repo.events[(chain, 4)]
    assert trail.seal() is None
    assert kinds(trail.verify()) == [("deleted", 4)]
