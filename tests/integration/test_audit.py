"""The audit trail through real clients: boto3 (kms, cloudtrail), the AWS CLI and kms-audit-verify.

These tests read and tamper with the store behind the server, so they start their own local
server (with one worker, so the records of this module form one chain at a time) and ignore
KMS_ENDPOINT.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.local import STORE_ENDPOINT_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT_ID = "111122223333"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
READY = re.compile(r"kms-local ready on (http://\S+)")
START_TIMEOUT = 120.0
CT_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


@functools.lru_cache(maxsize=None)
def _store_client(url: str) -> Any:
    return boto3.session.Session().client(
        "dynamodb", region_name=REGION, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x",
    )


@dataclass
class Served:
    url: str
    store_url: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    def client(self, service: str, **config: Any) -> Any:
        return boto3.session.Session().client(
            service, region_name=REGION, endpoint_url=self.url, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1}, **config),
        )

    def store(self) -> Any:
        """A DynamoDB client for the server's embedded store (made once: a client costs ~0.1 s)."""
        return _store_client(self.store_url)

    def verify(self, *extra: str) -> tuple[int, dict[str, Any]]:
        """Run kms-audit-verify on this server's data dir (store URL and token); (exit, JSON report)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KMS_", "SOFTHSM"))}
        done = subprocess.run(
            [sys.executable, "-m", "chalicelib.audit.cli", "--data-dir", str(self.data_dir), "--json", *extra],
            cwd=REPO_ROOT, env=dict(env, KMS_ACCOUNT_ID=ACCOUNT_ID), capture_output=True, text=True, timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, json.loads(done.stdout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(tmp: Path, **extra_env: str) -> Iterator[Served]:
    data_dir = tmp / "data"
    log_path = tmp / "server.log"
    env = dict(os.environ, KMS_ACCOUNT_ID=ACCOUNT_ID, KMS_REGION=REGION, PYTHONUNBUFFERED="1", **extra_env)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local", "--host", "127.0.0.1", "--port", str(_free_port()),
             "--data-dir", str(data_dir), "--workers", "1"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (match := READY.search(log_path.read_text(errors="replace"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"kms-local did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield Served(match.group(1), (data_dir / STORE_ENDPOINT_FILE).read_text().strip(), data_dir,
                     log_path, proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with _serve(tmp_path_factory.mktemp("audit")) as s:
        yield s


@pytest.fixture(scope="module")
def kms(served: Served) -> Any:
    return served.client("kms")


@pytest.fixture(scope="module")
def cloudtrail(served: Served) -> Any:
    return served.client("cloudtrail")


def events_of(cloudtrail: Any, key_id: str) -> list[dict[str, Any]]:
    """The CloudTrail events naming a key, oldest first, parsed."""
    pages = cloudtrail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_id}])
    return [json.loads(e["CloudTrailEvent"]) for p in pages for e in p["Events"]][::-1]


def all_items(served: Served, table: str = "kms-audit-events") -> list[dict[str, Any]]:
    pages = served.store().get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def all_records(served: Served) -> list[dict[str, Any]]:
    """The events table's blocks (chalicelib/audit/models.py) unpacked: one item per record,
    with its block's index attributes, in the shape `_put` stores as a block of one."""
    out = []
    for block in all_items(served):
        for i, (at, prev, hash_, event) in enumerate(json.loads(block["records"]["S"])):
            record = {k: v for k, v in block.items() if k in ("chain", "day", "key", "key2", "used")}
            out.append(dict(record, seq={"N": str(int(block["seq"]["N"]) + i)}, at={"S": at}, prev={"S": prev},
                            hash={"S": hash_}, event={"S": event}))
    return out


