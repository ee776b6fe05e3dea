"""CreateKey, DescribeKey, ListKeys, UpdateKeyDescription."""

from __future__ import annotations

from typing import Any

from chalicelib.actions.call import Call
from chalicelib.actions.rotation import new_version
from chalicelib.actions.tags import tag_map
from chalicelib.domain.ids import new_key_id
from chalicelib.domain.key import Key, KeySpec, KeyState, KeyUsage, Origin
from chalicelib.errors import UnsupportedOperationException, ValidationException


def create_key(
    ctx: Call,
    *,
    description: str = "",
    key_usage: str | None = None,
    key_spec: str | None = None,
    customer_master_key_spec: str | None = None,
    origin: str = "AWS_KMS",
    tags: list[dict[str, str]] | None = None,
    multi_region: bool = False,
    custom_key_store_id: str | None = None,
    xks_key_id: str | None = None,
    policy: str | None = None,
    bypass_policy_lockout_safety_check: bool = False,
) -> dict[str, Any]:
    if key_spec and customer_master_key_spec:
        raise ValidationException(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
            "CustomerMasterKeySpec parameter is deprecated. Use KeySpec."
        )
    spec_name = key_spec or customer_master_key_spec or "SYMMETRIC_DEFAULT"
    if spec_name != KeySpec.SYMMETRIC_DEFAULT.value:
        raise UnsupportedOperationException(f"{spec_name} is not supported by this service yet.")
    if key_usage not in (None, KeyUsage.ENCRYPT_DECRYPT.value):
        raise ValidationException(
            f"The operation failed because the KeyUsage value of the CMK is {key_usage}. "
            f"To perform this operation, the KeyUsage value must be ENCRYPT_DECRYPT."
        )
    if origin != Origin.AWS_KMS.value:
        raise UnsupportedOperationException(f"Origin {origin} is not supported by this service yet.")
    if custom_key_store_id or xks_key_id:
        raise UnsupportedOperationException("Custom key stores are not supported by this service.")
    if multi_region:
        raise UnsupportedOperationException("Multi-Region keys are not supported by this service.")
    # Key policies arrive with the access-control work; until then the default policy applies.
    key_id = new_key_id()
    key = Key(
        key_id=key_id,
        arn=ctx.scope.key_arn(key_id),
        account_id=ctx.scope.account_id,
        created=ctx.now,
        state=KeyState.ENABLED,
        description=description,
        spec=KeySpec.SYMMETRIC_DEFAULT,
        usage=KeyUsage.ENCRYPT_DECRYPT,
        origin=Origin.AWS_KMS,
        versions=(new_version(ctx.hsm, 1, ctx.now, rotation_type=None),),
        tags=tag_map(tags or []),
    )
    return {"key_metadata": key_metadata(ctx.keys.create(key))}


def describe_key(ctx: Call, *, key_id: str, grant_tokens: list[str] | None = None) -> dict[str, Any]:
    return {"key_metadata": key_metadata(ctx.key(key_id))}


def list_keys(ctx: Call, *, limit: int = 100, marker: str | None = None) -> dict[str, Any]:
    ids, next_marker = ctx.keys.page(limit, marker)
    return {
        "keys": [{"key_id": i, "key_arn": ctx.scope.key_arn(i)} for i in ids],
        "next_marker": next_marker,
        "truncated": next_marker is not None,
    }


def update_key_description(ctx: Call, *, key_id: str, description: str) -> dict[str, Any]:
    ctx.keys.update(ctx.key_id(key_id), lambda key: key.describe(description))
    return {}


def key_metadata(key: Key) -> dict[str, Any]:
    """KeyMetadata as AWS fills it for a customer managed key."""
    return {
        "aws_account_id": key.account_id,
        "key_id": key.key_id,
        "arn": key.arn,
        "creation_date": key.created,
        "enabled": key.state is KeyState.ENABLED,
        "description": key.description,
        "key_usage": key.usage,
        "key_state": key.state,
        "deletion_date": key.deletion_date,
        "origin": key.origin,
        "key_manager": "CUSTOMER",
        "customer_master_key_spec": key.spec,
        "key_spec": key.spec,
        "encryption_algorithms": list(key.spec.encryption_algorithms),
        "multi_region": False,
        "current_key_material_id": key.current_version.material_id,
    }
