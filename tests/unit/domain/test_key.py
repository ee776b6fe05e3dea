"""The key state machine."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.key import Key, KeySpec, KeyState, KeyUsage, KeyVersion, Origin
from chalicelib.errors import DisabledException, KMSInvalidStateException

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_key(state: KeyState = KeyState.ENABLED) -> Key:
    return Key(
        key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
        arn="arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        account_id="111122223333",
        created=NOW,
        state=state,
        description="",
        spec=KeySpec.SYMMETRIC_DEFAULT,
        usage=KeyUsage.ENCRYPT_DECRYPT,
        origin=Origin.AWS_KMS,
        versions=(KeyVersion(1, "m1", b"w", NOW),),
    )


def test_disabled_key_refuses_crypto_with_disabled_exception():
    with pytest.raises(DisabledException, match=r"key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled\.$"):
        make_key().disable().require_usable()


def test_pending_deletion_refuses_crypto_and_management():
    key = make_key().schedule_deletion(now=NOW, days=7)
    assert key.deletion_date == NOW + timedelta(days=7)
    with pytest.raises(KMSInvalidStateException, match="is pending deletion."):
        key.require_usable()
    for change in (Key.enable, Key.disable, lambda k: k.describe("x"), lambda k: k.with_tags({})):
        with pytest.raises(KMSInvalidStateException):
            change(key)


def test_cancel_deletion_leaves_the_key_disabled():
    key = make_key().schedule_deletion(now=NOW, days=30).cancel_deletion()
    assert key.state is KeyState.DISABLED
    assert key.deletion_date is None


def test_cancel_deletion_of_a_live_key_is_invalid_state():
    with pytest.raises(KMSInvalidStateException):
        make_key().cancel_deletion()


OPS = {
    "enable": Key.enable,
    "disable": Key.disable,
    "schedule": lambda k: k.schedule_deletion(now=NOW, days=7),
    "cancel": Key.cancel_deletion,
}


@given(st.lists(st.sampled_from(sorted(OPS)), max_size=12))
def test_any_sequence_keeps_deletion_date_iff_pending_deletion(ops):
    key = make_key()
    for op in ops:
        try:
            key = OPS[op](key)
        except KMSInvalidStateException:
            pass
        assert (key.deletion_date is not None) == (key.state is KeyState.PENDING_DELETION)
        assert key.versions == make_key().versions
