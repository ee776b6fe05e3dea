"""Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext) and GenerateRandom."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from kms_helpers import KEY_ARN_PREFIX, error_of, expect_error, unique_alias

CONTEXT = {"purpose": "integration-test", "tenant": "t-1"}


@pytest.mark.aws
@pytest.mark.parametrize("plaintext", [b"x", bytes(range(256)), os.urandom(4096), b"\x00" * 17],
                         ids=["1-byte", "all-byte-values", "4096-random", "zeros"])
def test_encrypt_decrypt_round_trip(kms: Any, key_id: str, plaintext: bytes) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=plaintext)["CiphertextBlob"]

    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext


@pytest.mark.aws
def test_encrypt_answers_with_key_arn(kms: Any, key_id: str) -> None:
    resp = kms.encrypt(KeyId=key_id, Plaintext=b"secret")

    assert resp["KeyId"] == KEY_ARN_PREFIX + key_id
    assert resp["CiphertextBlob"]


@pytest.mark.aws
def test_decrypt_answers_with_key_arn(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]

    assert kms.decrypt(CiphertextBlob=blob)["KeyId"] == KEY_ARN_PREFIX + key_id


# Not aws: moto leaves EncryptionAlgorithm out of Encrypt and Decrypt responses.
def test_encrypt_and_decrypt_name_the_symmetric_algorithm(kms: Any, key_id: str) -> None:
    enc = kms.encrypt(KeyId=key_id, Plaintext=b"secret")
    dec = kms.decrypt(CiphertextBlob=enc["CiphertextBlob"])

    assert enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert dec["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


@pytest.mark.aws
def test_explicit_symmetric_default_algorithm_is_accepted(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionAlgorithm="SYMMETRIC_DEFAULT")["CiphertextBlob"]

    dec = kms.decrypt(CiphertextBlob=blob, KeyId=key_id, EncryptionAlgorithm="SYMMETRIC_DEFAULT")

    assert dec["Plaintext"] == b"secret"


# Not aws: moto ignores EncryptionAlgorithm.
@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "SM2PKE"])
def test_encrypt_with_asymmetric_algorithm_on_symmetric_key_is_invalid_key_usage(kms: Any, key_id: str,
                                                                                 algorithm: str) -> None:
    expect_error("InvalidKeyUsageException", kms.encrypt, KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm=algorithm)


# Not aws: moto ignores EncryptionAlgorithm.
def test_encrypt_with_unknown_algorithm_is_validation_error(kms_unvalidated: Any, key_id: str) -> None:
    expect_error("ValidationException", kms_unvalidated.encrypt, KeyId=key_id, Plaintext=b"x",
                 EncryptionAlgorithm="AES_GCM")


@pytest.mark.aws
def test_encrypting_twice_gives_different_ciphertexts(kms: Any, key_id: str) -> None:
    first = kms.encrypt(KeyId=key_id, Plaintext=b"same plaintext")["CiphertextBlob"]
    second = kms.encrypt(KeyId=key_id, Plaintext=b"same plaintext")["CiphertextBlob"]

    assert first != second


@pytest.mark.aws
def test_ciphertext_does_not_contain_plaintext(kms: Any, key_id: str) -> None:
    plaintext = b"a very recognisable plaintext string"

    blob = kms.encrypt(KeyId=key_id, Plaintext=plaintext)["CiphertextBlob"]

    assert plaintext not in blob


@pytest.mark.aws
def test_encrypt_4097_bytes_is_validation_error(kms_unvalidated: Any, key_id: str) -> None:
    expect_error("ValidationException", kms_unvalidated.encrypt, KeyId=key_id, Plaintext=b"x" * 4097)


@pytest.mark.aws
def test_encrypt_empty_plaintext_is_validation_error(kms_unvalidated: Any, key_id: str) -> None:
    expect_error("ValidationException", kms_unvalidated.encrypt, KeyId=key_id, Plaintext=b"")


@pytest.mark.aws
def test_encrypt_with_unknown_key_is_not_found(kms: Any) -> None:
    missing = str(uuid.uuid4())

    message = expect_error("NotFoundException", kms.encrypt, KeyId=missing, Plaintext=b"x")

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


@pytest.mark.aws
def test_decrypt_with_same_encryption_context(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"bound", EncryptionContext=CONTEXT)["CiphertextBlob"]

    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(CONTEXT))["Plaintext"] == b"bound"


@pytest.mark.aws
def test_encryption_context_order_does_not_matter(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"bound", EncryptionContext={"a": "1", "b": "2", "c": "3"})[
        "CiphertextBlob"]

    reordered = {"c": "3", "a": "1", "b": "2"}
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=reordered)["Plaintext"] == b"bound"


@pytest.mark.aws
@pytest.mark.parametrize("context", [
    None,
    {"purpose": "integration-test"},
    {"purpose": "integration-test", "tenant": "t-2"},
    {"purpose": "integration-test", "tenant": "t-1", "extra": "x"},
    {"Purpose": "integration-test", "tenant": "t-1"},
], ids=["missing", "fewer-pairs", "other-value", "extra-pair", "other-key-case"])
def test_decrypt_with_other_encryption_context_is_invalid_ciphertext(kms: Any, key_id: str,
                                                                     context: dict[str, str] | None) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"bound", EncryptionContext=CONTEXT)["CiphertextBlob"]
    kwargs: dict[str, Any] = {"CiphertextBlob": blob}
    if context is not None:
        kwargs["EncryptionContext"] = context

    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(**kwargs)


@pytest.mark.aws
def test_decrypt_with_context_when_encrypted_without_is_invalid_ciphertext(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"unbound")["CiphertextBlob"]

    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"a": "b"})


# Not aws: moto binds the context as a plain concatenation, so these collide there.
@pytest.mark.parametrize("encrypt_ctx, decrypt_ctx", [
    ({"ab": "c"}, {"a": "bc"}),
    ({"a": "b", "c": "d"}, {"a": "bc", "": "d"}),
    ({"a": "b", "c": "d"}, {"a": "b", "cd": ""}),
])
def test_encryption_context_encoding_is_unambiguous(kms: Any, key_id: str, encrypt_ctx: dict[str, str],
                                                    decrypt_ctx: dict[str, str]) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"bound", EncryptionContext=encrypt_ctx)["CiphertextBlob"]

    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=decrypt_ctx)


@pytest.mark.aws
def test_encryption_context_with_unicode_round_trips(kms: Any, key_id: str) -> None:
    context = {"名前": "値", "emoji": "🔑", "empty": ""}
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"u", EncryptionContext=context)["CiphertextBlob"]

    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(context))["Plaintext"] == b"u"


@pytest.mark.aws
def test_decrypt_with_matching_key_id_arn_or_alias(kms: Any, key_id: str) -> None:
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"named")["CiphertextBlob"]

    for ref in (key_id, KEY_ARN_PREFIX + key_id, alias):
        assert kms.decrypt(CiphertextBlob=blob, KeyId=ref)["Plaintext"] == b"named"


# Not aws: moto decrypts with whatever key the blob names and never raises IncorrectKeyException.
def test_decrypt_naming_another_key_is_incorrect_key(kms: Any, key_id: str, new_key: Any) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"mine")["CiphertextBlob"]
    other = new_key()["KeyId"]

    with pytest.raises(kms.exceptions.IncorrectKeyException):
        kms.decrypt(CiphertextBlob=blob, KeyId=other)


@pytest.mark.aws
def test_decrypt_naming_unknown_key_is_not_found(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"mine")["CiphertextBlob"]

    expect_error("NotFoundException", kms.decrypt, CiphertextBlob=blob, KeyId=str(uuid.uuid4()))


def _flip(blob: bytes, index: int) -> bytes:
    data = bytearray(blob)
    data[index] ^= 0x01
    return bytes(data)


@pytest.mark.aws
@pytest.mark.parametrize("tamper", ["middle-byte", "last-byte", "truncated", "extended", "header-only"])
def test_tampered_ciphertext_is_invalid_ciphertext(kms: Any, key_id: str, tamper: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"integrity matters", EncryptionContext=CONTEXT)["CiphertextBlob"]
    variants = {
        "middle-byte": _flip(blob, len(blob) // 2),
        "last-byte": _flip(blob, len(blob) - 1),
        "truncated": blob[:-1],
        "extended": blob + b"\x00",
        "header-only": blob[:8],
    }
    bad = variants[tamper]

    with pytest.raises(kms.exceptions.ClientError) as exc_info:
        kms.decrypt(CiphertextBlob=bad, EncryptionContext=CONTEXT)

    code, _, status = error_of(exc_info)
    assert (code, status) == ("InvalidCiphertextException", 400)


# Not aws: moto does not authenticate its blob header and answers NotFoundException here.
def test_ciphertext_with_tampered_header_is_invalid_ciphertext(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"integrity matters")["CiphertextBlob"]

    for index in range(0, min(len(blob), 48), 3):
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=_flip(blob, index))


@pytest.mark.aws
@pytest.mark.parametrize("size", [1, 16, 64, 200, 6144])
def test_random_blob_is_invalid_ciphertext(kms: Any, size: int) -> None:
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=os.urandom(size))


@pytest.mark.aws
def test_random_blob_with_key_id_is_invalid_ciphertext(kms: Any, key_id: str) -> None:
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=os.urandom(100), KeyId=key_id)


# Not aws: moto does not check the 6144-byte CiphertextBlob limit.
def test_decrypt_blob_over_6144_bytes_is_validation_error(kms_unvalidated: Any) -> None:
    expect_error("ValidationException", kms_unvalidated.decrypt, CiphertextBlob=b"x" * 6145)


# Not aws: moto ignores DryRun.
def test_encrypt_dry_run_is_dry_run_operation_exception(kms: Any, key_id: str) -> None:
    with pytest.raises(kms.exceptions.DryRunOperationException) as exc_info:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", DryRun=True)

    assert exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500


@pytest.mark.aws
def test_re_encrypt_to_another_key_with_new_context(kms: Any, key_id: str, new_key: Any) -> None:
    target = new_key()["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving", EncryptionContext={"v": "1"})["CiphertextBlob"]

    resp = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"v": "1"}, DestinationKeyId=target,
                          DestinationEncryptionContext={"v": "2"})

    assert resp["KeyId"] == KEY_ARN_PREFIX + target
    assert resp["SourceKeyId"] == KEY_ARN_PREFIX + key_id
    dec = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext={"v": "2"})
    assert (dec["Plaintext"], dec["KeyId"]) == (b"moving", KEY_ARN_PREFIX + target)
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=resp["CiphertextBlob"],
                 EncryptionContext={"v": "1"})


# Not aws: moto leaves the algorithms out of ReEncrypt responses.
def test_re_encrypt_names_both_algorithms(kms: Any, key_id: str, new_key: Any) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving")["CiphertextBlob"]

    resp = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=new_key()["KeyId"])

    assert resp["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert resp["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


@pytest.mark.aws
def test_re_encrypt_with_wrong_source_context_is_invalid_ciphertext(kms: Any, key_id: str, new_key: Any) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving", EncryptionContext={"v": "1"})["CiphertextBlob"]

    expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=blob, SourceEncryptionContext={"v": "x"},
                 DestinationKeyId=new_key()["KeyId"])


@pytest.mark.aws
def test_re_encrypt_to_unknown_key_is_not_found(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving")["CiphertextBlob"]

    expect_error("NotFoundException", kms.re_encrypt, CiphertextBlob=blob, DestinationKeyId=str(uuid.uuid4()))


# Not aws: moto re-encrypts to disabled keys.
def test_re_encrypt_to_disabled_key_is_disabled_exception(kms: Any, key_id: str, new_key: Any) -> None:
    target = new_key()["KeyId"]
    kms.disable_key(KeyId=target)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving")["CiphertextBlob"]

    expect_error("DisabledException", kms.re_encrypt, CiphertextBlob=blob, DestinationKeyId=target)


# Not aws: moto never raises IncorrectKeyException.
def test_re_encrypt_naming_wrong_source_key_is_incorrect_key(kms: Any, key_id: str, new_key: Any) -> None:
    other = new_key()["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"moving")["CiphertextBlob"]

    expect_error("IncorrectKeyException", kms.re_encrypt, CiphertextBlob=blob, SourceKeyId=other,
                 DestinationKeyId=other)


@pytest.mark.aws
def test_re_encrypt_to_same_key_gives_fresh_ciphertext(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"rotate me")["CiphertextBlob"]

    resp = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_id)

    assert resp["CiphertextBlob"] != blob
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == b"rotate me"


@pytest.mark.aws
@pytest.mark.parametrize("spec, size", [("AES_256", 32), ("AES_128", 16)])
def test_generate_data_key_by_spec(kms: Any, key_id: str, spec: str, size: int) -> None:
    resp = kms.generate_data_key(KeyId=key_id, KeySpec=spec)

    assert len(resp["Plaintext"]) == size
    assert resp["KeyId"] == KEY_ARN_PREFIX + key_id
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == resp["Plaintext"]


@pytest.mark.aws
@pytest.mark.parametrize("size", [1, 64, 1024])
def test_generate_data_key_by_number_of_bytes(kms: Any, key_id: str, size: int) -> None:
    resp = kms.generate_data_key(KeyId=key_id, NumberOfBytes=size)

    assert len(resp["Plaintext"]) == size
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == resp["Plaintext"]


@pytest.mark.aws
def test_generate_data_key_gives_fresh_keys(kms: Any, key_id: str) -> None:
    first = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]
    second = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]

    assert first != second


@pytest.mark.aws
def test_generate_data_key_binds_encryption_context(kms: Any, key_id: str) -> None:
    resp = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=CONTEXT)

    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CONTEXT)["Plaintext"] == resp["Plaintext"]
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=resp["CiphertextBlob"])


@pytest.mark.aws
@pytest.mark.parametrize("size", [0, 1025, -1])
def test_generate_data_key_number_of_bytes_out_of_range_is_validation_error(kms_unvalidated: Any, key_id: str,
                                                                            size: int) -> None:
    expect_error("ValidationException", kms_unvalidated.generate_data_key, KeyId=key_id, NumberOfBytes=size)


@pytest.mark.aws
def test_generate_data_key_with_spec_and_number_of_bytes_is_validation_error(kms: Any, key_id: str) -> None:
    expect_error("ValidationException", kms.generate_data_key, KeyId=key_id, KeySpec="AES_256", NumberOfBytes=32)


@pytest.mark.aws
def test_generate_data_key_without_spec_or_number_of_bytes_is_validation_error(kms: Any, key_id: str) -> None:
    expect_error("ValidationException", kms.generate_data_key, KeyId=key_id)


@pytest.mark.aws
def test_generate_data_key_with_unknown_spec_is_validation_error(kms_unvalidated: Any, key_id: str) -> None:
    expect_error("ValidationException", kms_unvalidated.generate_data_key, KeyId=key_id, KeySpec="AES_512")


@pytest.mark.aws
def test_generate_data_key_with_unknown_key_is_not_found(kms: Any) -> None:
    missing = str(uuid.uuid4())

    message = expect_error("NotFoundException", kms.generate_data_key, KeyId=missing, KeySpec="AES_256")

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


@pytest.mark.aws
def test_generate_data_key_without_plaintext_returns_only_ciphertext(kms: Any, key_id: str) -> None:
    resp = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256", EncryptionContext=CONTEXT)

    assert "Plaintext" not in resp
    assert resp["KeyId"] == KEY_ARN_PREFIX + key_id
    assert len(kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CONTEXT)["Plaintext"]) == 32


@pytest.mark.aws
def test_generate_data_key_without_plaintext_by_number_of_bytes(kms: Any, key_id: str) -> None:
    resp = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=7)

    assert len(kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"]) == 7


@pytest.mark.aws
def test_generate_data_key_without_plaintext_with_spec_and_size_is_validation_error(kms: Any, key_id: str) -> None:
    expect_error("ValidationException", kms.generate_data_key_without_plaintext, KeyId=key_id, KeySpec="AES_128",
                 NumberOfBytes=16)


@pytest.mark.aws
@pytest.mark.parametrize("size", [1, 32, 1024])
def test_generate_random_returns_requested_length(kms: Any, size: int) -> None:
    assert len(kms.generate_random(NumberOfBytes=size)["Plaintext"]) == size


@pytest.mark.aws
def test_generate_random_calls_differ(kms: Any) -> None:
    assert kms.generate_random(NumberOfBytes=32)["Plaintext"] != kms.generate_random(NumberOfBytes=32)["Plaintext"]


@pytest.mark.aws
@pytest.mark.parametrize("size", [1025, -3])
def test_generate_random_out_of_range_is_validation_error(kms_unvalidated: Any, size: int) -> None:
    expect_error("ValidationException", kms_unvalidated.generate_random, NumberOfBytes=size)


# Not aws: moto returns an empty string for NumberOfBytes=0.
def test_generate_random_zero_bytes_is_validation_error(kms_unvalidated: Any) -> None:
    expect_error("ValidationException", kms_unvalidated.generate_random, NumberOfBytes=0)
