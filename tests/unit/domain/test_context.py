"""Encryption context encoding: canonical, injective, order-free, and bound to the ciphertext."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.blob import Blob
from chalicelib.domain.context import aad, encode_context
from chalicelib.errors import InvalidCiphertextException, ValidationException
from chalicelib.hsm.soft import SoftBackend

contexts = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5)


def test_shifting_a_character_between_key_and_value_changes_the_encoding() -> None:
    assert encode_context({"ab": "c"}) != encode_context({"a": "bc"})


def test_encoding_is_count_then_length_prefixed_pairs_sorted_by_key_bytes() -> None:
    assert encode_context({"b": "", "a": "xy"}) == bytes.fromhex(
        "00000002" "00000001" "61" "00000002" "7879" "00000001" "62" "00000000"
    )


def test_empty_context_is_a_zero_count() -> None:
    assert encode_context({}) == bytes(4)


def test_keys_sort_by_utf8_bytes() -> None:
    # U+00E9 encodes as C3 A9, after "z" (7A) in byte order.
    encoded = encode_context({"\u00e9": "1", "z": "2"})
    assert encoded.index(b"z") < encoded.index("\u00e9".encode())


@given(first=contexts, second=contexts)
def test_distinct_contexts_never_encode_equal(first: dict[str, str], second: dict[str, str]) -> None:
    assume(first != second)
    assert encode_context(first) != encode_context(second)


@given(context=contexts)
def test_encoding_is_independent_of_dict_order(context: dict[str, str]) -> None:
    reversed_context = dict(reversed(list(context.items())))
    assert encode_context(reversed_context) == encode_context(context)


def test_aad_is_the_header_followed_by_the_encoded_context() -> None:
    assert aad(b"header", {"k": "v"}) == b"header" + encode_context({"k": "v"})


def test_a_lone_surrogate_is_a_validation_error() -> None:
    with pytest.raises(ValidationException):
        encode_context({"k": "\ud800"})


BACKEND = SoftBackend()
WRAPPED = BACKEND.generate_key_material()
KEY_ID = "0f6b1c1e-3d57-4f4e-9a8b-5b1d2c3e4f50"


@settings(max_examples=50)
@given(a=contexts, b=contexts, plaintext=st.binary(max_size=64))
def test_decrypt_with_other_context_is_invalid_ciphertext(
    a: dict[str, str], b: dict[str, str], plaintext: bytes
) -> None:
    assume(a != b)
    header = Blob(KEY_ID, 1, b"", b"").header()
    iv, body = BACKEND.encrypt(WRAPPED, plaintext, aad(header, a))
    blob = Blob.unpack(Blob(KEY_ID, 1, iv, body).pack())
    assert BACKEND.decrypt(WRAPPED, blob.iv, blob.body, aad(blob.header(), a)) == plaintext
    with pytest.raises(InvalidCiphertextException):
        BACKEND.decrypt(WRAPPED, blob.iv, blob.body, aad(blob.header(), b))
