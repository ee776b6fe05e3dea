"""The AWS JSON 1.1 wire protocol itself: raw requests, error shapes, and real clients."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
import pytest
import requests

from kms_helpers import ACCESS_KEY, KEY_ARN_PREFIX, REGION, SECRET_KEY, expect_error

TARGET = "TrentService."


def _model() -> dict[str, Any]:
    path = Path(botocore.__file__).parent / "data" / "kms" / "2014-11-01" / "service-2.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    with gzip.open(path.with_suffix(".json.gz")) as fh:
        return dict(json.load(fh))


MODEL = _model()
OPERATIONS = sorted(MODEL["operations"])


def _assert_error(resp: Any, code: str) -> dict[str, Any]:
    assert resp.status == 400, resp.text
    body = resp.json()
    assert body["__type"] == code, body
    assert isinstance(body.get("message", ""), str)
    return dict(body)


# Not aws: moto answers unknown actions with a 404 HTML page.
@pytest.mark.parametrize("target", ["TrentService.NoSuchAction", "TrentService.", "KmsService.Encrypt",
                                    "TrentService.encrypt", "Encrypt"])
def test_unknown_target_is_unknown_operation(raw_post: Callable[..., Any], target: str) -> None:
    _assert_error(raw_post(target, "{}"), "UnknownOperationException")


# Not aws: moto answers a request without X-Amz-Target with a 404 HTML page.
def test_missing_target_is_a_json_client_error(raw_post: Callable[..., Any]) -> None:
    resp = raw_post(None, "{}")

    assert 400 <= resp.status < 500
    assert "__type" in resp.json()


# Not aws: moto answers malformed JSON with a 500.
@pytest.mark.parametrize("body", ["not json", "{", '{"KeyId": }', "\xff\xfe", "[]", '"a string"', "42", "null"],
                         ids=["text", "open-brace", "bad-value", "bad-utf8", "array", "string", "number", "null"])
def test_body_that_is_not_a_json_object_is_serialization_error(raw_post: Callable[..., Any], body: str) -> None:
    _assert_error(raw_post(TARGET + "ListKeys", body.encode("latin-1")), "SerializationException")


# Not aws: moto does not check member types.
@pytest.mark.parametrize("action, body", [
    ("ListKeys", {"Limit": "x"}),
    ("ListKeys", {"Limit": 1.5}),
    ("ListKeys", {"Marker": 7}),
    ("DescribeKey", {"KeyId": 5}),
    ("DescribeKey", {"KeyId": ["a"]}),
    ("CreateKey", {"Description": {"a": 1}}),
    ("CreateKey", {"Tags": "not-a-list"}),
    ("CreateKey", {"Tags": [{"TagKey": 1, "TagValue": "v"}]}),
    ("CreateKey", {"MultiRegion": "yes"}),
    ("Encrypt", {"KeyId": "alias/x", "Plaintext": 5}),
    ("Encrypt", {"KeyId": "alias/x", "Plaintext": "eA==", "EncryptionContext": "ctx"}),
    ("Encrypt", {"KeyId": "alias/x", "Plaintext": "eA==", "EncryptionContext": {"a": 1}}),
    ("GenerateRandom", {"NumberOfBytes": "32"}),
], ids=lambda v: v if isinstance(v, str) else json.dumps(v))
def test_member_of_wrong_type_is_serialization_error(raw_post: Callable[..., Any], action: str,
                                                     body: dict[str, Any]) -> None:
    _assert_error(raw_post(TARGET + action, json.dumps(body)), "SerializationException")


# Not aws: moto answers undecodable base64 with a 500.
def test_blob_that_is_not_base64_is_a_client_error(raw_post: Callable[..., Any], key_id: str) -> None:
    resp = raw_post(TARGET + "Encrypt", json.dumps({"KeyId": key_id, "Plaintext": "@@not base64@@"}))

    assert resp.status == 400
    assert resp.json()["__type"] in {"SerializationException", "ValidationException"}


# Not aws: moto does not check required members (it fails later, often with a 500).
@pytest.mark.parametrize("action, member", [
    ("DescribeKey", "keyId"),
    ("EnableKey", "keyId"),
    ("ScheduleKeyDeletion", "keyId"),
    ("CreateAlias", "aliasName"),
    ("DeleteAlias", "aliasName"),
    ("ListResourceTags", "keyId"),
])
def test_missing_required_member_is_validation_error(raw_post: Callable[..., Any], action: str, member: str) -> None:
    body = {"TargetKeyId": str(uuid.uuid4())} if action == "CreateAlias" else {}

    error = _assert_error(raw_post(TARGET + action, json.dumps(body)), "ValidationException")

    assert error["message"] == (
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null"
    )


# Not aws: moto does not check required members (it fails later, often with a 500).
def test_encrypt_without_plaintext_is_validation_error(raw_post: Callable[..., Any], key_id: str) -> None:
    _assert_error(raw_post(TARGET + "Encrypt", json.dumps({"KeyId": key_id})), "ValidationException")


@pytest.mark.aws
def test_error_body_has_type_and_message(raw_post: Callable[..., Any]) -> None:
    missing = str(uuid.uuid4())

    resp = raw_post(TARGET + "DescribeKey", json.dumps({"KeyId": missing}))

    assert resp.status == 400
    body = resp.json()
    assert body["__type"] == "NotFoundException"
    assert body["message"] == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


# Not aws: moto labels JSON answers application/json.
def test_responses_are_amz_json(raw_post: Callable[..., Any]) -> None:
    ok = raw_post(TARGET + "ListKeys", "{}")
    error = raw_post(TARGET + "DescribeKey", json.dumps({"KeyId": str(uuid.uuid4())}))

    assert ok.status == 200
    assert ok.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert error.headers["Content-Type"].startswith("application/x-amz-json-1.1")


@pytest.mark.aws
def test_successful_raw_call_returns_json_object(raw_post: Callable[..., Any]) -> None:
    resp = raw_post(TARGET + "CreateKey", json.dumps({"Description": "raw"}))

    assert resp.status == 200
    meta = resp.json()["KeyMetadata"]
    assert meta["Description"] == "raw"
    assert isinstance(meta["CreationDate"], (int, float))


# Not aws: moto answers many of these with 500s.
@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_operation_answers_5xx_to_empty_or_odd_input(raw_post: Callable[..., Any], operation: str) -> None:
    bodies = ["{}", '{"KeyId": "%s"}' % uuid.uuid4(), '{"KeyId": ""}', '{"KeyId": "alias/aws/nonexistent"}',
              '{"Limit": 0}', '{"Plaintext": "", "CiphertextBlob": "AAAA"}', "not json"]
    for body in bodies:
        resp = raw_post(TARGET + operation, body)
        assert resp.status < 500, f"{operation} {body}: {resp.status} {resp.text[:300]}"
        if resp.status >= 400:
            assert "__type" in resp.json(), f"{operation} {body}: {resp.text[:300]}"


# Not aws: moto serves a 404 HTML page here.
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_http_methods_are_client_errors(endpoint: str, method: str) -> None:
    resp = requests.request(method, endpoint + "/", timeout=30)

    assert 400 <= resp.status_code < 500


@pytest.mark.aws
def test_botocore_maps_error_codes_to_exception_classes(kms: Any, key_id: str) -> None:
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=str(uuid.uuid4()))
    with pytest.raises(kms.exceptions.AlreadyExistsException):
        alias = f"alias/wire-{uuid.uuid4().hex}"
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=os.urandom(64))


@pytest.mark.aws
def test_botocore_reads_server_validation_errors(kms_unvalidated: Any) -> None:
    message = expect_error("ValidationException", kms_unvalidated.generate_random, NumberOfBytes=5000)

    assert isinstance(message, str)


def _cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the AWS CLI with dummy credentials and no user config."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_PAGER="")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS"):
        env.pop(name, None)
    return env


@pytest.mark.aws
def test_aws_cli_create_key(endpoint: str, tmp_path: Path) -> None:
    env = _cli_env(tmp_path)

    result = subprocess.run(
        ["aws", "kms", "create-key", "--description", "from the cli", "--endpoint-url", endpoint,
         "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    meta = json.loads(result.stdout)["KeyMetadata"]
    assert meta["Description"] == "from the cli"
    assert meta["Arn"] == KEY_ARN_PREFIX + meta["KeyId"]
    assert meta["KeyState"] == "Enabled"


@pytest.mark.aws
def test_aws_cli_encrypt_decrypt_round_trip(endpoint: str, tmp_path: Path, key_id: str) -> None:
    env = _cli_env(tmp_path)
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"cli secret")

    enc = subprocess.run(
        ["aws", "kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{plain}", "--endpoint-url", endpoint,
         "--output", "text", "--query", "CiphertextBlob"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert enc.returncode == 0, enc.stderr
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(enc.stdout.strip()))
    dec = subprocess.run(
        ["aws", "kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--endpoint-url", endpoint,
         "--output", "text", "--query", "Plaintext"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert dec.returncode == 0, dec.stderr
    assert base64.b64decode(dec.stdout.strip()) == b"cli secret"


@pytest.mark.aws
def test_aws_cli_reports_not_found(endpoint: str, tmp_path: Path) -> None:
    env = _cli_env(tmp_path)

    result = subprocess.run(
        ["aws", "kms", "describe-key", "--key-id", str(uuid.uuid4()), "--endpoint-url", endpoint],
        env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode != 0
    assert "NotFoundException" in result.stderr
