"""The versioned ciphertext blob (docs/ciphertext-format.md): clear header, IV, GCM body.

Layout of format 1: format byte, key id (16 UUID bytes), key version (uint32 big-endian), 96-bit
IV, ciphertext || 128-bit tag. The header names the key version so Decrypt needs no KeyId, and it
is authenticated as the first part of the AAD (domain/context.py).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from chalicelib.errors import InvalidCiphertextException

FORMAT = 0x01
IV_SIZE = 12
TAG_SIZE = 16
_HEADER = struct.Struct(">B16sI")
HEADER_SIZE = _HEADER.size
_MAX_VERSION = 2**32 - 1


@dataclass(frozen=True)
class Blob:
    """A ciphertext under one key version; `body` is the GCM ciphertext followed by its tag."""

    key_id: str
    version: int
    iv: bytes
    body: bytes

    def __post_init__(self) -> None:
        # Programming errors, not client faults: unpack() only builds blobs that pass these.
        if not _is_canonical_uuid(self.key_id):
            raise ValueError("key_id must be a canonical lowercase UUID")
        if not 1 <= self.version <= _MAX_VERSION:
            raise ValueError("version must fit in an unsigned 32-bit integer and be at least 1")

    def header(self) -> bytes:
        """The clear, authenticated header: format byte, key id bytes, key version."""
        return _HEADER.pack(FORMAT, uuid.UUID(self.key_id).bytes, self.version)

    def pack(self) -> bytes:
        """The wire form: header, IV, body."""
        if len(self.iv) != IV_SIZE or len(self.body) < TAG_SIZE:
            raise ValueError("a blob needs a 96-bit IV and a body holding at least the GCM tag")
        return self.header() + self.iv + self.body

    @classmethod
    def unpack(cls, data: bytes) -> Blob:
        """Parse the wire form; anything malformed is an InvalidCiphertextException without detail."""
        # AWS answers every unusable ciphertext with the same bare error, so we reveal nothing
        # about which check failed.
        if len(data) < HEADER_SIZE + IV_SIZE + TAG_SIZE:
            raise InvalidCiphertextException("")
        fmt, key_bytes, version = _HEADER.unpack_from(data)
        if fmt != FORMAT or version == 0:
            raise InvalidCiphertextException("")
        # Every 16 bytes form some UUID, so the key id cannot be malformed here; a key id that
        # names no key is rejected where the key is looked up.
        iv = bytes(data[HEADER_SIZE : HEADER_SIZE + IV_SIZE])
        body = bytes(data[HEADER_SIZE + IV_SIZE :])
        return cls(str(uuid.UUID(bytes=key_bytes)), version, iv, body)


def _is_canonical_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
