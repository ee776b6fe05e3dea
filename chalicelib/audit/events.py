"""CloudTrail-shaped KMS events (eventVersion 1.08) built from one call or one job event.

What enters an event has passed `redact`: requestParameters and responseElements never hold a
blob or a sensitive member (plaintext, ciphertext, data keys, key material, secrets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.model import OperationModel

from chalicelib.audit.redact import redact
from chalicelib.domain.ids import Scope, parse_key_ref
from chalicelib.errors import KmsError

EVENT_VERSION = "1.08"
KMS_SOURCE = "kms.amazonaws.com"
CLOUDTRAIL_SOURCE = "cloudtrail.amazonaws.com"
API_CALL = "AwsApiCall"
SERVICE_EVENT = "AwsServiceEvent"
KEY_TYPE = "AWS::KMS::Key"

#: CloudTrail marks KMS's cryptographic operations read-only, like Describe/List/Get.
_READ_ONLY = {
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "Sign",
    "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret", "LookupEvents",
}
_READ_PREFIXES = ("Describe", "List", "Get")
#: Request members that name a key; aliases among them resolve through the response instead.
_KEY_MEMBERS = ("SourceKeyId", "KeyId", "DestinationKeyId", "TargetKeyId")
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]{16,128})/")


@dataclass(frozen=True)
class Caller:
    """Who called, as far as the service knows (SigV4 verification will fill in the principal)."""

    source_ip: str
    user_agent: str
    access_key_id: str | None = None
    user_name: str | None = None
    principal_arn: str | None = None
    identity_type: str = "Unknown"

    @property
    def username(self) -> str | None:
        """What LookupEvents calls the Username: the user name if known, else the access key."""
        return self.user_name or self.access_key_id

    def identity(self, account_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.identity_type, "accountId": account_id}
        if self.principal_arn:
            out["arn"] = self.principal_arn
        if self.user_name:
            out["userName"] = self.user_name
        if self.access_key_id:
            out["accessKeyId"] = self.access_key_id
        return out


def caller_from(headers: Any, source_ip: str | None) -> Caller:
    """The caller of an HTTP request: address, user agent, and the access key its signature names."""
    auth = _get(headers, "authorization") or ""
    match = _CREDENTIAL.search(auth)
    return Caller(
        source_ip=source_ip or "127.0.0.1",
        user_agent=(_get(headers, "user-agent") or "")[:1024],
        access_key_id=match.group(1) if match else None,
    )


def read_only(name: str) -> bool:
    return name in _READ_ONLY or name.startswith(_READ_PREFIXES)


def event_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def api_call_event(
    *,
    event_id: str,
    name: str,
    source: str,
    when: datetime,
    scope: Scope,
    caller: Caller,
    request_id: str,
    operation: OperationModel | None,
    request: Any,
    response: dict[str, Any] | None,
    error: KmsError | None,
) -> dict[str, Any]:
    """One AwsApiCall event; `request` is the raw JSON body, `response` the rendered success body."""
    ro = read_only(name)
    params = redact(operation.input_shape, request) if operation is not None else None
    elements = None
    if response is not None and not ro and operation is not None:
        # CloudTrail leaves responseElements null for read-only calls; mutations show the ids.
        elements = redact(operation.output_shape, response) or None
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": caller.identity(scope.account_id),
        "eventTime": event_time(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": scope.region,
        "sourceIPAddress": caller.source_ip,
        "userAgent": caller.user_agent,
        "requestParameters": params or None,
        "responseElements": elements,
        "requestID": request_id,
        "eventID": event_id,
        "readOnly": ro,
        "resources": [
            {"accountId": scope.account_id, "type": KEY_TYPE, "ARN": arn}
            for arn in key_arns(scope, request, response)
        ],
        "eventType": API_CALL,
        "managementEvent": True,
        "recipientAccountId": scope.account_id,
        "eventCategory": "Management",
    }
    if error is not None:
        event["errorCode"] = error.code
        event["errorMessage"] = error.message
    return event


def service_event(
    *, event_id: str, name: str, when: datetime, scope: Scope, request_id: str, key_arn: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    """One AwsServiceEvent (scheduled rotation, deletion), shaped like AWS KMS's own."""
    return {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"accountId": scope.account_id, "invokedBy": KMS_SOURCE},
        "eventTime": event_time(when),
        "eventSource": KMS_SOURCE,
        "eventName": name,
        "awsRegion": scope.region,
        "sourceIPAddress": KMS_SOURCE,
        "userAgent": KMS_SOURCE,
        "requestParameters": None,
        "responseElements": None,
        "requestID": request_id,
        "eventID": event_id,
        "readOnly": False,
        "resources": [{"accountId": scope.account_id, "type": KEY_TYPE, "ARN": key_arn}],
        "eventType": SERVICE_EVENT,
        "managementEvent": True,
        "recipientAccountId": scope.account_id,
        "serviceEventDetails": plain(details),
        "eventCategory": "Management",
    }


def plain(value: Any) -> Any:
    """JSON scalars and containers only: bytes (possible key material) are dropped, not encoded."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not isinstance(v, (bytes, bytearray, memoryview))}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value if not isinstance(v, (bytes, bytearray, memoryview))]
    if isinstance(value, datetime):
        return event_time(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def key_arns(scope: Scope, request: Any, response: dict[str, Any] | None) -> list[str]:
    """ARNs of the keys a call named or used: the response's resolved ids first, then the request's."""
    found: list[str] = []
    if isinstance(response, dict):
        for member in ("SourceKeyId", "KeyId"):
            value = response.get(member)
            if isinstance(value, str) and value.startswith("arn:"):
                found.append(value)
        metadata = response.get("KeyMetadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("Arn"), str):
            found.append(metadata["Arn"])
    if isinstance(request, dict):
        for member in _KEY_MEMBERS:
            value = request.get(member)
            if not isinstance(value, str):
                continue
            try:
                ref = parse_key_ref(value, scope)
            except KmsError:
                continue
            if ref.key_id is not None:
                found.append(scope.key_arn(ref.key_id))
    return list(dict.fromkeys(found))


def _get(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return str(value) if value is not None else None
