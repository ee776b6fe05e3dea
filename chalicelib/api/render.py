"""Turn a handler's Python result into the JSON body its botocore output shape describes."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import Enum
from typing import Any

from botocore.model import Shape, StructureShape

from chalicelib.api.shapes import snake


def render_response(shape: StructureShape | None, result: dict[str, Any]) -> dict[str, Any]:
    """Members are looked up by their snake_case names; None and absent members are omitted."""
    if shape is None:
        return {}
    return _structure(shape, result)


def _structure(shape: StructureShape, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        item = value.get(snake(name))
        if item is not None:
            out[name] = _value(member, item)
    return out


def _value(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure(shape, value)
    if kind == "list":
        return [_value(shape.member, v) for v in value]
    if kind == "map":
        return {k: _value(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp":
        # AWS JSON 1.1 timestamps are epoch seconds.
        return value.timestamp() if isinstance(value, datetime) else value
    if isinstance(value, Enum):
        return value.value
    return value