def test_every_call_is_recorded_with_its_outcome(served: Served, kms: Any, cloudtrail: Any) -> None:
    key_id = kms.create_key(Description="audited")["KeyMetadata"]["KeyId"]
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"hello", EncryptionContext={"app": "a"})["CiphertextBlob"]
    with pytest.raises(ClientError) as failed:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "b"}, KeyId=key_id)
    request_id = failed.value.response["ResponseMetadata"]["RequestId"]
    kms.disable_key(KeyId=arn)

    events = events_of(cloudtrail, key_id)
    assert [e["eventName"] for e in events] == ["CreateKey", "Encrypt", "Decrypt", "DisableKey"]
    create, encrypt, decrypt, disable = events
    for e in events:
        assert (e["eventSource"], e["eventType"], e["awsRegion"], e["eventVersion"]) == (
            "kms.amazonaws.com", "AwsApiCall", REGION, "1.08")
        assert e["userIdentity"]["accessKeyId"] == ACCESS_KEY
        assert e["sourceIPAddress"] == "127.0.0.1" and e["userAgent"].startswith("Boto3/")
        assert e["resources"] == [{"accountId": ACCOUNT_ID, "type": "AWS::KMS::Key", "ARN": arn}]
    assert create["responseElements"]["keyMetadata"]["keyId"] == key_id
    assert create["readOnly"] is False and encrypt["readOnly"] is True
    assert encrypt["requestParameters"] == {"keyId": key_id, "encryptionContext": {"app": "a"}}
    assert encrypt["responseElements"] is None and "errorCode" not in encrypt
    assert (decrypt["errorCode"], decrypt["requestID"]) == ("InvalidCiphertextException", request_id)
    assert disable["requestParameters"] == {"keyId": arn}


def test_calls_that_name_no_key_and_bad_requests_are_recorded(served: Served, kms: Any, cloudtrail: Any) -> None:
    alias = f"alias/missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError):
        kms.describe_key(KeyId=alias)
    response = requests.post(served.url + "/", data=b"{not json", timeout=30, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"})
    assert response.status_code == 400
    bad_request_id = response.headers["x-amzn-RequestId"]
    page = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeKey"}])
    described = [json.loads(e["CloudTrailEvent"]) for e in page["Events"]]
    assert any(e["requestParameters"] == {"keyId": alias} and e["errorCode"] == "NotFoundException"
               for e in described)
    listed = [json.loads(e["CloudTrailEvent"]) for e in cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListKeys"}])["Events"]]
    (bad,) = [e for e in listed if e["requestID"] == bad_request_id]
    assert bad["errorCode"] == "SerializationException" and bad["requestParameters"] is None


def test_no_plaintext_or_data_key_reaches_a_record_or_a_log_line(served: Served, kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    plaintext = b"PLAINTEXT-" + uuid.uuid4().hex.encode()
    secrets = [plaintext]
    blob = kms.encrypt(KeyId=key_id, Plaintext=plaintext)["CiphertextBlob"]
    secrets.append(blob)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    secrets += [data_key["Plaintext"], data_key["CiphertextBlob"]]
    secrets.append(kms.generate_random(NumberOfBytes=32)["Plaintext"])
    reencrypted = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_id)["CiphertextBlob"]
    secrets.append(reencrypted)
    with pytest.raises(ClientError):  # a failed call with a plaintext in it
        kms.encrypt(KeyId=f"alias/none-{uuid.uuid4().hex[:6]}", Plaintext=plaintext)

    kms.list_keys()  # a reader: ships what is spooled
    stored = json.dumps(all_items(served), default=lambda b: base64.b64encode(b).decode())
    stored += "".join(p.read_text(errors="replace") for p in (served.data_dir / "audit-spool").glob("*"))
    log = served.log_path.read_bytes()
    for secret in secrets:
        for form in (secret, base64.b64encode(secret), secret.hex().encode()):
            assert form.decode("latin-1") not in stored
            assert form not in log


def test_records_reach_the_table_without_a_reader(served: Served, kms: Any) -> None:
    """The launcher's audit-shipper process ships what the workers spool, unprompted."""
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    deadline = time.monotonic() + 10
    while not [i for i in all_records(served) if key_id in i["event"]["S"]]:
        assert time.monotonic() < deadline, "the spooled record never reached the table"
        time.sleep(0.1)


def test_lookup_events_filters_and_pages(served: Served, kms: Any, cloudtrail: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(3):
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    kms.describe_key(KeyId=key_id)
    by_key = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_id}])
    names = [e["EventName"] for e in by_key["Events"]]
    assert names == ["DescribeKey", "Encrypt", "Encrypt", "Encrypt", "CreateKey"]  # newest first
    times = [e["EventTime"] for e in by_key["Events"]]
    assert times == sorted(times, reverse=True)
    newest = by_key["Events"][0]
    assert newest["ReadOnly"] == "true" and newest["Username"] == ACCESS_KEY
    assert newest["AccessKeyId"] == ACCESS_KEY and newest["EventSource"] == "kms.amazonaws.com"

    first = cloudtrail.lookup_events(MaxResults=2, LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"}])
    second = cloudtrail.lookup_events(MaxResults=2, NextToken=first["NextToken"], LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"}])
    third = cloudtrail.lookup_events(MaxResults=2, NextToken=second["NextToken"], LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"}])
    paged = [e["EventId"] for page in (first, second, third) for e in page["Events"]]
    assert paged == [e["EventId"] for e in by_key["Events"]] and "NextToken" not in third

    event_id = by_key["Events"][2]["EventId"]
    (one,) = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}])["Events"]
    assert one["EventId"] == event_id and one["EventName"] == "Encrypt"

    mutations = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
    assert {e["EventName"] for e in mutations["Events"]} >= {"CreateKey"}
    assert all(e["ReadOnly"] == "false" for e in mutations["Events"])
    mine = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": ACCESS_KEY}])
    assert mine["Events"] and all(e["Username"] == ACCESS_KEY for e in mine["Events"])
    assert not cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "nobody"}])["Events"]

    now = datetime.now(timezone.utc)
    window = cloudtrail.lookup_events(StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1),
                                      LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_id}])
    assert len(window["Events"]) == 5
    future = cloudtrail.lookup_events(StartTime=now + timedelta(days=1), EndTime=now + timedelta(days=2))
    assert future["Events"] == []
    # Every lookup is itself an audited (read-only) CloudTrail call.
    lookups = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    assert lookups["Events"][0]["EventSource"] == "cloudtrail.amazonaws.com"


