"""The writer: one chain per process, fail closed, a fresh chain after any doubt."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest

from chalicelib.audit.chain import genesis_hash, parse_event_id
from chalicelib.errors import DependencyTimeoutException

from audit_fakes import Trail


def test_records_of_one_writer_form_one_chain(trail):
    ids = [trail.call() for _ in range(3)]
    chain = trail.chain()
    assert [parse_event_id(i) for i in ids] == [(chain, 1), (chain, 2), (chain, 3)]
    records = trail.repo.records(chain)
    assert records[0].record.prev == genesis_hash(chain)
    assert [r.record.prev for r in records[1:]] == [r.record.hash for r in records[:-1]]


def test_failed_append_fails_the_call_and_abandons_the_chain(trail):
    trail.call()
    first = trail.chain()
    trail.repo.fail_appends = True
    with pytest.raises(DependencyTimeoutException) as e:
        trail.call()
    assert e.value.status == 500  # retryable
    trail.repo.fail_appends = False
    eid = trail.call()
    chain, seq = parse_event_id(eid)
    assert chain != first and seq == 1
    assert trail.verify().ok


def test_unavailable_hsm_fails_closed(trail):
    with mock.patch.object(trail.hsm, "audit_sign", side_effect=DependencyTimeoutException("down")):
        with pytest.raises(DependencyTimeoutException):
            trail.call()
    assert not trail.repo.events


def test_chain_is_replaced_when_it_ages():
    trail = Trail(chain_seconds=10)
    first = parse_event_id(trail.call())[0]
    trail.now += timedelta(seconds=20)
    second = parse_event_id(trail.call())[0]
    assert first != second
    assert trail.verify().ok


def test_a_forked_child_starts_its_own_chain(trail):
    first = parse_event_id(trail.call())[0]
    with mock.patch("os.getpid", return_value=999_999):
        child = parse_event_id(trail.call())
    assert child[0] != first and child[1] == 1


def test_concurrent_writers_keep_separate_chains():
    trail = Trail()
    other = type(trail.writer)(trail.repo, trail.hsm, 900)
    for _ in range(3):
        trail.call()
        trail.call(writer=other)
    assert len({c for c, _ in trail.repo.events}) == 2
    trail.seal()
    report = trail.verify()
    assert report.ok and report.sealed_records == 6
