"""TagResource, UntagResource, ListResourceTags."""

from __future__ import annotations

from typing import Any

from chalicelib.actions.call import Call
from chalicelib.domain.key import Key
from chalicelib.errors import InvalidMarkerException, LimitExceededException, TagException

#: AWS KMS quota: tags per key.
MAX_TAGS = 50


def tag_map(tags: list[dict[str, str]]) -> dict[str, str]:
    """Wire Tags list to a dict, refusing the reserved aws: prefix as AWS does."""
    result: dict[str, str] = {}
    for tag in tags:
        if tag["tag_key"].lower().startswith("aws:"):
            raise TagException("Tags beginning with aws: are reserved and cannot be set by users.")
        result[tag["tag_key"]] = tag["tag_value"]
    if len(result) > MAX_TAGS:
        raise LimitExceededException(f"A key can have at most {MAX_TAGS} tags.")
    return result


def tag_resource(ctx: Call, *, key_id: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    new = tag_map(tags)

    def change(key: Key) -> Key:
        merged = {**key.tags, **new}
        if len(merged) > MAX_TAGS:
            raise LimitExceededException(f"A key can have at most {MAX_TAGS} tags.")
        return key.with_tags(merged)

    ctx.keys.update(ctx.key_id(key_id), change)
    return {}


def untag_resource(ctx: Call, *, key_id: str, tag_keys: list[str]) -> dict[str, Any]:
    def change(key: Key) -> Key:
        return key.with_tags({k: v for k, v in key.tags.items() if k not in tag_keys})

    ctx.keys.update(ctx.key_id(key_id), change)
    return {}


def list_resource_tags(
    ctx: Call, *, key_id: str, limit: int = 50, marker: str | None = None
) -> dict[str, Any]:
    key = ctx.keys.get(ctx.key_id(key_id))
    names = sorted(key.tags)
    start = _tag_marker_index(names, marker)
    chunk = names[start : start + limit]
    more = start + limit < len(names)
    return {
        "tags": [{"tag_key": n, "tag_value": key.tags[n]} for n in chunk],
        "next_marker": chunk[-1] if more else None,
        "truncated": more,
    }


def _tag_marker_index(names: list[str], marker: str | None) -> int:
    """Tags live on the key item (≤ 50), so a marker is the last tag key a page returned."""
    if marker is None:
        return 0
    if marker not in names:
        raise InvalidMarkerException("Invalid marker value.")
    return names.index(marker) + 1
