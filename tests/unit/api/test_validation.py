"""Request validation against the botocore model, worded as AWS words it."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.api.shapes import operation, snake
from chalicelib.api.validation import parse_request
from chalicelib.errors import SerializationException, ValidationException


def parse(op: str, body: object) -> dict:
    return parse_request(operation(op).input_shape, body)


def test_members_become_snake_case_and_blobs_bytes():
    out = parse("Encrypt", {"KeyId": "k", "Plaintext": base64.b64encode(b"hi").decode()})
    assert out == {"key_id": "k", "plaintext": b"hi"}


def test_missing_required_member_is_validation_error():
    with pytest.raises(ValidationException) as e:
        parse("DescribeKey", {})
    assert str(e.value) == (
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_range_errors_are_counted_and_joined():
    with pytest.raises(ValidationException) as e:
        parse("GenerateDataKey", {"KeyId": "", "NumberOfBytes": 0})
    message = str(e.value)
    assert message.startswith("2 validation errors detected: ")
    assert "Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1" in message
    assert "Member must have length greater than or equal to 1" in message


def test_enum_violation_lists_the_allowed_values():
    with pytest.raises(ValidationException) as e:
        parse("GenerateDataKey", {"KeyId": "k", "KeySpec": "AES_512"})
    assert "Member must satisfy enum value set: [AES_256, AES_128]" in str(e.value)


def test_oversized_plaintext_message_does_not_echo_the_plaintext():
    secret = b"s3cr3t!" * 600
    with pytest.raises(ValidationException) as e:
        parse("Encrypt", {"KeyId": "k", "Plaintext": base64.b64encode(secret).decode()})
    assert "s3cr3t" not in str(e.value)
    assert "Member must have length less than or equal to 4096" in str(e.value)


@pytest.mark.parametrize(
    "op, body",
    [
        ("ListKeys", {"Limit": "10"}),
        ("ListKeys", {"Limit": True}),
        ("Encrypt", {"KeyId": "k", "Plaintext": 5}),
        ("Encrypt", {"KeyId": "k", "Plaintext": "not base64!"}),
        ("Encrypt", {"KeyId": ["k"], "Plaintext": "AA=="}),
        ("Encrypt", {"KeyId": "k", "Plaintext": "AA==", "EncryptionContext": ["a"]}),
        ("CreateKey", {"Tags": {"TagKey": "a"}}),
        ("DescribeKey", ["KeyId"]),
    ],
)
def test_wrong_json_types_are_serialization_errors(op, body):
    with pytest.raises(SerializationException):
        parse(op, body)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                    max_leaves=10))
def test_arbitrary_json_only_ever_raises_kms_client_errors(body):
    for op in ("Encrypt", "CreateKey", "ListAliases", "TagResource"):
        try:
            parse(op, {"KeyId": body, "Tags": body, "Plaintext": body, "Limit": body})
        except (SerializationException, ValidationException):
            pass


def test_snake_handles_acronyms():
    assert snake("AWSAccountId") == "aws_account_id"
    assert snake("CustomerMasterKeySpec") == "customer_master_key_spec"
    assert snake("KeyId") == "key_id"
