"""The audit trail: every API call and every job event becomes one CloudTrail-shaped record.

`record_call` is called once per request by the wire layer, for successes and failures alike;
`emit_service_event` by the scheduled jobs. Both return only once the record is durable and
raise a retryable KmsError (DependencyTimeoutException) when it cannot be: the audit fails
closed. See docs/audit.md.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import KMSInternalException, KmsError

log = logging.getLogger(__name__)

KMS_TARGET_PREFIX = "TrentService."
CLOUDTRAIL_TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."


def record_call(
    request: Any,
    target: str,
    raw_body: bytes,
    when: datetime,
    request_id: str,
    response: dict[str, Any] | None,
    error: KmsError | None,
) -> None:
    """Audit one JSON 1.1 call: `response` is the success body, `error` the failure (one of them)."""
    from chalicelib import runtime
    from chalicelib.api.shapes import operation
    from chalicelib.audit.events import CLOUDTRAIL_SOURCE, KMS_SOURCE, api_call_event, caller_from

    if not settings().audit:
        return
    if target.startswith(CLOUDTRAIL_TARGET_PREFIX):
        name, source, service = target[len(CLOUDTRAIL_TARGET_PREFIX):], CLOUDTRAIL_SOURCE, "cloudtrail"
    else:
        name = target[len(KMS_TARGET_PREFIX):] if target.startswith(KMS_TARGET_PREFIX) else target
        source, service = KMS_SOURCE, "kms"
    # A made-up target is recorded as sent, but no longer than an operation name may be.
    name = name[:128] or "Unknown"
    model = operation(name, service) if name.isidentifier() else None
    context = getattr(request, "context", None) or {}
    caller = caller_from(getattr(request, "headers", None), (context.get("identity") or {}).get("sourceIp"))
    body = _json(raw_body)
    scope = runtime.scope()

    def build(event_id: str) -> dict[str, Any]:
        return api_call_event(
            event_id=event_id, name=name, source=source, when=when, scope=scope, caller=caller,
            request_id=request_id, operation=model, request=body, response=response, error=error,
        )

    _append(when, build)


def emit_service_event(event_name: str, key_arn: str, details: dict[str, Any]) -> None:
    """Audit one scheduled-job event (AwsServiceEvent) about one key, e.g. "RotateKey".

    `details` becomes serviceEventDetails; pass ids, states and dates only (bytes are dropped).
    Raises DependencyTimeoutException if the record could not be made durable.
    """
    from chalicelib import runtime
    from chalicelib.audit.events import service_event

    if not settings().audit:
        return
    when = runtime.now()
    scope = runtime.scope()
    request_id = str(uuid.uuid4())

    def build(event_id: str) -> dict[str, Any]:
        return service_event(event_id=event_id, name=event_name, when=when, scope=scope,
                             request_id=request_id, key_arn=key_arn, details=details)

    _append(when, build)


def flush() -> None:
    """Ship every spooled record to the table (local mode), so that readers see every answered call."""
    from chalicelib import runtime

    spool = runtime.audit_spool()
    if spool is not None:
        spool.flush()


def seal_digest() -> int | None:
    """Seal the open chains' heads into a new signed digest (the scheduled job); its number or None."""
    from chalicelib import runtime
    from chalicelib.audit.digest import seal

    flush()
    return seal(runtime.audit_repository(), runtime.backend(), runtime.now(), settings().audit_chain_seconds)


def _append(when: datetime, build: Callable[[str], dict[str, Any]]) -> None:
    from chalicelib import runtime

    try:
        runtime.audit_writer().append(when, build)
    except KmsError:
        raise
    except Exception:
        # A bug here must not answer a call unaudited, nor with a traceback: fail closed.
        log.exception("audit record failed")
        raise KMSInternalException("The audit trail could not be written; retry the request.") from None


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
