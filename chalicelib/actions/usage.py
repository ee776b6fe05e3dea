"""GetKeyLastUsage, answered from the audit trail."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from chalicelib import runtime
from chalicelib.actions.call import Call
from chalicelib.audit import flush
from chalicelib.audit.lookup import last_usage


def get_key_last_usage(ctx: Call, *, key_id: str) -> dict[str, Any]:
    """The key's newest successful cryptographic use on record, and since when uses are recorded."""
    key = ctx.keys.get(ctx.key_id(key_id))  # key id or key ARN; AWS takes no alias here
    flush()
    repo = runtime.audit_repository()
    started = repo.trail_start()
    # AWS: "the date KMS began recording cryptographic activity for this key, or the date the
    # KMS key was created, whichever is later".
    tracking = max(started, key.created) if started is not None else key.created
    event = last_usage(repo, key.key_id)
    usage: dict[str, Any] = {}
    if event is not None:
        usage = {
            "operation": event["eventName"],
            "timestamp": datetime.strptime(event["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc),
            "cloud_trail_event_id": event["eventID"],
            "kms_request_id": event["requestID"],
        }
    return {
        "key_id": key.arn,
        "key_last_usage": usage,
        "tracking_start_date": tracking,
        "key_creation_date": key.created,
    }
