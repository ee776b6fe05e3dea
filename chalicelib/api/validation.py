"""Check a JSON request against its botocore input shape and turn it into Python values.

Type mismatches are SerializationException (the request cannot be read at all); constraint
violations are collected into one ValidationException worded as AWS words them. Blob members are
base64-decoded here; their values never appear in messages (they may be plaintext).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from botocore.model import Shape, StructureShape

from chalicelib.api.shapes import camel, snake
from chalicelib.errors import SerializationException, ValidationException


def parse_request(shape: StructureShape | None, body: object) -> dict[str, Any]:
    """Validated keyword arguments (snake_case names) for the action's handler."""
    if shape is None:
        return {}
    if not isinstance(body, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    problems: list[str] = []
    value = _structure(shape, body, "", problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(problems))
    return value


def _structure(shape: StructureShape, body: dict[str, Any], path: str, problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in shape.required_members:
        if body.get(name) is None:
            problems.append(
                f"Value null at '{path}{camel(name)}' failed to satisfy constraint: Member must not be null"
            )
    for name, member in shape.members.items():
        raw = body.get(name)
        if raw is None:
            continue
        out[snake(name)] = _value(member, raw, f"{path}{camel(name)}", problems)
    return out


def _value(shape: Shape, raw: Any, path: str, problems: list[str]) -> Any:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(raw, dict):
            raise SerializationException("Start of structure or map found where not expected.")
        assert isinstance(shape, StructureShape)
        return _structure(shape, raw, path + ".", problems)
    if kind == "list":
        if not isinstance(raw, list):
            raise SerializationException("Start of list found where not expected")
        items = [
            _value(shape.member, item, f"{path}.{i}.member", problems)
            for i, item in enumerate(raw, start=1)
        ]
        _bounds(len(raw), meta, path, _describe_list(raw), problems)
        return items
    if kind == "map":
        if not isinstance(raw, dict):
            raise SerializationException("Start of structure or map found where not expected.")
        return {
            _value(shape.key, k, path, problems): _value(shape.value, v, path, problems)
            for k, v in raw.items()
        }
    if kind == "string":
        if not isinstance(raw, str):
            raise SerializationException(f"{_json_kind(raw)} can not be converted to a String")
        shown = "***" if meta.get("sensitive") else raw
        _bounds(len(raw), meta, path, shown, problems)
        enum = getattr(shape, "enum", None) or []
        if enum and raw not in enum:
            problems.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, raw):
            problems.append(
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        return raw
    if kind == "blob":
        if not isinstance(raw, str):
            raise SerializationException(f"{_json_kind(raw)} can not be converted to a Blob")
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException("Base64 encoded binary data could not be decoded.") from None
        # AWS prints the Java buffer here, never the bytes; so do we.
        _bounds(len(data), meta, path, f"java.nio.HeapByteBuffer[pos=0 lim={len(data)} cap={len(data)}]", problems)
        return data
    if kind in ("integer", "long"):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SerializationException(f"{_json_kind(raw)} can not be converted to an Integer")
        _bounds(raw, meta, path, str(raw), problems, "value")
        return raw
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise SerializationException(f"{_json_kind(raw)} can not be converted to a Boolean")
        return raw
    if kind == "timestamp":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise SerializationException(f"{_json_kind(raw)} can not be converted to a Timestamp")
        return raw
    raise SerializationException(f"Unsupported member type {kind}")


def _bounds(
    size: int, meta: dict[str, Any], path: str, shown: str, problems: list[str], what: str = "length"
) -> None:
    """The model's min/max on a length or on an integer value, worded as AWS words them."""
    if "min" in meta and size < meta["min"]:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {meta['min']}"
        )
    if "max" in meta and size > meta["max"]:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {meta['max']}"
        )


def _describe_list(raw: list[Any]) -> str:
    return "[" + ", ".join(str(x) if not isinstance(x, dict) else "{...}" for x in raw) + "]"


def _json_kind(raw: Any) -> str:
    if isinstance(raw, bool):
        return "BOOLEAN_VALUE"
    if isinstance(raw, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(raw, str):
        return "STRING_VALUE"
    if isinstance(raw, list):
        return "START_ARRAY"
    if isinstance(raw, dict):
        return "START_OBJECT"
    return "NULL_VALUE"
