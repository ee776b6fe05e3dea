"""The four forms of a KeyId parameter."""

import pytest

from chalicelib.domain.ids import KeyRef, Scope, parse_key_id, parse_key_ref
from chalicelib.errors import InvalidArnException, NotFoundException

SCOPE = Scope("us-east-1", "111122223333")
KID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    "value, ref",
    [
        (KID, KeyRef(key_id=KID)),
        (KID.upper(), KeyRef(key_id=KID)),
        (f"arn:aws:kms:us-east-1:111122223333:key/{KID}", KeyRef(key_id=KID)),
        ("alias/app", KeyRef(alias_name="alias/app")),
        ("arn:aws:kms:us-east-1:111122223333:alias/app/x", KeyRef(alias_name="alias/app/x")),
    ],
)
def test_each_form_parses(value, ref):
    assert parse_key_ref(value, SCOPE) == ref


@pytest.mark.parametrize(
    "value",
    ["nope", f"arn:aws:kms:eu-west-1:111122223333:key/{KID}", f"arn:aws:kms:us-east-1:999999999999:key/{KID}"],
)
def test_unknown_or_foreign_ids_are_not_found(value):
    with pytest.raises(NotFoundException):
        parse_key_ref(value, SCOPE)


def test_malformed_arn_is_invalid_arn():
    with pytest.raises(InvalidArnException):
        parse_key_ref("arn:aws:s3:::bucket", SCOPE)


def test_management_calls_refuse_aliases():
    with pytest.raises(NotFoundException):
        parse_key_id("alias/app", SCOPE)
    assert parse_key_id(f"arn:aws:kms:us-east-1:111122223333:key/{KID}", SCOPE) == KID
