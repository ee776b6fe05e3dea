"""Key versions, rotation, the scheduled jobs and clock control, through boto3 and the local
admin routes, on a server of this module's own (its clock moves years ahead)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import serve_kms_local
from kms_helpers import ACCESS_KEY, REGION, SECRET_KEY, expect_error, key_arn_of

BUS = "kms-events"


def _client(service: str, endpoint: str, validate: bool = True) -> Any:
    config = Config(retries={"total_max_attempts": 1}, parameter_validation=validate)
    return boto3.session.Session().client(
        service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=config,
    )


@pytest.fixture(scope="module")
def queue(moto_endpoint: str) -> tuple[Any, str]:
    """An EventBridge bus whose aws.kms events land in an SQS queue (both in moto)."""
    events, sqs = _client("events", moto_endpoint), _client("sqs", moto_endpoint)
    events.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName="kms-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="kms", EventBusName=BUS, EventPattern=json.dumps({"source": ["aws.kms"]}))
    events.put_targets(Rule="kms", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str,
             queue: tuple[Any, str]) -> Iterator[str]:
    env = {"KMS_EVENT_BUS": BUS, "KMS_EVENTS_ENDPOINT": moto_endpoint,
           "KMS_LOCAL_JOBS_INTERVAL": "0"}  # jobs run when a test says so
    with serve_kms_local(tmp_path_factory, env) as url:
        yield url


@pytest.fixture(scope="module")
def kms(endpoint: str) -> Any:
    return _client("kms", endpoint)


@pytest.fixture
def key_id(kms: Any) -> str:
    return str(kms.create_key()["KeyMetadata"]["KeyId"])


def advance(endpoint: str, days: float) -> datetime:
    r = requests.post(f"{endpoint}/_local/clock", json={"advance_days": days}, timeout=10)
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["now"])


def run_jobs(endpoint: str) -> dict[str, list[str]]:
    r = requests.post(f"{endpoint}/_local/jobs", timeout=60)
    assert r.status_code == 200, r.text
    return dict(r.json())


def service_now(endpoint: str) -> datetime:
    return datetime.fromisoformat(requests.get(f"{endpoint}/_local/clock", timeout=10).json()["now"])


def received_events(queue: tuple[Any, str]) -> list[dict[str, Any]]:
    sqs, url = queue
    out = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return out
        for m in messages:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def audited_service_events(endpoint: str, key_id: str) -> list[str]:
    """Names of the AwsServiceEvent audit records about a key, from the CloudTrail endpoint."""
    pages = _client("cloudtrail", endpoint).get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_arn_of(key_id)}])
    records = [json.loads(e["CloudTrailEvent"]) for p in pages for e in p["Events"]]
    return [r["eventName"] for r in records if r["eventType"] == "AwsServiceEvent"]


def test_enable_rotation_reports_status_and_next_date(kms: Any, endpoint: str, key_id: str) -> None:
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key_id)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 365
    assert status["KeyId"] == key_arn_of(key_id)
    expected = service_now(endpoint) + timedelta(days=365)
    assert abs(status["NextRotationDate"] - expected) < timedelta(minutes=5)
    kms.disable_key_rotation(KeyId=key_id)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False
    assert "NextRotationDate" not in status


def test_advancing_the_clock_and_running_jobs_rotates_and_old_ciphertext_decrypts(
        kms: Any, endpoint: str, key_id: str, queue: tuple[Any, str]) -> None:
    first_material = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    old = kms.encrypt(KeyId=key_id, Plaintext=b"before rotation")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    received_events(queue)  # drain what earlier tests sent
    advance(endpoint, 91)
    report = run_jobs(endpoint)
    assert key_id in report["rotated"]
    assert key_id not in run_jobs(endpoint)["rotated"]  # a second run finds nothing due

    current = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert current != first_material
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [(r["RotationType"], r["KeyMaterialId"]) for r in rotations] == [("AUTOMATIC", current)]
    out = kms.decrypt(CiphertextBlob=old)
    assert out["Plaintext"] == b"before rotation"
    assert out["KeyMaterialId"] == first_material
    new = kms.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=new)["KeyMaterialId"] == current
    moved = kms.re_encrypt(CiphertextBlob=old, DestinationKeyId=key_id)
    assert (moved["SourceKeyMaterialId"], moved["DestinationKeyMaterialId"]) == (first_material, current)

    events = [e for e in received_events(queue) if e["resources"] == [key_arn_of(key_id)]]
    assert [(e["source"], e["detail-type"], e["detail"]["key-id"]) for e in events] == [
        ("aws.kms", "KMS CMK Rotation", key_id)]
    assert audited_service_events(endpoint, key_id) == ["RotateKey"]


def test_on_demand_rotations_keep_every_version_decrypting(kms: Any, key_id: str) -> None:
    blobs = []
    for i in range(4):
        blobs.append(kms.encrypt(KeyId=key_id, Plaintext=f"v{i}".encode())["CiphertextBlob"])
        assert kms.rotate_key_on_demand(KeyId=key_id)["KeyId"] == key_arn_of(key_id)
    for i, blob in enumerate(blobs):
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == f"v{i}".encode()
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"] * 4
    everything = kms.list_key_rotations(KeyId=key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert len(everything) == 5
    assert [r["KeyMaterialState"] for r in everything] == ["NON_CURRENT"] * 4 + ["CURRENT"]


def test_list_key_rotations_pages(kms: Any, key_id: str) -> None:
    for _ in range(3):
        kms.rotate_key_on_demand(KeyId=key_id)
    seen, marker = [], None
    while True:
        page = kms.list_key_rotations(KeyId=key_id, Limit=1, **({"Marker": marker} if marker else {}))
        seen += [r["KeyMaterialId"] for r in page["Rotations"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert len(seen) == len(set(seen)) == 3
    expect_error("InvalidMarkerException", kms.list_key_rotations, KeyId=key_id, Marker="nonsense")


def test_on_demand_rotation_limit_is_25(kms: Any, key_id: str) -> None:
    for _ in range(25):
        kms.rotate_key_on_demand(KeyId=key_id)
    expect_error("LimitExceededException", kms.rotate_key_on_demand, KeyId=key_id)


def test_rotation_state_rules(kms: Any, endpoint: str, key_id: str) -> None:
    unvalidated = _client("kms", endpoint, validate=False)
    for days in (89, 2561):
        expect_error("ValidationException", unvalidated.enable_key_rotation, KeyId=key_id,
                     RotationPeriodInDays=days)
    kms.disable_key(KeyId=key_id)
    expect_error("DisabledException", kms.enable_key_rotation, KeyId=key_id)
    expect_error("DisabledException", kms.rotate_key_on_demand, KeyId=key_id)
    kms.enable_key(KeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    expect_error("KMSInvalidStateException", kms.enable_key_rotation, KeyId=key_id)
    expect_error("KMSInvalidStateException", kms.rotate_key_on_demand, KeyId=key_id)
    expect_error("NotFoundException", kms.enable_key_rotation, KeyId=key_arn_of("0" * 8 + "-0000-4000-8000-" + "0" * 12))


def test_deletion_after_the_window_makes_the_key_gone(
        kms: Any, endpoint: str, key_id: str, queue: tuple[Any, str]) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    alias = f"alias/doomed-{key_id[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    received_events(queue)
    advance(endpoint, 6)
    assert key_id not in run_jobs(endpoint)["deleted"]
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    advance(endpoint, 1.01)
    assert key_id in run_jobs(endpoint)["deleted"]
    expect_error("NotFoundException", kms.describe_key, KeyId=key_id)
    expect_error("NotFoundException", kms.decrypt, CiphertextBlob=blob)
    expect_error("NotFoundException", kms.describe_key, KeyId=alias)
    listed = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]]
    assert key_id not in listed
    events = [e for e in received_events(queue) if e["resources"] == [key_arn_of(key_id)]]
    assert [e["detail-type"] for e in events] == ["KMS CMK Deletion"]
    assert audited_service_events(endpoint, key_id) == ["DeleteKey"]


def test_clock_only_moves_forward(endpoint: str) -> None:
    before = service_now(endpoint)
    r = requests.post(f"{endpoint}/_local/clock", json={"advance_days": -1}, timeout=10)
    assert r.status_code == 400
    assert service_now(endpoint) >= before
    assert service_now(endpoint) > datetime.now(timezone.utc)  # earlier tests moved it ahead
