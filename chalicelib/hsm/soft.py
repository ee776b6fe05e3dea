"""The Backend protocol in pure `cryptography`, for fast unit tests; it protects nothing.

Same wrapped-material format as the PKCS#11 backend (RFC 5649 under a labelled domain key), so
material and blobs made here are byte-compatible with an HSM holding the same domain key.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from chalicelib.errors import InvalidCiphertextException, KMSInternalException
from chalicelib.hsm import IV_SIZE, KEY_UNUSABLE, TAG_SIZE, pack_wrapped, unpack_wrapped


class SoftBackend:
    """Software stand-in for the HSM; the domain key is random per instance unless given."""

    def __init__(self, domain_key: bytes | None = None, domain_key_label: str = "soft-domain-key-1") -> None:
        if domain_key is not None and len(domain_key) != 32:
            raise ValueError("the domain key must be 32 bytes (AES-256)")
        self._domain_key = domain_key if domain_key is not None else os.urandom(32)
        self._label = domain_key_label
        # The audit signing key lives as long as this instance: fine for tests, useless for a trail.
        self._audit_key = ec.generate_private_key(ec.SECP256R1())

    def generate_key_material(self) -> bytes:
        """A fresh 256-bit key wrapped under the domain key."""
        return pack_wrapped(self._label, aes_key_wrap_with_padding(self._domain_key, os.urandom(32)))

    def encrypt(self, wrapped: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """AES-256-GCM with a fresh random 96-bit IV: (iv, ciphertext || tag)."""
        iv = os.urandom(IV_SIZE)
        return iv, self._cipher(wrapped).encrypt(iv, plaintext, aad)

    def decrypt(self, wrapped: bytes, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Inverse of encrypt; every authentication failure is InvalidCiphertextException."""
        # AESGCM accepts other IV sizes; the HSM path does not, so neither do we.
        if len(iv) != IV_SIZE or len(ciphertext) < TAG_SIZE:
            raise InvalidCiphertextException("")
        cipher = self._cipher(wrapped)
        try:
            return cipher.decrypt(iv, ciphertext, aad)
        except InvalidTag:
            raise InvalidCiphertextException("") from None

    def random(self, size: int) -> bytes:
        """`size` bytes from the operating system's CSPRNG."""
        return os.urandom(size)

    def destroy_key_material(self, wrapped: bytes) -> None:
        """Nothing to forget: this backend unwraps on every call and caches nothing."""

    def audit_sign(self, digest: bytes) -> bytes:
        """ECDSA P-256 over a SHA-256 digest: r || s, 64 bytes, as CKM_ECDSA returns it."""
        if len(digest) != 32:
            raise ValueError("the audit key signs SHA-256 digests only")
        der = self._audit_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def audit_public_key(self) -> bytes:
        """DER SubjectPublicKeyInfo of the audit signing key."""
        return self._audit_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _cipher(self, wrapped: bytes) -> AESGCM:
        label, wrapped_key = unpack_wrapped(wrapped)
        if label != self._label:
            raise KMSInternalException(KEY_UNUSABLE)
        try:
            return AESGCM(aes_key_unwrap_with_padding(self._domain_key, wrapped_key))
        except (InvalidUnwrap, ValueError):
            raise KMSInternalException(KEY_UNUSABLE) from None
