"""GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom."""

from __future__ import annotations

from typing import Any

from chalicelib.actions.call import Call
from chalicelib.actions.crypto import check_dry_run, check_no_recipient, seal
from chalicelib.errors import UnsupportedOperationException, ValidationException

_SPEC_BYTES = {"AES_128": 16, "AES_256": 32}


def generate_data_key(
    ctx: Call,
    *,
    key_id: str,
    encryption_context: dict[str, str] | None = None,
    number_of_bytes: int | None = None,
    key_spec: str | None = None,
    grant_tokens: list[str] | None = None,
    recipient: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    check_no_recipient(recipient)
    return _data_key(ctx, key_id, encryption_context, number_of_bytes, key_spec, dry_run)


def generate_data_key_without_plaintext(
    ctx: Call,
    *,
    key_id: str,
    encryption_context: dict[str, str] | None = None,
    key_spec: str | None = None,
    number_of_bytes: int | None = None,
    grant_tokens: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    result = _data_key(ctx, key_id, encryption_context, number_of_bytes, key_spec, dry_run)
    del result["plaintext"]
    return result


def generate_random(
    ctx: Call,
    *,
    number_of_bytes: int | None = None,
    custom_key_store_id: str | None = None,
    recipient: dict[str, Any] | None = None,
) -> dict[str, Any]:
    check_no_recipient(recipient)
    if custom_key_store_id is not None:
        raise UnsupportedOperationException("Custom key stores are not supported by this service.")
    if number_of_bytes is None:
        # AWS requires the member in practice although the model marks it optional.
        raise ValidationException("Please specify NumberOfBytes.")
    return {"plaintext": ctx.hsm.random(number_of_bytes)}


def _data_key(
    ctx: Call,
    key_id: str,
    context: dict[str, str] | None,
    number_of_bytes: int | None,
    key_spec: str | None,
    dry_run: bool,
) -> dict[str, Any]:
    if (number_of_bytes is None) == (key_spec is None):
        raise ValidationException("Please specify either number of bytes or key spec.")
    size = number_of_bytes if number_of_bytes is not None else _SPEC_BYTES[key_spec or ""]
    key = ctx.key(key_id)
    key.require_usable()
    check_dry_run(dry_run)
    plaintext = ctx.hsm.random(size)
    blob, version = seal(ctx, key, plaintext, context)
    return {
        "ciphertext_blob": blob,
        "plaintext": plaintext,
        "key_id": key.arn,
        "key_material_id": version.material_id,
    }
