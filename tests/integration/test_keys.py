"""CreateKey, DescribeKey, ListKeys and UpdateKeyDescription through boto3."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from kms_helpers import ACCOUNT_ID, ALIAS_ARN_PREFIX, KEY_ARN_PREFIX, expect_error, unique_alias

UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _assert_new_symmetric_customer_key(meta: dict[str, Any], before: dt.datetime) -> None:
    assert uuid.UUID(meta["KeyId"]).hex == meta["KeyId"].replace("-", "")
    assert meta["Arn"] == KEY_ARN_PREFIX + meta["KeyId"]
    assert meta["AWSAccountId"] == ACCOUNT_ID
    assert meta["KeyState"] == "Enabled"
    assert meta["Enabled"] is True
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Origin"] == "AWS_KMS"
    assert meta["KeyManager"] == "CUSTOMER"
    assert meta["MultiRegion"] is False
    assert meta["Description"] == ""
    assert "DeletionDate" not in meta
    created = meta["CreationDate"]
    assert isinstance(created, dt.datetime)
    # Epoch seconds on the wire may drop sub-second precision.
    slack = dt.timedelta(seconds=5)
    assert before - slack <= created <= dt.datetime.now(dt.timezone.utc) + slack


# Not aws: moto leaves KeyUsage out of KeyMetadata when CreateKey does not name it.
def test_create_key_defaults_to_an_enabled_symmetric_customer_key(kms: Any) -> None:
    before = dt.datetime.now(dt.timezone.utc)

    meta = kms.create_key()["KeyMetadata"]

    _assert_new_symmetric_customer_key(meta, before)


@pytest.mark.aws
def test_create_key_with_explicit_symmetric_usage_describes_the_key(kms: Any) -> None:
    before = dt.datetime.now(dt.timezone.utc)

    meta = kms.create_key(KeyUsage="ENCRYPT_DECRYPT", MultiRegion=False)["KeyMetadata"]

    _assert_new_symmetric_customer_key(meta, before)
    _assert_new_symmetric_customer_key(kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"], before)


@pytest.mark.aws
def test_create_key_returns_description_and_keeps_tags(kms: Any) -> None:
    meta = kms.create_key(
        Description="orders database key",
        Tags=[{"TagKey": "team", "TagValue": "payments"}, {"TagKey": "env", "TagValue": ""}],
    )["KeyMetadata"]

    assert meta["Description"] == "orders database key"
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["Description"] == "orders database key"
    tags = kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("env", ""), ("team", "payments")]


@pytest.mark.aws
def test_create_key_accepts_explicit_symmetric_spec_and_usage(kms: Any) -> None:
    meta = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT", Origin="AWS_KMS")["KeyMetadata"]

    assert (meta["KeySpec"], meta["KeyUsage"], meta["Origin"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS")


@pytest.mark.aws
def test_create_key_accepts_deprecated_customer_master_key_spec(kms: Any) -> None:
    meta = kms.create_key(CustomerMasterKeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]

    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"


@pytest.mark.aws
def test_create_key_gives_every_key_a_new_id(kms: Any) -> None:
    ids = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}

    assert len(ids) == 3


# Not aws: AWS creates RSA keys; ours does not support asymmetric specs yet.
@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256"])
def test_create_key_with_unsupported_spec_is_a_client_error(kms: Any, spec: str) -> None:
    with pytest.raises(kms.exceptions.ClientError) as exc_info:
        kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")
    error = exc_info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] in {"UnsupportedOperationException", "ValidationException"}


@pytest.mark.aws
@pytest.mark.parametrize("member", ["KeySpec", "CustomerMasterKeySpec"])
def test_create_key_with_spec_outside_enum_is_validation_error(kms_unvalidated: Any, member: str) -> None:
    expect_error("ValidationException", kms_unvalidated.create_key, **{member: "NOT_A_SPEC"})


# Not aws: moto stores any KeyUsage or Origin string without checking the enum.
@pytest.mark.parametrize("member", ["KeyUsage", "Origin"])
def test_create_key_with_usage_or_origin_outside_enum_is_validation_error(kms_unvalidated: Any,
                                                                          member: str) -> None:
    expect_error("ValidationException", kms_unvalidated.create_key, **{member: "NOT_A_VALUE"})


# Not aws: AWS creates EXTERNAL keys (PendingImport) and custom-key-store keys; ours does not yet.
@pytest.mark.parametrize("origin", ["EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"])
def test_create_key_with_non_kms_origin_is_unsupported(kms: Any, origin: str) -> None:
    expect_error("UnsupportedOperationException", kms.create_key, Origin=origin)


# Not aws: moto does not enforce the 8192-character Description limit.
def test_create_key_with_too_long_description_is_validation_error(kms_unvalidated: Any) -> None:
    expect_error("ValidationException", kms_unvalidated.create_key, Description="d" * 8193)


def test_create_key_accepts_description_of_maximum_length(kms: Any) -> None:
    meta = kms.create_key(Description="d" * 8192)["KeyMetadata"]

    assert meta["Description"] == "d" * 8192


@pytest.mark.aws
def test_describe_key_by_id_and_by_arn_give_same_metadata(kms: Any, key_id: str) -> None:
    by_id = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    by_arn = kms.describe_key(KeyId=KEY_ARN_PREFIX + key_id)["KeyMetadata"]

    assert by_id == by_arn
    assert by_id["KeyId"] == key_id


@pytest.mark.aws
def test_describe_key_by_alias_name_and_alias_arn(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id
    assert kms.describe_key(KeyId=ALIAS_ARN_PREFIX + alias)["KeyMetadata"]["KeyId"] == key_id


@pytest.mark.aws
def test_describe_unknown_key_id_is_not_found(kms: Any) -> None:
    missing = str(uuid.uuid4())

    with pytest.raises(kms.exceptions.NotFoundException) as exc_info:
        kms.describe_key(KeyId=missing)

    assert exc_info.value.response["Error"]["Message"] == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"
    assert exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.aws
def test_describe_unknown_key_arn_is_not_found(kms: Any) -> None:
    missing_arn = KEY_ARN_PREFIX + str(uuid.uuid4())

    message = expect_error("NotFoundException", kms.describe_key, KeyId=missing_arn)

    assert message == f"Key '{missing_arn}' does not exist"


@pytest.mark.aws
def test_describe_unknown_alias_is_not_found(kms: Any) -> None:
    alias = unique_alias()

    message = expect_error("NotFoundException", kms.describe_key, KeyId=alias)

    assert message == f"Alias {ALIAS_ARN_PREFIX}{alias} is not found."


@pytest.mark.aws
@pytest.mark.parametrize("bad_id", ["not-a-key-id", "1234", "key/" + "0" * 36])
def test_describe_malformed_key_id_is_not_found(kms: Any, bad_id: str) -> None:
    expect_error("NotFoundException", kms.describe_key, KeyId=bad_id)


@pytest.mark.aws
@pytest.mark.parametrize("bad_arn", [
    "arn:aws:kms:us-east-1:111122223333:key",
    "arn:aws:kms:us-east-1:111122223333:notakey/abc",
    "arn:aws:kms",
])
def test_describe_malformed_arn_is_a_client_error(kms: Any, bad_arn: str) -> None:
    with pytest.raises(kms.exceptions.ClientError) as exc_info:
        kms.describe_key(KeyId=bad_arn)
    error = exc_info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] in {"NotFoundException", "InvalidArnException"}


# Not aws: moto does not check the KeyId length constraint.
def test_describe_key_with_empty_key_id_is_validation_error(kms_unvalidated: Any) -> None:
    expect_error("ValidationException", kms_unvalidated.describe_key, KeyId="")


@pytest.mark.aws
def test_list_keys_entries_carry_id_and_arn(kms: Any, key_id: str) -> None:
    entries = _all_keys(kms)

    assert {"KeyId": key_id, "KeyArn": KEY_ARN_PREFIX + key_id} in entries


# Not aws: moto ignores Limit and never truncates ListKeys.
def test_list_keys_pages_with_limit_and_marker(kms: Any) -> None:
    own = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}

    seen: list[str] = []
    pages = 0
    kwargs: dict[str, Any] = {"Limit": 1}
    while True:
        page = kms.list_keys(**kwargs)
        pages += 1
        assert len(page["Keys"]) <= 1
        seen.extend(k["KeyId"] for k in page["Keys"])
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        assert page["NextMarker"]
        kwargs["Marker"] = page["NextMarker"]
        assert pages < 10_000, "ListKeys paging does not terminate"

    assert own <= set(seen)
    assert len(seen) == len(set(seen)), "a key was listed twice"
    assert pages >= 3


# Not aws: moto ignores Limit and never truncates ListKeys.
def test_list_keys_with_limit_two_returns_two_and_a_marker(kms: Any) -> None:
    for _ in range(3):
        kms.create_key()

    page = kms.list_keys(Limit=2)

    assert len(page["Keys"]) == 2
    assert page["Truncated"] is True
    assert page["NextMarker"]


@pytest.mark.aws
def test_list_keys_paginator_finds_own_keys(kms: Any) -> None:
    own = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(2)}

    listed = {k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]}

    assert own <= listed


# Not aws: moto ignores Marker.
def test_list_keys_with_unknown_marker_is_invalid_marker(kms: Any) -> None:
    expect_error("InvalidMarkerException", kms.list_keys, Marker="this-is-not-a-marker")


# Not aws: moto does not check the Limit range.
@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_list_keys_with_limit_out_of_range_is_validation_error(kms_unvalidated: Any, limit: int) -> None:
    expect_error("ValidationException", kms_unvalidated.list_keys, Limit=limit)


# Not aws: moto ignores Limit.
def test_list_keys_accepts_limit_bounds(kms: Any, key_id: str) -> None:
    assert len(kms.list_keys(Limit=1)["Keys"]) == 1
    assert len(kms.list_keys(Limit=1000)["Keys"]) >= 1


@pytest.mark.aws
def test_update_key_description_changes_description(kms: Any, key_id: str) -> None:
    kms.update_key_description(KeyId=key_id, Description="new text")

    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "new text"


@pytest.mark.aws
def test_update_key_description_by_arn_and_to_empty(kms: Any, key_id: str) -> None:
    kms.update_key_description(KeyId=KEY_ARN_PREFIX + key_id, Description="")

    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == ""


@pytest.mark.aws
def test_update_description_of_unknown_key_is_not_found(kms: Any) -> None:
    missing = str(uuid.uuid4())

    message = expect_error("NotFoundException", kms.update_key_description, KeyId=missing, Description="x")

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


# Not aws: moto does not enforce the 8192-character Description limit.
def test_update_key_description_too_long_is_validation_error(kms_unvalidated: Any, key_id: str) -> None:
    expect_error("ValidationException", kms_unvalidated.update_key_description, KeyId=key_id,
                 Description="d" * 8193)


def _all_keys(kms: Any) -> list[dict[str, str]]:
    return [k for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]]