def test_lookup_events_answers_cloudtrail_errors(cloudtrail: Any, served: Served) -> None:
    unvalidated = served.client("cloudtrail", parameter_validation=False)
    cases = [
        (dict(NextToken="not-a-token"), "InvalidNextTokenException"),
        (dict(MaxResults=51), "InvalidMaxResultsException"),
        (dict(StartTime=datetime(2026, 2, 1), EndTime=datetime(2026, 1, 1)), "InvalidTimeRangeException"),
        (dict(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Encrypt"}] * 2),
         "InvalidLookupAttributesException"),
        (dict(EventCategory="bogus"), "InvalidEventCategoryException"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as e:
            unvalidated.lookup_events(**kwargs)
        assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400)
    with pytest.raises(ClientError) as e:
        cloudtrail.describe_trails()
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"


def test_aws_cli_lookup_events(served: Served, kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY="secret", AWS_DEFAULT_REGION=REGION)
    done = subprocess.run(
        ["aws", "cloudtrail", "lookup-events", "--endpoint-url", served.url, "--lookup-attributes",
         f"AttributeKey=ResourceName,AttributeValue={key_id}", "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (event,) = json.loads(done.stdout)["Events"]
    assert event["EventName"] == "CreateKey"
    assert json.loads(event["CloudTrailEvent"])["responseElements"]["keyMetadata"]["keyId"] == key_id


def test_get_key_last_usage_reports_the_newest_successful_use(kms: Any) -> None:
    source = kms.create_key()["KeyMetadata"]
    target = kms.create_key()["KeyMetadata"]
    fresh = kms.get_key_last_usage(KeyId=source["KeyId"])
    assert fresh["KeyLastUsage"] == {} and fresh["KeyId"] == source["Arn"]
    assert fresh["KeyCreationDate"] == source["CreationDate"] and fresh["TrackingStartDate"] <= source["CreationDate"] + timedelta(seconds=1)

    blob = kms.encrypt(KeyId=source["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError):  # a failed use does not count
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"wrong": "context"})
    usage = kms.get_key_last_usage(KeyId=source["Arn"])["KeyLastUsage"]
    assert usage["Operation"] == "Encrypt" and usage["KmsRequestId"]

    response = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=target["KeyId"])
    for key in (source, target):
        usage = kms.get_key_last_usage(KeyId=key["KeyId"])["KeyLastUsage"]
        assert usage["Operation"] == "ReEncrypt"
        assert usage["KmsRequestId"] == response["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as e:
        kms.get_key_last_usage(KeyId=str(uuid.uuid4()))
    assert e.value.response["Error"]["Code"] == "NotFoundException"


def _chain_items(served: Served, chain: str) -> list[dict[str, Any]]:
    """The chain's records (see `all_records`), by position."""
    return sorted((i for i in all_records(served) if i["chain"]["S"] == chain), key=lambda i: int(i["seq"]["N"]))


def _chain_blocks(served: Served, chain: str) -> list[dict[str, Any]]:
    return sorted((i for i in all_items(served) if i["chain"]["S"] == chain), key=lambda i: int(i["seq"]["N"]))


def _put(served: Served, item: dict[str, Any], seq: int | None = None) -> None:
    """Store one record (an `all_records` item) as a block of one at `seq` (default: its own)."""
    if seq is not None:
        item = dict(item, seq={"N": str(seq)})
    row = [item["at"]["S"], item["prev"]["S"], item["hash"]["S"], item["event"]["S"]]
    block = {k: v for k, v in item.items() if k in ("chain", "seq", "day", "at", "key", "key2", "used")}
    served.store().put_item(TableName="kms-audit-events", Item=dict(block, records={"S": json.dumps([row])}))


def _delete(served: Served, chain: str, seq: int) -> None:
    served.store().delete_item(TableName="kms-audit-events", Key={"chain": {"S": chain}, "seq": {"N": str(seq)}})


@contextlib.contextmanager
def _sealed_chain(served: Served, kms: Any, calls: int = 5,
                  unpacked: bool = True) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Fresh records, sealed into a digest; the chain's blocks are restored afterwards.

    With `unpacked` the chain's blocks are first re-stored as blocks of one record each (the
    layout direct writes give in AWS, and sound), so a test can tamper with records one by one.
    """
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(calls - 1):
        kms.describe_key(KeyId=key_id)
    status, report = served.verify("--seal")
    assert status == 0 and report["ok"], report
    items = [i for i in all_records(served) if key_id in i["event"]["S"]]
    chain = items[0]["chain"]["S"]
    blocks = _chain_blocks(served, chain)
    original = _chain_items(served, chain)
    if unpacked:
        for block in blocks:
            _delete(served, chain, int(block["seq"]["N"]))
        for item in original:
            _put(served, item)
        status, report = served.verify()
        assert status == 0 and report["ok"], report
    try:
        yield chain, original
    finally:
        for block in _chain_blocks(served, chain):
            _delete(served, chain, int(block["seq"]["N"]))
        for block in blocks:
            served.store().put_item(TableName="kms-audit-events", Item=block)
        assert served.verify()[0] == 0


def _finding(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["kind"] == kind]


def test_verifier_names_a_modified_record(served: Served, kms: Any) -> None:
    with _sealed_chain(served, kms) as (chain, items):
        victim = items[-2]
        event = json.loads(victim["event"]["S"])
        event["sourceIPAddress"] = "203.0.113.66"
        _put(served, dict(victim, event={"S": json.dumps(event, sort_keys=True, separators=(",", ":"))}))
        status, report = served.verify()
        assert status == 1
        assert [(f["kind"], f["event_id"]) for f in report["findings"]] == [("modified", event["eventID"])]


def test_verifier_names_a_record_modified_inside_its_block(served: Served, kms: Any) -> None:
    with _sealed_chain(served, kms, unpacked=False) as (chain, items):
        block = next(b for b in _chain_blocks(served, chain) if len(json.loads(b["records"]["S"])) > 1)
        rows = json.loads(block["records"]["S"])
        event = json.loads(rows[1][3])
        event["sourceIPAddress"] = "203.0.113.66"
        rows[1][3] = json.dumps(event, sort_keys=True, separators=(",", ":"))
        served.store().put_item(TableName="kms-audit-events", Item=dict(block, records={"S": json.dumps(rows)}))
        status, report = served.verify()
        assert status == 1
        assert [(f["kind"], f["seq"], f["event_id"]) for f in report["findings"]] == [
            ("modified", int(block["seq"]["N"]) + 1, event["eventID"])]


def test_verifier_names_a_deleted_record(served: Served, kms: Any) -> None:
    with _sealed_chain(served, kms) as (chain, items):
        victim = items[-3]
        _delete(served, chain, int(victim["seq"]["N"]))
        status, report = served.verify()
        assert status == 1
        assert [(f["kind"], f["seq"]) for f in report["findings"]] == [("deleted", int(victim["seq"]["N"]))]
        assert report["findings"][0]["event_id"] == json.loads(victim["event"]["S"])["eventID"]


def test_verifier_names_an_inserted_record(served: Served, kms: Any) -> None:
    with _sealed_chain(served, kms) as (chain, items):
        # Make room at position k by moving the records after it up by one, then forge one there
        # that links to its predecessor, as an attacker without the HSM could.
        k = int(items[-2]["seq"]["N"])
        for item in reversed(items[-2:]):
            seq = int(item["seq"]["N"])
            _delete(served, chain, seq)
            _put(served, item, seq + 1)
        forged = json.loads(items[-2]["event"]["S"])
        forged["eventName"] = "ScheduleKeyDeletion"
        text = json.dumps(forged, sort_keys=True, separators=(",", ":"))
        prev = items[-3]["hash"]["S"]
        _put(served, dict(items[-2], event={"S": text}, name={"S": "ScheduleKeyDeletion"},
                          prev={"S": prev}, hash={"S": hashlib.sha256(prev.encode() + b"\n" + text.encode()).hexdigest()}),
             k)
        status, report = served.verify()
        assert status == 1
        assert [(f["kind"], f["seq"]) for f in report["findings"]] == [("inserted", k)]


def test_verifier_names_reordered_records(served: Served, kms: Any) -> None:
    with _sealed_chain(served, kms) as (chain, items):
        a, b = items[-3], items[-2]
        _put(served, b, int(a["seq"]["N"]))
        _put(served, a, int(b["seq"]["N"]))
        status, report = served.verify()
        assert status == 1
        assert sorted((f["kind"], f["seq"]) for f in report["findings"]) == [
            ("reordered", int(a["seq"]["N"])), ("reordered", int(b["seq"]["N"]))]


def test_verifier_names_a_forged_digest(served: Served, kms: Any) -> None:
    with _sealed_chain(served, kms):
        store = served.store()
        digests = store.query(TableName="kms-audit-digests", KeyConditionExpression="trail = :t",
                              ExpressionAttributeValues={":t": {"S": "digest"}}, ScanIndexForward=False)["Items"]
        newest = digests[0]
        body = json.loads(newest["body"]["S"])
        body["chains"] = {}
        try:
            store.put_item(TableName="kms-audit-digests", Item=dict(newest, body={"S": json.dumps(body)}))
            status, report = served.verify()
            assert status == 1
            assert ("signature", int(newest["seq"]["N"])) in [(f["kind"], f.get("digest")) for f in report["findings"]]
        finally:
            store.put_item(TableName="kms-audit-digests", Item=newest)


def assert_retryable_failure(kms: Any, key_id: str) -> None:
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    error = e.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Error"]["Code"] in ("DependencyTimeoutException", "KMSInternalException")
    assert "CiphertextBlob" not in error


def test_unwritable_spool_fails_the_call_with_a_retryable_error(served: Served, kms: Any, cloudtrail: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    spool = served.data_dir / "audit-spool"
    moved = served.data_dir / "audit-spool.moved"
    spool.rename(moved)
    spool.write_text("in the way")  # no new segment can be created
    for segment in moved.glob("*.spool"):
        # Take the open segment away from its writer, keeping its records under the same name.
        content = segment.read_bytes()
        segment.unlink()
        segment.write_bytes(content)
    try:
        assert_retryable_failure(kms, key_id)
    finally:
        spool.unlink()
        moved.rename(spool)
    kms.encrypt(KeyId=key_id, Plaintext=b"x")  # a new chain, and calls succeed again
    names = [e["EventName"] for e in cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key_id}])["Events"]]
    assert names == ["Encrypt", "CreateKey"]  # the failed call left no record: it was not answered
    assert served.verify()[0] == 0


def test_unwritable_store_fails_the_call_when_records_go_straight_to_it(tmp_path: Path) -> None:
    """Without the spool (the AWS shape: one conditional PutItem per record)."""
    with _serve(tmp_path, KMS_AUDIT_SPOOL_DIR="") as served:
        kms = served.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        assert not (served.data_dir / "audit-spool").exists()
        served.store().delete_table(TableName="kms-audit-events")
        assert_retryable_failure(kms, key_id)


def test_the_local_server_seals_digests_by_itself(tmp_path: Path) -> None:
    with _serve(tmp_path, KMS_AUDIT_SEAL_SECONDS="1") as served:
        kms = served.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.describe_key(KeyId=key_id)
        deadline = time.monotonic() + 20
        while True:
            status, report = served.verify()
            if report["sealed_records"] >= 2:
                break
            assert time.monotonic() < deadline, report
            time.sleep(0.5)
        assert status == 0 and report["digests"] >= 1
