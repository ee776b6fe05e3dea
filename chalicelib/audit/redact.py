"""Model-driven redaction: what of a request or response may enter an audit record.

The walk follows the botocore shape, so a member is kept only if the model says what it is:
blob members (plaintext, ciphertext, data keys, key material, signatures, import tokens) and
members marked sensitive never pass, whatever their value; members the model does not know are
dropped; values of the wrong type are dropped. Names come out camelCased, as CloudTrail writes
requestParameters. The same walk serves the raw JSON of a request that failed validation.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape, StructureShape

from chalicelib.api.shapes import camel

#: Longest string kept verbatim; longer ones (policies, descriptions) are cut, never dropped silently.
MAX_STRING = 8192


def redact(shape: Shape | None, value: Any) -> Any:
    """`value` (wire names, JSON types) reduced to what may be audited; None if nothing may."""
    if shape is None:
        return None
    kind = shape.type_name
    if kind == "blob" or shape.metadata.get("sensitive"):
        return None
    if kind == "structure":
        if not isinstance(value, dict):
            return None
        assert isinstance(shape, StructureShape)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if name in value:
                kept = redact(member, value[name])
                if kept is not None:
                    out[camel(name)] = kept
        return out
    if kind == "list":
        if not isinstance(value, list):
            return None
        items = [redact(shape.member, v) for v in value]
        return [v for v in items if v is not None]
    if kind == "map":
        if not isinstance(value, dict):
            return None
        pairs = {k: redact(shape.value, v) for k, v in value.items() if isinstance(k, str)}
        return {k: v for k, v in pairs.items() if v is not None}
    if kind == "string":
        if not isinstance(value, str):
            return None
        return value if len(value) <= MAX_STRING else value[:MAX_STRING] + "...(truncated)"
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind in ("integer", "long", "float", "double", "timestamp"):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return None
