"""EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from chalicelib.actions.call import Call
from chalicelib.domain.key import Key, KeyVersion, RotationType
from chalicelib.errors import InvalidMarkerException
from chalicelib.hsm.protocol import Backend

DEFAULT_ROTATION_PERIOD_DAYS = 365


def new_version(
    hsm: Backend, number: int, now: datetime, rotation_type: RotationType | None
) -> KeyVersion:
    """Fresh key material generated in the HSM, wrapped, with an AWS-style 64-hex material id."""
    return KeyVersion(
        number=number,
        material_id=secrets.token_hex(32),
        wrapped=hsm.generate_key_material(),
        created=now,
        rotation_type=rotation_type,
    )


def enable_key_rotation(
    ctx: Call, *, key_id: str, rotation_period_in_days: int = DEFAULT_ROTATION_PERIOD_DAYS
) -> dict[str, Any]:
    ctx.keys.update(
        ctx.key_id(key_id),
        lambda key: key.enable_rotation(now=ctx.now, period_days=rotation_period_in_days),
    )
    return {}


def disable_key_rotation(ctx: Call, *, key_id: str) -> dict[str, Any]:
    ctx.keys.update(ctx.key_id(key_id), Key.disable_rotation)
    return {}


def get_key_rotation_status(ctx: Call, *, key_id: str) -> dict[str, Any]:
    key = ctx.keys.get(ctx.key_id(key_id))
    key.require_not_pending_deletion()
    # Rotations complete within the call, so no on-demand rotation is ever in progress.
    return {
        "key_rotation_enabled": key.rotation_period_days is not None,
        "key_id": key.arn,
        "rotation_period_in_days": key.rotation_period_days,
        "next_rotation_date": key.next_rotation,
    }


def rotate_key_on_demand(ctx: Call, *, key_id: str) -> dict[str, Any]:
    def rotate(key: Key) -> Key:
        version = new_version(ctx.hsm, key.current_version.number + 1, ctx.now, RotationType.ON_DEMAND)
        return key.rotate(version, now=ctx.now)

    key = ctx.keys.update(ctx.key_id(key_id), rotate)
    return {"key_id": key.arn}


def list_key_rotations(
    ctx: Call,
    *,
    key_id: str,
    include_key_material: str = "ROTATIONS_ONLY",
    limit: int = 100,
    marker: str | None = None,
) -> dict[str, Any]:
    key = ctx.keys.get(ctx.key_id(key_id))
    versions = [
        v for v in key.versions if include_key_material == "ALL_KEY_MATERIAL" or v.rotation_type
    ]
    start = _start(marker, len(versions))
    page = versions[start : start + limit]
    more = start + limit < len(versions)
    return {
        "rotations": [
            {
                "key_id": key.arn,
                "key_material_id": v.material_id,
                "key_material_state": "CURRENT" if v is key.current_version else "NON_CURRENT",
                "expiration_model": "KEY_MATERIAL_DOES_NOT_EXPIRE",
                "rotation_date": v.created if v.rotation_type else None,
                "rotation_type": v.rotation_type,
            }
            for v in page
        ],
        "next_marker": str(start + limit) if more else None,
        "truncated": more,
    }


def _start(marker: str | None, size: int) -> int:
    """Versions are append-only, so a position in the list is a stable marker."""
    if marker is None:
        return 0
    if not marker.isdigit() or not 0 < int(marker) < size:
        raise InvalidMarkerException("Invalid marker value.")
    return int(marker)
