"""CloudTrail's LookupEvents on the KMS endpoint (JSON 1.1, the same POST /), over our own trail.

`aws cloudtrail lookup-events --endpoint-url URL` and boto3's cloudtrail client work unchanged.
Requests are checked against botocore's cloudtrail model by the same validation and rendering
code as the KMS dialect. Only LookupEvents is served; every other CloudTrail action is unknown.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from chalicelib import runtime
from chalicelib.api.render import render_response
from chalicelib.api.shapes import operation
from chalicelib.api.validation import parse_request
from chalicelib.audit import flush
from chalicelib.audit.chain import dumps
from chalicelib.audit.lookup import HISTORY, PAGE, BadToken, Query, lookup
from chalicelib.errors import (
    ClientError,
    KMSInternalException,
    KmsError,
    SerializationException,
    UnknownOperationException,
)

log = logging.getLogger(__name__)

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
SERVICE = "cloudtrail"


class InvalidLookupAttributesException(ClientError):
    code = "InvalidLookupAttributesException"


class InvalidTimeRangeException(ClientError):
    code = "InvalidTimeRangeException"


class InvalidMaxResultsException(ClientError):
    code = "InvalidMaxResultsException"


class InvalidNextTokenException(ClientError):
    code = "InvalidNextTokenException"


class InvalidEventCategoryException(ClientError):
    code = "InvalidEventCategoryException"


def dispatch(target: str, body: object) -> dict[str, Any]:
    """Answer a CloudTrail X-Amz-Target on a parsed JSON body; raises KmsError subclasses."""
    name = target[len(TARGET_PREFIX):]
    model = operation(name, SERVICE) if name == "LookupEvents" else None
    if model is None:
        raise UnknownOperationException("")
    if isinstance(body, dict) and isinstance(body.get("MaxResults"), int) and not 1 <= body["MaxResults"] <= 50:
        # Checked before the model's min/max so the error is CloudTrail's own.
        raise InvalidMaxResultsException("MaxResults must be between 1 and 50.")
    if isinstance(body, dict) and body.get("EventCategory") not in (None, "insight"):
        raise InvalidEventCategoryException(f"Invalid event category: {body['EventCategory']}")
    kwargs = parse_request(model.input_shape, body)
    try:
        result = lookup_events(**kwargs)
    except KmsError:
        raise
    except Exception:
        log.exception("unhandled error in LookupEvents")
        raise KMSInternalException("An internal error occurred; retry the request.") from None
    return render_response(model.output_shape, result)


def lookup_events(
    *,
    lookup_attributes: list[dict[str, str]] | None = None,
    start_time: float | None = None,
    end_time: float | None = None,
    event_category: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    now = runtime.now()
    end = _time(end_time) if end_time is not None else now
    start = _time(start_time) if start_time is not None else min(end, now) - HISTORY
    if start > end:
        raise InvalidTimeRangeException("Start time must not be after end time.")
    attributes = lookup_attributes or []
    if len(attributes) > 1:
        raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute.")
    attribute = attributes[0] if attributes else {}
    if event_category == "insight":
        return {"events": []}  # this trail holds no Insights events
    query = Query(start, end, attribute.get("attribute_key"), attribute.get("attribute_value"),
                  asked=f"{start_time}|{end_time}")
    flush()
    try:
        events, token = lookup(runtime.audit_repository(), query, max_results or PAGE, next_token)
    except BadToken:
        raise InvalidNextTokenException("Invalid NextToken.") from None
    return {"events": [_summary(e) for e in events], "next_token": token}


def _summary(event: dict[str, Any]) -> dict[str, Any]:
    identity = event.get("userIdentity") or {}
    return {
        "event_id": event["eventID"],
        "event_name": event["eventName"],
        "read_only": "true" if event.get("readOnly") else "false",
        "access_key_id": identity.get("accessKeyId"),
        "event_time": datetime.strptime(event["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc),
        "event_source": event["eventSource"],
        "username": identity.get("userName") or identity.get("accessKeyId"),
        "resources": [{"resource_type": r.get("type"), "resource_name": r.get("ARN")}
                      for r in event.get("resources") or []],
        "cloud_trail_event": dumps(event),
    }


def _time(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise SerializationException("Timestamp out of range.") from None

