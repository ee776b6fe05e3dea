"""Key state transitions: EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from kms_helpers import KEY_ARN_PREFIX, expect_error


def _state(kms: Any, key_id: str) -> str:
    return str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"])


@pytest.mark.aws
def test_disable_key_makes_it_disabled(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)

    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Disabled", False)


@pytest.mark.aws
def test_enable_key_after_disable_makes_it_enabled(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)
    kms.enable_key(KeyId=key_id)

    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Enabled", True)


@pytest.mark.aws
def test_enable_and_disable_are_idempotent(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)
    kms.disable_key(KeyId=key_id)
    assert _state(kms, key_id) == "Disabled"

    kms.enable_key(KeyId=key_id)
    kms.enable_key(KeyId=key_id)
    assert _state(kms, key_id) == "Enabled"


# Not aws: moto answers 500 to DisableKey/EnableKey given a key ARN.
def test_enable_and_disable_accept_key_arn(kms: Any, key_id: str) -> None:
    arn = KEY_ARN_PREFIX + key_id
    kms.disable_key(KeyId=arn)
    assert _state(kms, key_id) == "Disabled"

    kms.enable_key(KeyId=arn)
    assert _state(kms, key_id) == "Enabled"


@pytest.mark.aws
@pytest.mark.parametrize("operation", ["enable_key", "disable_key", "schedule_key_deletion", "cancel_key_deletion"])
def test_lifecycle_operation_on_unknown_key_is_not_found(kms: Any, operation: str) -> None:
    missing = str(uuid.uuid4())

    message = expect_error("NotFoundException", getattr(kms, operation), KeyId=missing)

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


# Not aws: moto encrypts and decrypts with disabled keys.
def test_encrypt_with_disabled_key_is_disabled_exception(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)

    with pytest.raises(kms.exceptions.DisabledException) as exc_info:
        kms.encrypt(KeyId=key_id, Plaintext=b"secret")

    assert exc_info.value.response["Error"]["Message"] == f"{KEY_ARN_PREFIX}{key_id} is disabled."


# Not aws: moto encrypts and decrypts with disabled keys.
def test_decrypt_with_disabled_key_is_disabled_exception(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)

    message = expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)

    assert message == f"{KEY_ARN_PREFIX}{key_id} is disabled."


# Not aws: moto generates data keys under disabled keys.
@pytest.mark.parametrize("operation", ["generate_data_key", "generate_data_key_without_plaintext"])
def test_generate_data_key_with_disabled_key_is_disabled_exception(kms: Any, key_id: str, operation: str) -> None:
    kms.disable_key(KeyId=key_id)

    expect_error("DisabledException", getattr(kms, operation), KeyId=key_id, KeySpec="AES_256")


# Not aws: moto encrypts and decrypts with disabled keys.
def test_decrypt_works_again_after_reenabling(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)

    kms.enable_key(KeyId=key_id)

    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


@pytest.mark.aws
def test_disabled_key_can_still_be_described_and_listed(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)

    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    listed = {k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]}
    assert key_id in listed


@pytest.mark.aws
def test_schedule_key_deletion_defaults_to_thirty_days(kms: Any, key_id: str) -> None:
    now = dt.datetime.now(dt.timezone.utc)

    resp = kms.schedule_key_deletion(KeyId=key_id)

    expected = now + dt.timedelta(days=30)
    assert abs(resp["DeletionDate"] - expected) <= dt.timedelta(days=1)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert meta["Enabled"] is False
    assert abs(meta["DeletionDate"] - expected) <= dt.timedelta(days=1)


# Not aws: moto answers with the bare key id and without KeyState/PendingWindowInDays.
def test_schedule_key_deletion_response_names_arn_state_and_window(kms: Any, key_id: str) -> None:
    resp = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    assert resp["KeyId"] == KEY_ARN_PREFIX + key_id
    assert resp["KeyState"] == "PendingDeletion"
    assert resp["PendingWindowInDays"] == 7


@pytest.mark.aws
@pytest.mark.parametrize("days", [7, 30])
def test_schedule_key_deletion_accepts_window_bounds(kms: Any, key_id: str, days: int) -> None:
    now = dt.datetime.now(dt.timezone.utc)

    resp = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)

    assert abs(resp["DeletionDate"] - (now + dt.timedelta(days=days))) <= dt.timedelta(days=1)


# Not aws: moto accepts any PendingWindowInDays.
@pytest.mark.parametrize("days", [1, 6, 31, 365])
def test_schedule_key_deletion_outside_7_to_30_days_is_validation_error(kms: Any, key_id: str, days: int) -> None:
    expect_error("ValidationException", kms.schedule_key_deletion, KeyId=key_id, PendingWindowInDays=days)

    assert _state(kms, key_id) == "Enabled"


# Not aws: moto does not check the model's 1..365 range either.
@pytest.mark.parametrize("days", [0, -1, 366])
def test_schedule_key_deletion_outside_model_range_is_validation_error(kms_unvalidated: Any, key_id: str,
                                                                       days: int) -> None:
    expect_error("ValidationException", kms_unvalidated.schedule_key_deletion, KeyId=key_id,
                 PendingWindowInDays=days)


@pytest.mark.aws
def test_schedule_key_deletion_of_disabled_key(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)

    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    assert _state(kms, key_id) == "PendingDeletion"


# Not aws: moto encrypts with keys pending deletion.
def test_encrypt_with_key_pending_deletion_is_invalid_state(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc_info:
        kms.encrypt(KeyId=key_id, Plaintext=b"secret")

    assert exc_info.value.response["Error"]["Message"] == f"{KEY_ARN_PREFIX}{key_id} is pending deletion."


# Not aws: moto decrypts with keys pending deletion.
def test_decrypt_with_key_pending_deletion_is_invalid_state(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    message = expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)

    assert message == f"{KEY_ARN_PREFIX}{key_id} is pending deletion."


# Not aws: moto enables, disables and reschedules keys pending deletion.
@pytest.mark.parametrize("operation", ["enable_key", "disable_key", "schedule_key_deletion"])
def test_state_change_of_key_pending_deletion_is_invalid_state(kms: Any, key_id: str, operation: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    message = expect_error("KMSInvalidStateException", getattr(kms, operation), KeyId=key_id)

    assert message == f"{KEY_ARN_PREFIX}{key_id} is pending deletion."
    assert _state(kms, key_id) == "PendingDeletion"


# Not aws: moto generates data keys under keys pending deletion.
def test_generate_data_key_with_key_pending_deletion_is_invalid_state(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    expect_error("KMSInvalidStateException", kms.generate_data_key, KeyId=key_id, KeySpec="AES_256")


@pytest.mark.aws
def test_cancel_key_deletion_leaves_key_disabled(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    kms.cancel_key_deletion(KeyId=key_id)

    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Disabled", False)
    assert "DeletionDate" not in meta


# Not aws: moto answers CancelKeyDeletion with the id as given, not the key ARN.
def test_cancel_key_deletion_answers_with_key_arn(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"] == KEY_ARN_PREFIX + key_id


# Not aws: moto decrypts with disabled keys.
def test_decrypt_after_cancelled_deletion_is_disabled_until_enabled(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"kept")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=key_id)

    message = expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)

    assert message == f"{KEY_ARN_PREFIX}{key_id} is disabled."


@pytest.mark.aws
def test_key_can_be_enabled_and_used_after_cancelled_deletion(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=key_id)

    kms.enable_key(KeyId=key_id)

    blob = kms.encrypt(KeyId=key_id, Plaintext=b"back")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"back"


# Not aws: moto cancels deletion of keys that are not pending deletion.
@pytest.mark.parametrize("disable_first", [False, True])
def test_cancel_key_deletion_when_not_pending_is_invalid_state(kms: Any, key_id: str, disable_first: bool) -> None:
    if disable_first:
        kms.disable_key(KeyId=key_id)

    expect_error("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=key_id)


@pytest.mark.aws
def test_key_pending_deletion_can_still_be_described_and_listed(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    listed = {k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]}
    assert key_id in listed
