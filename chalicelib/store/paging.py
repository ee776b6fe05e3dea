"""Opaque paging markers over DynamoDB's LastEvaluatedKey."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from chalicelib.errors import InvalidMarkerException

T = TypeVar("T")
LastKey = dict[str, dict[str, Any]]


def encode_marker(last_key: LastKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_marker(marker: str | None) -> LastKey | None:
    """The start key a marker stands for; anything we did not issue is InvalidMarkerException."""
    if marker is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(marker.encode()))
        if isinstance(value, dict) and all(
            isinstance(v, dict) and len(v) == 1 and set(v) <= {"S", "N"} for v in value.values()
        ):
            return value
    except ValueError:
        pass
    raise InvalidMarkerException("Invalid marker value.")


def read_page(
    fetch: Callable[[LastKey | None, int], Iterable[T]],
    key_of: Callable[[T], LastKey],
    limit: int,
    marker: str | None,
) -> tuple[list[T], str | None]:
    """Read one more than `limit` so Truncated is exact, not a guess from LastEvaluatedKey."""
    items = list(fetch(decode_marker(marker), limit + 1))
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, encode_marker(key_of(items[-1]))
