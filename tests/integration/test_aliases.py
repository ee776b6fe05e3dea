"""CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and using keys through their aliases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kms_helpers import ALIAS_ARN_PREFIX, KEY_ARN_PREFIX, expect_error, unique_alias


def _aliases_of(kms: Any, key_id: str) -> list[dict[str, Any]]:
    return [a for page in kms.get_paginator("list_aliases").paginate(KeyId=key_id) for a in page["Aliases"]]


def _all_aliases(kms: Any) -> list[dict[str, Any]]:
    return [a for page in kms.get_paginator("list_aliases").paginate() for a in page["Aliases"]]


@pytest.mark.aws
def test_create_alias_is_listed_for_its_key(kms: Any, key_id: str) -> None:
    alias = unique_alias()

    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    listed = _aliases_of(kms, key_id)
    assert [(a["AliasName"], a["AliasArn"], a["TargetKeyId"]) for a in listed] == [
        (alias, ALIAS_ARN_PREFIX + alias, key_id)
    ]


@pytest.mark.aws
def test_create_alias_is_listed_without_key_filter(kms: Any, key_id: str) -> None:
    alias = unique_alias()

    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    entries = [a for a in _all_aliases(kms) if a["AliasName"] == alias]
    assert len(entries) == 1
    assert entries[0]["AliasArn"] == ALIAS_ARN_PREFIX + alias
    assert entries[0]["TargetKeyId"] == key_id


@pytest.mark.aws
def test_create_alias_accepts_target_key_arn(kms: Any, key_id: str) -> None:
    alias = unique_alias()

    kms.create_alias(AliasName=alias, TargetKeyId=KEY_ARN_PREFIX + key_id)

    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.aws
def test_key_can_have_several_aliases(kms: Any, key_id: str) -> None:
    names = {unique_alias() for _ in range(3)}
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)

    assert {a["AliasName"] for a in _aliases_of(kms, key_id)} == names


# Not aws: moto's ListAliases has no creation/update dates.
def test_list_aliases_entries_carry_dates(kms: Any, key_id: str) -> None:
    kms.create_alias(AliasName=unique_alias(), TargetKeyId=key_id)

    (entry,) = _aliases_of(kms, key_id)

    assert entry["CreationDate"] <= entry["LastUpdatedDate"]


# Not aws: moto ignores Limit and Marker on ListAliases.
def test_list_aliases_pages_with_limit_and_marker(kms: Any, key_id: str) -> None:
    names = {unique_alias() for _ in range(3)}
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)

    seen: list[str] = []
    kwargs: dict[str, Any] = {"KeyId": key_id, "Limit": 1}
    for _ in range(10):
        page = kms.list_aliases(**kwargs)
        assert len(page["Aliases"]) <= 1
        seen.extend(a["AliasName"] for a in page["Aliases"])
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        kwargs["Marker"] = page["NextMarker"]
    else:
        pytest.fail("ListAliases paging did not end after 10 pages for 3 aliases")

    assert sorted(seen) == sorted(names)


# Not aws: moto ignores Limit and Marker on ListAliases.
def test_list_aliases_pages_over_all_aliases(kms: Any, key_id: str) -> None:
    names = {unique_alias() for _ in range(3)}
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)

    seen: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 2}
    while True:
        page = kms.list_aliases(**kwargs)
        assert len(page["Aliases"]) <= 2
        seen.extend(a["AliasName"] for a in page["Aliases"])
        if not page["Truncated"]:
            break
        kwargs["Marker"] = page["NextMarker"]

    assert names <= set(seen)
    assert len(seen) == len(set(seen))


# Not aws: moto ignores Marker on ListAliases.
def test_list_aliases_with_unknown_marker_is_invalid_marker(kms: Any) -> None:
    expect_error("InvalidMarkerException", kms.list_aliases, Marker="not-a-marker")


# Not aws: moto does not check the Limit range.
@pytest.mark.parametrize("limit", [0, -5])
def test_list_aliases_with_limit_below_one_is_validation_error(kms_unvalidated: Any, limit: int) -> None:
    expect_error("ValidationException", kms_unvalidated.list_aliases, Limit=limit)


@pytest.mark.aws
def test_list_aliases_of_key_without_aliases_is_empty(kms: Any, key_id: str) -> None:
    assert _aliases_of(kms, key_id) == []


@pytest.mark.aws
def test_list_aliases_of_unknown_key_is_not_found(kms: Any) -> None:
    expect_error("NotFoundException", kms.list_aliases, KeyId=str(uuid.uuid4()))


@pytest.mark.aws
def test_create_duplicate_alias_is_already_exists(kms: Any, key_id: str, new_key: Any) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    other = new_key()["KeyId"]

    with pytest.raises(kms.exceptions.AlreadyExistsException) as exc_info:
        kms.create_alias(AliasName=alias, TargetKeyId=other)

    assert exc_info.value.response["Error"]["Message"] == (
        f"An alias with the name {ALIAS_ARN_PREFIX}{alias} already exists"
    )
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.aws
@pytest.mark.parametrize("name", ["my-key", "aliasx/my-key", "Alias/my-key"])
def test_create_alias_without_alias_prefix_is_validation_error(kms: Any, key_id: str, name: str) -> None:
    expect_error("ValidationException", kms.create_alias, AliasName=name, TargetKeyId=key_id)


@pytest.mark.aws
@pytest.mark.parametrize("name", ["alias/has space", "alias/ümlaut", "alias/semi;colon", "alias/star*"])
def test_create_alias_with_invalid_characters_is_validation_error(kms_unvalidated: Any, key_id: str,
                                                                  name: str) -> None:
    expect_error("ValidationException", kms_unvalidated.create_alias, AliasName=name, TargetKeyId=key_id)


# Not aws: moto does not enforce the 256-character limit on alias names.
def test_create_alias_longer_than_256_is_validation_error(kms_unvalidated: Any, key_id: str) -> None:
    name = "alias/" + "a" * 251

    expect_error("ValidationException", kms_unvalidated.create_alias, AliasName=name, TargetKeyId=key_id)


@pytest.mark.aws
def test_create_alias_of_exactly_256_characters(kms: Any, key_id: str) -> None:
    name = unique_alias("alias/" + "a" * 237)
    assert len(name) == 256

    kms.create_alias(AliasName=name, TargetKeyId=key_id)

    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.aws
@pytest.mark.parametrize("name", ["alias/aws/ebs", "alias/aws/s3"])
def test_create_alias_with_aws_managed_name_is_not_authorized(kms: Any, key_id: str, name: str) -> None:
    # AWS reserves alias/aws/ for AWS managed keys and answers NotAuthorizedException (not in the model).
    expect_error("NotAuthorizedException", kms.create_alias, AliasName=name, TargetKeyId=key_id)


# Not aws: moto only rejects the alias/aws/ names of its own AWS managed keys, not the whole prefix.
def test_create_alias_with_reserved_aws_prefix_is_not_authorized(kms: Any, key_id: str) -> None:
    name = unique_alias("alias/aws/custom")

    expect_error("NotAuthorizedException", kms.create_alias, AliasName=name, TargetKeyId=key_id)


@pytest.mark.aws
def test_create_alias_for_unknown_key_is_not_found(kms: Any) -> None:
    missing = str(uuid.uuid4())

    message = expect_error("NotFoundException", kms.create_alias, AliasName=unique_alias(), TargetKeyId=missing)

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


@pytest.mark.aws
def test_encrypt_and_decrypt_through_alias_name(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    enc = kms.encrypt(KeyId=alias, Plaintext=b"via alias")
    assert enc["KeyId"] == KEY_ARN_PREFIX + key_id
    dec = kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], KeyId=alias)

    assert dec["Plaintext"] == b"via alias"
    assert dec["KeyId"] == KEY_ARN_PREFIX + key_id


@pytest.mark.aws
def test_encrypt_and_decrypt_through_alias_arn(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    blob = kms.encrypt(KeyId=ALIAS_ARN_PREFIX + alias, Plaintext=b"via alias arn")["CiphertextBlob"]

    assert kms.decrypt(CiphertextBlob=blob, KeyId=ALIAS_ARN_PREFIX + alias)["Plaintext"] == b"via alias arn"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"via alias arn"


@pytest.mark.aws
def test_encrypt_through_unknown_alias_is_not_found(kms: Any) -> None:
    alias = unique_alias()

    message = expect_error("NotFoundException", kms.encrypt, KeyId=alias, Plaintext=b"x")

    assert message == f"Alias {ALIAS_ARN_PREFIX}{alias} is not found."


@pytest.mark.aws
def test_generate_data_key_through_alias(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    resp = kms.generate_data_key(KeyId=alias, KeySpec="AES_256")

    assert resp["KeyId"] == KEY_ARN_PREFIX + key_id
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == resp["Plaintext"]


@pytest.mark.aws
def test_delete_alias_removes_it(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    kms.delete_alias(AliasName=alias)

    assert _aliases_of(kms, key_id) == []
    assert alias not in {a["AliasName"] for a in _all_aliases(kms)}
    expect_error("NotFoundException", kms.describe_key, KeyId=alias)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


@pytest.mark.aws
def test_deleted_alias_name_can_be_reused(kms: Any, key_id: str, new_key: Any) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    kms.delete_alias(AliasName=alias)
    other = new_key()["KeyId"]

    kms.create_alias(AliasName=alias, TargetKeyId=other)

    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == other


@pytest.mark.aws
def test_delete_unknown_alias_is_not_found(kms: Any) -> None:
    alias = unique_alias()

    message = expect_error("NotFoundException", kms.delete_alias, AliasName=alias)

    assert message == f"Alias {ALIAS_ARN_PREFIX}{alias} is not found."


@pytest.mark.aws
def test_delete_alias_without_prefix_is_validation_error(kms: Any) -> None:
    expect_error("ValidationException", kms.delete_alias, AliasName="no-prefix")


@pytest.mark.aws
def test_update_alias_points_it_at_another_key(kms: Any, key_id: str, new_key: Any) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    other = new_key()["KeyId"]

    kms.update_alias(AliasName=alias, TargetKeyId=other)

    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == other
    assert [a["AliasName"] for a in _aliases_of(kms, other)] == [alias]
    assert _aliases_of(kms, key_id) == []


@pytest.mark.aws
def test_ciphertext_still_decrypts_after_alias_moves(kms: Any, key_id: str, new_key: Any) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    blob = kms.encrypt(KeyId=alias, Plaintext=b"before")["CiphertextBlob"]

    kms.update_alias(AliasName=alias, TargetKeyId=new_key()["KeyId"])

    dec = kms.decrypt(CiphertextBlob=blob)
    assert dec["Plaintext"] == b"before"
    assert dec["KeyId"] == KEY_ARN_PREFIX + key_id


@pytest.mark.aws
def test_update_unknown_alias_is_not_found(kms: Any, key_id: str) -> None:
    expect_error("NotFoundException", kms.update_alias, AliasName=unique_alias(), TargetKeyId=key_id)


@pytest.mark.aws
def test_update_alias_to_unknown_key_is_not_found(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    missing = str(uuid.uuid4())

    message = expect_error("NotFoundException", kms.update_alias, AliasName=alias, TargetKeyId=missing)

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.aws
def test_alias_of_key_pending_deletion_stays_and_describes_it(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    assert [a["AliasName"] for a in _aliases_of(kms, key_id)] == [alias]
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyState"] == "PendingDeletion"


# Not aws: moto encrypts with keys pending deletion.
def test_encrypt_through_alias_of_key_pending_deletion_is_invalid_state(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    message = expect_error("KMSInvalidStateException", kms.encrypt, KeyId=alias, Plaintext=b"x")

    assert message == f"{KEY_ARN_PREFIX}{key_id} is pending deletion."


# Not aws: moto creates aliases for keys pending deletion.
def test_create_alias_for_key_pending_deletion_is_invalid_state(kms: Any, key_id: str) -> None:
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    message = expect_error("KMSInvalidStateException", kms.create_alias, AliasName=unique_alias(),
                           TargetKeyId=key_id)

    assert message == f"{KEY_ARN_PREFIX}{key_id} is pending deletion."


# Not aws: moto points aliases at keys pending deletion.
def test_update_alias_to_key_pending_deletion_is_invalid_state(kms: Any, key_id: str, new_key: Any) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    doomed = new_key()["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)

    expect_error("KMSInvalidStateException", kms.update_alias, AliasName=alias, TargetKeyId=doomed)

    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.aws
def test_alias_of_key_pending_deletion_can_be_deleted(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    kms.delete_alias(AliasName=alias)

    assert _aliases_of(kms, key_id) == []


@pytest.mark.aws
def test_alias_of_disabled_key_can_be_created(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)
    alias = unique_alias()

    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyState"] == "Disabled"
