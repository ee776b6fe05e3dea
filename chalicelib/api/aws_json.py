"""AWS KMS JSON 1.1 dialect: X-Amz-Target -> handler, JSON in and out, errors rendered once."""

from __future__ import annotations

import json
from datetime import datetime
import logging
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib import audit, runtime
from chalicelib.actions import aliases, crypto, datakeys, keys, lifecycle, rotation, tags, usage
from chalicelib.actions.call import Call
from chalicelib.api import cloudtrail
from chalicelib.api.render import render_response
from chalicelib.api.shapes import operation
from chalicelib.api.validation import parse_request
from chalicelib.errors import (
    KMSInternalException,
    KmsError,
    SerializationException,
    UnknownOperationException,
)

log = logging.getLogger(__name__)

TARGET_PREFIX = "TrentService."
CONTENT_TYPE = "application/x-amz-json-1.1"

Handler = Callable[..., dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "CreateKey": keys.create_key,
    "DescribeKey": keys.describe_key,
    "ListKeys": keys.list_keys,
    "UpdateKeyDescription": keys.update_key_description,
    "EnableKey": lifecycle.enable_key,
    "DisableKey": lifecycle.disable_key,
    "ScheduleKeyDeletion": lifecycle.schedule_key_deletion,
    "CancelKeyDeletion": lifecycle.cancel_key_deletion,
    "CreateAlias": aliases.create_alias,
    "UpdateAlias": aliases.update_alias,
    "DeleteAlias": aliases.delete_alias,
    "ListAliases": aliases.list_aliases,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListResourceTags": tags.list_resource_tags,
    "Encrypt": crypto.encrypt,
    "Decrypt": crypto.decrypt,
    "ReEncrypt": crypto.re_encrypt,
    "GenerateDataKey": datakeys.generate_data_key,
    "GenerateDataKeyWithoutPlaintext": datakeys.generate_data_key_without_plaintext,
    "GenerateRandom": datakeys.generate_random,
    "EnableKeyRotation": rotation.enable_key_rotation,
    "DisableKeyRotation": rotation.disable_key_rotation,
    "GetKeyRotationStatus": rotation.get_key_rotation_status,
    "RotateKeyOnDemand": rotation.rotate_key_on_demand,
    "ListKeyRotations": rotation.list_key_rotations,
    "GetKeyLastUsage": usage.get_key_last_usage,
}


def handle(request: Request, context: Any = None) -> Response:
    """Answer one JSON 1.1 request; every failure becomes an AWS-shaped error, never a traceback."""
    # Lambda's request id is the one API Gateway and the logs know the call by.
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    target = _header(request.headers, "x-amz-target") or ""
    raw = request.raw_body or b""
    raw_body = raw.encode() if isinstance(raw, str) else raw
    when = runtime.now()
    error: KmsError | None = None
    try:
        status, body = 200, dispatch(target, raw_body, when)
    except KmsError as e:
        error = e
        status, body = e.status, {"__type": e.code, "message": e.message}
    try:
        # Every outcome is audited, and durably so before it is answered (fail closed).
        audit.record_call(request, target, raw_body, when, request_id, body if error is None else None, error)
    except KmsError as e:
        status, body = e.status, {"__type": e.code, "message": e.message}
    return _respond(status, body, request_id)


def dispatch(target: str, raw_body: bytes, now: datetime) -> dict[str, Any]:
    """Run the action an X-Amz-Target names on a raw JSON body at `now`; raises KmsError."""
    if target.startswith(cloudtrail.TARGET_PREFIX):
        return cloudtrail.dispatch(target, _json(raw_body))
    name = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
    handler = HANDLERS.get(name)
    model = operation(name) if handler else None
    if handler is None or model is None:
        raise UnknownOperationException("")
    kwargs = parse_request(model.input_shape, _json(raw_body))
    try:
        result = handler(_call(now), **kwargs)
    except KmsError:
        raise
    except Exception:
        # A bug must not become a 500 with a traceback: log it (no request data), answer retryable.
        log.exception("unhandled error in %s", name)
        raise KMSInternalException("An internal error occurred; retry the request.") from None
    return render_response(model.output_shape, result)


def _call(now: datetime) -> Call:
    # One clock reading per request: the action and its audit record share it.
    return Call(
        now=now,
        scope=runtime.scope(),
        keys=runtime.keys(),
        aliases=runtime.aliases(),
        hsm=runtime.backend(),
    )


def _json(raw: bytes) -> object:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("Unexpected character found in the request body.") from None


def _respond(status: int, body: dict[str, Any], request_id: str) -> Response:
    return Response(
        body=json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": request_id},
    )


def _header(headers: Any, name: str) -> str | None:
    # Chalice's headers are case-insensitive already; plain dicts (tests) may not be.
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return None if value is None else str(value)
