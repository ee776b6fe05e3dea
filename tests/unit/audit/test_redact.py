"""No plaintext, ciphertext, data key, key material or secret reaches an audit record."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.api.shapes import operation, service_model
from chalicelib.audit.events import Caller, api_call_event, service_event
from chalicelib.audit.redact import redact
from chalicelib.domain.ids import Scope
from chalicelib.errors import NotFoundException

SCOPE = Scope(region="us-east-1", account_id="111122223333")
WHEN = datetime(2026, 5, 1, tzinfo=timezone.utc)
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/7283680d-8ddf-4dcf-aef3-328841bd7dac"


def fill(shape: Any, secret: bytes, depth: int = 0) -> Any:
    """A value for every member: blobs and sensitive strings carry the secret."""
    kind = shape.type_name
    if kind == "blob":
        return base64.b64encode(secret).decode()
    if kind == "string":
        if shape.metadata.get("sensitive"):
            return secret.hex()
        return (shape.enum or ["7283680d-8ddf-4dcf-aef3-328841bd7dac"])[0]
    if depth > 4:
        return None
    if kind == "structure":
        return {name: fill(m, secret, depth + 1) for name, m in shape.members.items()}
    if kind == "list":
        return [fill(shape.member, secret, depth + 1)]
    if kind == "map":
        return {"k": fill(shape.value, secret, depth + 1)}
    if kind in ("integer", "long"):
        return 32
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return 1.0
    return None


def assert_secret_free(text: str, secret: bytes) -> None:
    for form in (base64.b64encode(secret).decode(), secret.hex()):
        assert form not in text
    assert secret.decode("latin-1") not in text


@pytest.mark.parametrize("name", sorted(service_model("kms").operation_names))
@settings(max_examples=5, deadline=None)
@given(secret=st.binary(min_size=16, max_size=64))
def test_no_blob_or_sensitive_member_of_any_operation_is_recorded(name, secret):
    model = operation(name)
    request = fill(model.input_shape, secret) if model.input_shape else {}
    response = fill(model.output_shape, secret) if model.output_shape else {}
    for error in (None, NotFoundException("Key not found")):
        event = api_call_event(
            event_id="00000000-0000-0000-0000-000000000001", name=name, source="kms.amazonaws.com",
            when=WHEN, scope=SCOPE, caller=Caller("192.0.2.1", "agent", "AKIAIOSFODNN7EXAMPLE"),
            request_id="r", operation=model, request=request,
            response=None if error else response, error=error,
        )
        assert_secret_free(json.dumps(event), secret)


def test_encrypt_records_key_and_context_but_not_plaintext():
    model = operation("Encrypt")
    request = {"KeyId": "alias/app", "Plaintext": base64.b64encode(b"top secret").decode(),
               "EncryptionContext": {"tenant": "a"}, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert redact(model.input_shape, request) == {
        "keyId": "alias/app", "encryptionContext": {"tenant": "a"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def test_unknown_and_mistyped_members_are_dropped():
    model = operation("GenerateDataKey")
    request = {"KeyId": 5, "NumberOfBytes": "32", "Extra": "x", "KeySpec": "AES_256"}
    assert redact(model.input_shape, request) == {"keySpec": "AES_256"}


def test_read_only_calls_record_no_response_elements_and_mutations_record_ids():
    decrypt = api_call_event(
        event_id="e", name="Decrypt", source="kms.amazonaws.com", when=WHEN, scope=SCOPE,
        caller=Caller("192.0.2.1", "agent"), request_id="r", operation=operation("Decrypt"),
        request={"CiphertextBlob": "AAAA"}, response={"KeyId": KEY_ARN, "Plaintext": "AAAA"}, error=None,
    )
    assert decrypt["responseElements"] is None and decrypt["readOnly"] is True
    assert decrypt["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
    create = api_call_event(
        event_id="e", name="CreateKey", source="kms.amazonaws.com", when=WHEN, scope=SCOPE,
        caller=Caller("192.0.2.1", "agent"), request_id="r", operation=operation("CreateKey"),
        request={}, response={"KeyMetadata": {"KeyId": "k", "Arn": KEY_ARN}}, error=None,
    )
    assert create["responseElements"] == {"keyMetadata": {"keyId": "k", "arn": KEY_ARN}}
    assert create["readOnly"] is False


def test_failed_call_records_error_code_and_message():
    event = api_call_event(
        event_id="e", name="DescribeKey", source="kms.amazonaws.com", when=WHEN, scope=SCOPE,
        caller=Caller("192.0.2.1", "agent"), request_id="r", operation=operation("DescribeKey"),
        request={"KeyId": "alias/none"}, response=None, error=NotFoundException("Alias is not found."),
    )
    assert (event["errorCode"], event["errorMessage"]) == ("NotFoundException", "Alias is not found.")
    assert event["resources"] == []


def test_service_event_drops_bytes_from_details():
    event = service_event(event_id="e", name="RotateKey", when=WHEN, scope=SCOPE, request_id="r",
                          key_arn=KEY_ARN, details={"keyMaterial": b"\x01\x02", "version": 2, "when": WHEN})
    assert event["serviceEventDetails"] == {"version": 2, "when": "2026-05-01T00:00:00Z"}
    assert event["eventType"] == "AwsServiceEvent"
