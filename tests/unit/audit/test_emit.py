"""The two entry points: record_call (the wire layer) and emit_service_event (the jobs)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from unittest import mock

import pytest

from chalicelib import audit, runtime
from chalicelib.config import settings
from chalicelib.errors import DependencyTimeoutException, KMSInternalException, NotFoundException

from audit_fakes import KEY_ID, SCOPE, T0


@pytest.fixture
def wired(trail, monkeypatch):
    monkeypatch.setattr(runtime, "audit_writer", lambda: trail.writer)
    monkeypatch.setattr(runtime, "scope", lambda: SCOPE)
    monkeypatch.setattr(runtime, "now", lambda: T0)
    return trail


def events(trail):
    return [json.loads(e.record.event) for e in sorted(trail.repo.events.values(), key=lambda e: e.record.seq)]


def request(target, body=b"", ip="198.51.100.7"):
    headers = {"x-amz-target": target, "user-agent": "aws-cli/2",
               "authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY123456/20260501/us-east-1/kms/aws4_request"}
    return SimpleNamespace(headers=headers, context={"identity": {"sourceIp": ip}}, raw_body=body)


def test_record_call_builds_the_event_from_the_request(wired):
    body = json.dumps({"KeyId": KEY_ID, "Plaintext": "c2VjcmV0"}).encode()
    audit.record_call(request("TrentService.Encrypt", body), "TrentService.Encrypt", body, T0, "req-1",
                      {"KeyId": SCOPE.key_arn(KEY_ID), "CiphertextBlob": "AAAA"}, None)
    (event,) = events(wired)
    assert event["eventName"] == "Encrypt" and event["requestID"] == "req-1"
    assert event["sourceIPAddress"] == "198.51.100.7" and event["userAgent"] == "aws-cli/2"
    assert event["userIdentity"] == {"type": "Unknown", "accountId": "111122223333",
                                     "accessKeyId": "AKIAEXAMPLEKEY123456"}
    assert event["requestParameters"] == {"keyId": KEY_ID}
    assert event["eventTime"] == "2026-05-01T12:00:00Z"


def test_record_call_records_unknown_targets_and_unreadable_bodies(wired):
    audit.record_call(request("Nope"), "Nope", b"{", T0, "r", None, NotFoundException("x"))
    audit.record_call(request(""), "", b"", T0, "r", None, NotFoundException("x"))
    assert [(e["eventName"], e["requestParameters"]) for e in events(wired)] == [("Nope", None), ("Unknown", None)]


def test_lookup_events_is_recorded_as_a_cloudtrail_call(wired):
    target = audit.CLOUDTRAIL_TARGET_PREFIX + "LookupEvents"
    body = json.dumps({"MaxResults": 5}).encode()
    audit.record_call(request(target, body), target, body, T0, "r", {"Events": []}, None)
    (event,) = events(wired)
    assert (event["eventSource"], event["eventName"], event["readOnly"]) == (
        "cloudtrail.amazonaws.com", "LookupEvents", True)
    assert event["requestParameters"] == {"maxResults": 5}


def test_emit_service_event_records_an_aws_service_event(wired):
    audit.emit_service_event("RotateKey", SCOPE.key_arn(KEY_ID), {"keyMaterialId": "m-2", "material": b"\x00"})
    (event,) = events(wired)
    assert (event["eventType"], event["eventName"], event["userIdentity"]["invokedBy"]) == (
        "AwsServiceEvent", "RotateKey", "kms.amazonaws.com")
    assert event["serviceEventDetails"] == {"keyMaterialId": "m-2"}
    assert wired.repo.events[next(iter(wired.repo.events))].fields.key == KEY_ID


def test_emit_fails_closed(wired):
    wired.repo.fail_appends = True
    with pytest.raises(DependencyTimeoutException):
        audit.emit_service_event("DeleteKey", SCOPE.key_arn(KEY_ID), {})


def test_a_bug_in_the_audit_path_is_a_retryable_internal_error(wired, monkeypatch):
    monkeypatch.setattr(wired.writer, "append", mock.Mock(side_effect=RuntimeError("bug")))
    with pytest.raises(KMSInternalException):
        audit.record_call(request("TrentService.ListKeys"), "TrentService.ListKeys", b"{}", T0, "r", {}, None)


def test_audit_off_records_nothing(wired, monkeypatch):
    monkeypatch.setenv("KMS_AUDIT", "off")
    settings.cache_clear()
    try:
        audit.record_call(request("TrentService.ListKeys"), "TrentService.ListKeys", b"{}", T0, "r", {}, None)
        audit.emit_service_event("RotateKey", SCOPE.key_arn(KEY_ID), {})
    finally:
        monkeypatch.delenv("KMS_AUDIT")
        settings.cache_clear()
    assert not wired.repo.events
