"""Encryption context as AAD: a canonical, length-prefixed encoding (docs/ciphertext-format.md).

A plain concatenation of keys and values would let {"ab": "c"} decrypt what {"a": "bc"} sealed;
length prefixes make the encoding injective, and sorting by UTF-8 key bytes makes it independent
of the order the caller sent the pairs in.
"""

from __future__ import annotations

import struct

from chalicelib.errors import ValidationException

_U32 = struct.Struct(">I")


def encode_context(context: dict[str, str]) -> bytes:
    """uint32 pair count, then per pair sorted by key bytes: uint32 len, key, uint32 len, value."""
    pairs = sorted((_utf8(k), _utf8(v)) for k, v in context.items())
    parts = [_U32.pack(len(pairs))]
    for key, value in pairs:
        parts += [_U32.pack(len(key)), key, _U32.pack(len(value)), value]
    return b"".join(parts)


def aad(header: bytes, context: dict[str, str]) -> bytes:
    """The AAD of one encryption: the blob's clear header followed by the encoded context."""
    # The header has a fixed size per format, so the concatenation is unambiguous.
    return header + encode_context(context)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON admits lone surrogates, which have no UTF-8 form and so no canonical encoding.
        raise ValidationException("EncryptionContext must be valid Unicode text.") from None
