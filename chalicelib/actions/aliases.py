"""CreateAlias, UpdateAlias, DeleteAlias, ListAliases."""

from __future__ import annotations

from typing import Any

from chalicelib.actions.call import Call
from chalicelib.domain.alias import check_alias_name
from chalicelib.domain.key import Key


def create_alias(ctx: Call, *, alias_name: str, target_key_id: str) -> dict[str, Any]:
    check_alias_name(alias_name)
    key = _target(ctx, target_key_id)
    ctx.aliases.create(alias_name, key.key_id, ctx.now)
    return {}


def update_alias(ctx: Call, *, alias_name: str, target_key_id: str) -> dict[str, Any]:
    check_alias_name(alias_name)
    ctx.aliases.get(alias_name)
    key = _target(ctx, target_key_id)
    ctx.aliases.retarget(alias_name, key.key_id, ctx.now)
    return {}


def delete_alias(ctx: Call, *, alias_name: str) -> dict[str, Any]:
    check_alias_name(alias_name)
    ctx.aliases.delete(alias_name)
    return {}


def list_aliases(
    ctx: Call, *, key_id: str | None = None, limit: int = 50, marker: str | None = None
) -> dict[str, Any]:
    target = ctx.keys.get(ctx.key_id(key_id)).key_id if key_id is not None else None
    aliases, next_marker = ctx.aliases.page(target, limit, marker)
    return {
        "aliases": [
            {
                "alias_name": a.name,
                "alias_arn": ctx.scope.alias_arn(a.name),
                "target_key_id": a.target_key_id,
                "creation_date": a.created,
                "last_updated_date": a.updated,
            }
            for a in aliases
        ],
        "next_marker": next_marker,
        "truncated": next_marker is not None,
    }


def _target(ctx: Call, target_key_id: str) -> Key:
    """An alias target is named by key id or key ARN and must not be pending deletion."""
    key = ctx.keys.get(ctx.key_id(target_key_id))
    key.require_not_pending_deletion()
    return key
