"""HSM backends, the wrapped-material envelope they share, and the factory that picks one.

Wrapped key material (docs/decisions/0002-key-hierarchy.md), format 1:
    byte 0          format version (1)
    byte 1          n = length of the domain key label in UTF-8 bytes (1..255)
    bytes 2..2+n    domain key label
    rest            the key wrapped under that domain key, RFC 5649 (AES key wrap with padding)
Naming the domain key lets domain keys rotate: old material keeps unwrapping under its own key.
"""

from __future__ import annotations

from chalicelib.config import Settings
from chalicelib.errors import KMSInternalException
from chalicelib.hsm.protocol import Backend

WRAPPED_FORMAT = 1
#: AES-GCM parameters of the Backend protocol: 96-bit IV, 128-bit tag.
IV_SIZE = 12
TAG_SIZE = 16
KEY_UNUSABLE = "The key material could not be used."


def make_backend(settings: Settings) -> Backend:
    """The backend `settings.hsm_backend` names: "pkcs11" or "soft"."""
    # Imported here so the software backend never loads the PKCS#11 extension and vice versa.
    if settings.hsm_backend == "pkcs11":
        from chalicelib.hsm.pkcs11 import Pkcs11Backend

        return Pkcs11Backend(
            settings.pkcs11_module,
            settings.pkcs11_token_label,
            settings.pkcs11_pin,
            settings.domain_key_label,
            settings.audit_key_label,
        )
    if settings.hsm_backend == "soft":
        from chalicelib.hsm.soft import SoftBackend

        domain_key = bytes.fromhex(settings.soft_domain_key) if settings.soft_domain_key else None
        return SoftBackend(domain_key, settings.domain_key_label)
    raise ValueError(f"unknown HSM backend {settings.hsm_backend!r} (KMS_HSM_BACKEND)")


def pack_wrapped(domain_key_label: str, wrapped_key: bytes) -> bytes:
    """Envelope a wrapped key with the label of the domain key that wrapped it."""
    label = domain_key_label.encode("utf-8")
    if not 1 <= len(label) <= 255:
        raise ValueError("a domain key label must be 1 to 255 UTF-8 bytes")
    return bytes([WRAPPED_FORMAT, len(label)]) + label + wrapped_key


def unpack_wrapped(material: bytes) -> tuple[str, bytes]:
    """(domain key label, RFC 5649 wrapped key); malformed material is an internal error."""
    # Material comes from our own store, never from a caller: damage there is our failure (500),
    # and the message stays generic so it cannot echo key bytes.
    if len(material) < 2 or material[0] != WRAPPED_FORMAT:
        raise KMSInternalException(KEY_UNUSABLE)
    end = 2 + material[1]
    wrapped_key = material[end:]
    # RFC 5649 output is a whole number of 64-bit blocks, at least two.
    if material[1] == 0 or len(wrapped_key) < 16 or len(wrapped_key) % 8:
        raise KMSInternalException(KEY_UNUSABLE)
    try:
        label = material[2:end].decode("utf-8")
    except UnicodeDecodeError:
        raise KMSInternalException(KEY_UNUSABLE) from None
    return label, wrapped_key
