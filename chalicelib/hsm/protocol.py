"""The crypto backend every HSM implementation provides.

Key hierarchy (docs/decisions/0002-key-hierarchy.md): the HSM holds non-extractable domain keys;
each key version's 256-bit backing key is generated inside the HSM and leaves it only wrapped under
a domain key (AES key wrap with padding, RFC 5649). `wrapped` values are opaque outside hsm/.
"""

from __future__ import annotations

from typing import Protocol


class Backend(Protocol):
    def generate_key_material(self) -> bytes:
        """Generate a 256-bit AES key inside the HSM; return it wrapped under the domain key."""

    def encrypt(self, wrapped: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """AES-256-GCM under the unwrapped key: return (96-bit random IV, ciphertext || 16-byte tag)."""

    def decrypt(self, wrapped: bytes, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Inverse of encrypt; any authentication failure raises InvalidCiphertextException."""

    def random(self, size: int) -> bytes:
        """`size` bytes from the HSM's random generator."""

    def destroy_key_material(self, wrapped: bytes) -> None:
        """Forget every cached object derived from `wrapped` (the store deletes the bytes)."""

    def audit_sign(self, digest: bytes) -> bytes:
        """ECDSA P-256 over a 32-byte SHA-256 digest with the audit signing key: r || s, 64 bytes."""

    def audit_public_key(self) -> bytes:
        """The audit signing key's public half as DER SubjectPublicKeyInfo."""
