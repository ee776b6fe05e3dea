"""Rotation and deletion sweeps: due keys only, idempotent, safe under overlap and crashes."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.actions import aliases as alias_actions
from chalicelib.actions import crypto, keys as key_actions, lifecycle, rotation
from chalicelib.errors import InvalidCiphertextException, KMSInternalException, NotFoundException
from chalicelib.jobs.sweeps import Sweeper

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class RecordingEvents:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, detail_type, key_arn, key_id, now):  # noqa: ANN001 - test double
        self.sent.append((detail_type, key_id))


@pytest.fixture
def events() -> RecordingEvents:
    return RecordingEvents()


@pytest.fixture
def sweeper(keys, aliases, hsm, events) -> Sweeper:
    return Sweeper(keys, aliases, hsm, events)


def new_key(call_at, **kw) -> str:
    return key_actions.create_key(call_at(T0), **kw)["key_metadata"]["key_id"]


def test_rotation_is_due_only_after_the_period(call_at, sweeper, keys, events):
    key_id = new_key(call_at)
    rotation.enable_key_rotation(call_at(T0), key_id=key_id, rotation_period_in_days=90)
    assert sweeper.run(T0 + timedelta(days=89)).rotated == []
    report = sweeper.run(T0 + timedelta(days=90))
    assert report.rotated == [key_id]
    assert len(keys.get(key_id).versions) == 2
    assert events.sent == [("KMS CMK Rotation", key_id)]
    # The next period starts at the rotation: nothing more until day 180.
    assert sweeper.run(T0 + timedelta(days=179)).rotated == []
    assert sweeper.run(T0 + timedelta(days=180)).rotated == [key_id]


def test_old_ciphertext_decrypts_after_rotations(call_at, sweeper):
    key_id = new_key(call_at)
    blob = crypto.encrypt(call_at(T0), key_id=key_id, plaintext=b"v1")["ciphertext_blob"]
    rotation.enable_key_rotation(call_at(T0), key_id=key_id, rotation_period_in_days=90)
    for days in (90, 180, 270):
        sweeper.run(T0 + timedelta(days=days))
    later = call_at(T0 + timedelta(days=271))
    out = crypto.decrypt(later, ciphertext_blob=blob)
    assert out["plaintext"] == b"v1"
    new_blob = crypto.re_encrypt(later, ciphertext_blob=blob, destination_key_id=key_id)
    assert new_blob["source_key_material_id"] != new_blob["destination_key_material_id"]


def test_disabled_keys_wait_and_rotate_once_enabled(call_at, sweeper, keys):
    key_id = new_key(call_at)
    rotation.enable_key_rotation(call_at(T0), key_id=key_id, rotation_period_in_days=90)
    lifecycle.disable_key(call_at(T0), key_id=key_id)
    assert sweeper.run(T0 + timedelta(days=100)).rotated == []
    lifecycle.enable_key(call_at(T0), key_id=key_id)
    assert sweeper.run(T0 + timedelta(days=101)).rotated == [key_id]


def test_overlapping_runs_rotate_once(call_at, keys, aliases, hsm, events):
    key_ids = [new_key(call_at) for _ in range(5)]
    for key_id in key_ids:
        rotation.enable_key_rotation(call_at(T0), key_id=key_id, rotation_period_in_days=90)
    due = T0 + timedelta(days=90)
    reports = []
    runs = [threading.Thread(target=lambda: reports.append(Sweeper(keys, aliases, hsm, events).run(due)))
            for _ in range(3)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert sorted(k for r in reports for k in r.rotated) == sorted(key_ids)
    for key_id in key_ids:
        assert len(keys.get(key_id).versions) == 2


def test_the_sweep_reads_only_due_keys(call_at, sweeper, keys, monkeypatch):
    due_id = new_key(call_at)
    rotation.enable_key_rotation(call_at(T0), key_id=due_id, rotation_period_in_days=90)
    later_id = new_key(call_at)
    rotation.enable_key_rotation(call_at(T0 + timedelta(days=30)), key_id=later_id, rotation_period_in_days=90)
    new_key(call_at)  # no rotation at all
    assert keys.due_for_rotation(T0 + timedelta(days=90)) == [due_id]


def test_deletion_after_the_window_removes_key_and_aliases(call_at, sweeper, keys, aliases, events):
    key_id = new_key(call_at)
    blob = crypto.encrypt(call_at(T0), key_id=key_id, plaintext=b"x")["ciphertext_blob"]
    alias_actions.create_alias(call_at(T0), alias_name="alias/doomed", target_key_id=key_id)
    lifecycle.schedule_key_deletion(call_at(T0), key_id=key_id, pending_window_in_days=7)
    assert sweeper.run(T0 + timedelta(days=6)).deleted == []
    assert sweeper.run(T0 + timedelta(days=7)).deleted == [key_id]
    with pytest.raises(NotFoundException):
        keys.get(key_id)
    with pytest.raises(NotFoundException):
        aliases.get("alias/doomed")
    # Like AWS: old ciphertext of a deleted key is NotFound; a blob of a never-existing key is not.
    with pytest.raises(NotFoundException):
        crypto.decrypt(call_at(T0 + timedelta(days=8)), ciphertext_blob=blob)
    assert all(k["key_id"] != key_id for k in key_actions.list_keys(call_at(T0), limit=1000)["keys"])
    assert ("KMS CMK Deletion", key_id) in events.sent


def test_a_blob_naming_an_unknown_key_is_invalid_ciphertext(call_at):
    key_id = new_key(call_at)
    blob = bytearray(crypto.encrypt(call_at(T0), key_id=key_id, plaintext=b"x")["ciphertext_blob"])
    blob[1:17] = bytes(16)  # key id field: a UUID no key has
    with pytest.raises(InvalidCiphertextException):
        crypto.decrypt(call_at(T0), ciphertext_blob=bytes(blob))


def test_cancelled_deletion_is_not_carried_out(call_at, sweeper, keys):
    key_id = new_key(call_at)
    lifecycle.schedule_key_deletion(call_at(T0), key_id=key_id, pending_window_in_days=7)
    lifecycle.cancel_key_deletion(call_at(T0), key_id=key_id)
    assert sweeper.run(T0 + timedelta(days=30)).deleted == []
    assert keys.get(key_id).state.value == "Disabled"


def test_a_deletion_killed_between_steps_is_completed_by_the_next_run(call_at, sweeper, keys, aliases, monkeypatch):
    key_id = new_key(call_at)
    alias_actions.create_alias(call_at(T0), alias_name="alias/half", target_key_id=key_id)
    lifecycle.schedule_key_deletion(call_at(T0), key_id=key_id, pending_window_in_days=7)
    real_delete = type(keys).delete

    def crash(self, key):  # the process dies after the aliases went, before the key did
        raise KMSInternalException("simulated crash")

    monkeypatch.setattr(type(keys), "delete", crash)
    report = sweeper.run(T0 + timedelta(days=7))
    assert report.failed == [key_id] and report.deleted == []
    assert keys.get(key_id).state.value == "PendingDeletion"
    monkeypatch.setattr(type(keys), "delete", real_delete)
    assert sweeper.run(T0 + timedelta(days=7)).deleted == [key_id]
    with pytest.raises(NotFoundException):
        keys.get(key_id)


def test_a_rotation_killed_before_its_write_leaves_no_trace(call_at, sweeper, keys, hsm, monkeypatch):
    key_id = new_key(call_at)
    rotation.enable_key_rotation(call_at(T0), key_id=key_id, rotation_period_in_days=90)
    real_generate = type(hsm).generate_key_material

    def crash(self):
        raise KMSInternalException("simulated HSM failure")

    monkeypatch.setattr(type(hsm), "generate_key_material", crash)
    assert sweeper.run(T0 + timedelta(days=90)).failed == [key_id]
    assert len(keys.get(key_id).versions) == 1
    monkeypatch.setattr(type(hsm), "generate_key_material", real_generate)
    assert sweeper.run(T0 + timedelta(days=90)).rotated == [key_id]
