"""Encrypt, Decrypt, ReEncrypt, and the seal/open pair that data keys reuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.actions.call import Call
from chalicelib.domain.blob import Blob
from chalicelib.domain.context import aad
from chalicelib.domain.key import Key, KeyVersion
from chalicelib.errors import (
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    KeyDeletedException,
    InvalidKeyUsageException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"


@dataclass(frozen=True)
class Opened:
    key: Key
    version: KeyVersion
    plaintext: bytes


def seal(ctx: Call, key: Key, plaintext: bytes, context: dict[str, str] | None) -> tuple[bytes, KeyVersion]:
    """Encrypt under the key's current version; the blob names key and version in its clear header."""
    key.require_usable()
    version = key.current_version
    header = Blob(key.key_id, version.number, b"", b"").header()
    iv, body = ctx.hsm.encrypt(version.wrapped, plaintext, aad(header, context or {}))
    return Blob(key.key_id, version.number, iv, body).pack(), version


def open_blob(
    ctx: Call, ciphertext: bytes, context: dict[str, str] | None, key_id: str | None
) -> Opened:
    """Decrypt a blob; with `key_id`, the blob must have been made under that key."""
    blob = Blob.unpack(ciphertext)
    requested = ctx.key(key_id) if key_id is not None else None
    try:
        key = ctx.keys.get(blob.key_id)
    except KeyDeletedException:
        raise  # our ciphertext, but its key is gone: AWS answers NotFoundException
    except NotFoundException:
        # A blob naming a key that never existed is indistinguishable from a forged one.
        raise InvalidCiphertextException("") from None
    if requested is not None and requested.key_id != key.key_id:
        raise IncorrectKeyException(
            "The key ID in the request does not identify a CMK that can perform this operation."
        )
    key.require_usable()
    version = key.version(blob.version)
    if version is None:
        raise InvalidCiphertextException("")
    plaintext = ctx.hsm.decrypt(version.wrapped, blob.iv, blob.body, aad(blob.header(), context or {}))
    return Opened(key, version, plaintext)


def check_algorithm(algorithm: str | None) -> str:
    """Symmetric keys take only SYMMETRIC_DEFAULT; the RSA/SM2 algorithms need asymmetric keys."""
    if algorithm not in (None, SYMMETRIC_DEFAULT):
        raise InvalidKeyUsageException(
            f"The encryption algorithm {algorithm} is not compatible with the type of the KMS key."
        )
    return SYMMETRIC_DEFAULT


def required_blob(ciphertext_blob: bytes | None) -> bytes:
    """The model makes CiphertextBlob optional (offline-key variants); every call here needs it."""
    if ciphertext_blob is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy "
            "constraint: Member must not be null"
        )
    return ciphertext_blob


def check_dry_run(dry_run: bool) -> None:
    """Called once the request has passed every check; the operation itself must not run."""
    if dry_run:
        raise DryRunOperationException("The request would have succeeded, but the DryRun option is set.")


def check_no_recipient(recipient: dict[str, Any] | None) -> None:
    if recipient is not None:
        raise UnsupportedOperationException("Recipient (Nitro Enclaves attestation) is not supported.")


def encrypt(
    ctx: Call,
    *,
    key_id: str,
    plaintext: bytes,
    encryption_context: dict[str, str] | None = None,
    encryption_algorithm: str | None = None,
    grant_tokens: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    algorithm = check_algorithm(encryption_algorithm)
    key = ctx.key(key_id)
    key.require_usable()
    check_dry_run(dry_run)
    blob, _ = seal(ctx, key, plaintext, encryption_context)
    return {"ciphertext_blob": blob, "key_id": key.arn, "encryption_algorithm": algorithm}


def decrypt(
    ctx: Call,
    *,
    ciphertext_blob: bytes | None = None,
    key_id: str | None = None,
    encryption_context: dict[str, str] | None = None,
    encryption_algorithm: str | None = None,
    grant_tokens: list[str] | None = None,
    recipient: dict[str, Any] | None = None,
    dry_run: bool = False,
    dry_run_modifiers: list[str] | None = None,
) -> dict[str, Any]:
    algorithm = check_algorithm(encryption_algorithm)
    check_no_recipient(recipient)
    opened = open_blob(ctx, required_blob(ciphertext_blob), encryption_context, key_id)
    check_dry_run(dry_run)
    return {
        "key_id": opened.key.arn,
        "plaintext": opened.plaintext,
        "encryption_algorithm": algorithm,
        "key_material_id": opened.version.material_id,
    }


def re_encrypt(
    ctx: Call,
    *,
    destination_key_id: str,
    ciphertext_blob: bytes | None = None,
    source_key_id: str | None = None,
    source_encryption_context: dict[str, str] | None = None,
    destination_encryption_context: dict[str, str] | None = None,
    source_encryption_algorithm: str | None = None,
    destination_encryption_algorithm: str | None = None,
    grant_tokens: list[str] | None = None,
    dry_run: bool = False,
    dry_run_modifiers: list[str] | None = None,
) -> dict[str, Any]:
    source_algorithm = check_algorithm(source_encryption_algorithm)
    destination_algorithm = check_algorithm(destination_encryption_algorithm)
    destination = ctx.key(destination_key_id)
    opened = open_blob(ctx, required_blob(ciphertext_blob), source_encryption_context, source_key_id)
    destination.require_usable()
    check_dry_run(dry_run)
    blob, version = seal(ctx, destination, opened.plaintext, destination_encryption_context)
    return {
        "ciphertext_blob": blob,
        "source_key_id": opened.key.arn,
        "key_id": destination.arn,
        "source_encryption_algorithm": source_algorithm,
        "destination_encryption_algorithm": destination_algorithm,
        "source_key_material_id": opened.version.material_id,
        "destination_key_material_id": version.material_id,
    }
