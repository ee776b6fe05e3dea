"""EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion."""

from __future__ import annotations

from typing import Any

from chalicelib.actions.call import Call
from chalicelib.domain.key import Key
from chalicelib.errors import ValidationException

MIN_PENDING_DAYS, MAX_PENDING_DAYS, DEFAULT_PENDING_DAYS = 7, 30, 30


def enable_key(ctx: Call, *, key_id: str) -> dict[str, Any]:
    ctx.keys.update(ctx.key_id(key_id), Key.enable)
    return {}


def disable_key(ctx: Call, *, key_id: str) -> dict[str, Any]:
    ctx.keys.update(ctx.key_id(key_id), Key.disable)
    return {}


def schedule_key_deletion(
    ctx: Call, *, key_id: str, pending_window_in_days: int = DEFAULT_PENDING_DAYS
) -> dict[str, Any]:
    # The wire model allows 1-365 (for multi-Region replicas); customer keys take 7-30.
    if not MIN_PENDING_DAYS <= pending_window_in_days <= MAX_PENDING_DAYS:
        raise ValidationException(
            f"PendingWindowInDays value must be between {MIN_PENDING_DAYS} and {MAX_PENDING_DAYS}."
        )
    key = ctx.keys.update(
        ctx.key_id(key_id),
        lambda k: k.schedule_deletion(now=ctx.now, days=pending_window_in_days),
    )
    return {
        "key_id": key.arn,
        "deletion_date": key.deletion_date,
        "key_state": key.state,
        "pending_window_in_days": pending_window_in_days,
    }


def cancel_key_deletion(ctx: Call, *, key_id: str) -> dict[str, Any]:
    key = ctx.keys.update(ctx.key_id(key_id), Key.cancel_deletion)
    return {"key_id": key.arn}
