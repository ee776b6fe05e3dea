"""The ciphertext blob format: round trips, fixed layout, and nothing but InvalidCiphertext on junk."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.blob import HEADER_SIZE, Blob
from chalicelib.errors import InvalidCiphertextException

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

key_ids = st.uuids().map(str)
versions = st.integers(1, 2**32 - 1)
ivs = st.binary(min_size=12, max_size=12)
bodies = st.binary(min_size=16, max_size=300)


@given(key_id=key_ids, version=versions, iv=ivs, body=bodies)
def test_blob_round_trips(key_id: str, version: int, iv: bytes, body: bytes) -> None:
    blob = Blob(key_id, version, iv, body)
    packed = blob.pack()
    assert Blob.unpack(packed) == blob
    assert packed.startswith(blob.header())


@given(data=st.binary(max_size=200) | st.binary(max_size=200).map(lambda rest: b"\x01" + rest))
def test_unpack_of_arbitrary_bytes_raises_only_invalid_ciphertext(data: bytes) -> None:
    try:
        blob = Blob.unpack(data)
    except InvalidCiphertextException as exc:
        assert exc.message == ""
    else:
        assert blob.pack() == data


@given(key_id=key_ids, version=versions, iv=ivs, body=bodies, cut=st.integers(0, 200))
def test_unpack_of_a_truncated_blob_is_invalid_ciphertext(
    key_id: str, version: int, iv: bytes, body: bytes, cut: int
) -> None:
    packed = Blob(key_id, version, iv, body).pack()
    truncated = packed[: min(cut, HEADER_SIZE + 12 + 15)]
    with pytest.raises(InvalidCiphertextException):
        Blob.unpack(truncated)


def test_header_layout_is_format_byte_key_id_bytes_and_big_endian_version() -> None:
    header = Blob(KEY_ID, 7, b"", b"").header()
    assert header == bytes.fromhex("01" "1234abcd12ab34cd56ef1234567890ab" "00000007")
    assert len(header) == HEADER_SIZE == 21


def test_pack_is_header_iv_body() -> None:
    iv, body = bytes(range(12)), bytes(range(100, 120))
    assert Blob(KEY_ID, 1, iv, body).pack() == Blob(KEY_ID, 1, b"", b"").header() + iv + body


@pytest.mark.parametrize(
    "packed",
    [
        bytes([0x02]) + uuid.UUID(KEY_ID).bytes + bytes([0, 0, 0, 1]) + bytes(28),
        bytes([0x00]) + uuid.UUID(KEY_ID).bytes + bytes([0, 0, 0, 1]) + bytes(28),
        bytes([0x01]) + uuid.UUID(KEY_ID).bytes + bytes([0, 0, 0, 0]) + bytes(28),
        bytes([0x01]) + uuid.UUID(KEY_ID).bytes + bytes([0, 0, 0, 1]) + bytes(27),
        b"",
    ],
    ids=["next-format", "format-zero", "version-zero", "body-shorter-than-tag", "empty"],
)
def test_malformed_blob_is_invalid_ciphertext(packed: bytes) -> None:
    with pytest.raises(InvalidCiphertextException) as caught:
        Blob.unpack(packed)
    assert caught.value.message == ""


def test_unpacked_key_id_is_the_canonical_lowercase_uuid() -> None:
    packed = Blob(KEY_ID, 1, bytes(12), bytes(16)).pack()
    assert Blob.unpack(packed).key_id == KEY_ID


@pytest.mark.parametrize("key_id", [KEY_ID.upper(), KEY_ID.replace("-", ""), "alias/foo", ""])
def test_a_non_canonical_key_id_is_a_programming_error(key_id: str) -> None:
    with pytest.raises(ValueError):
        Blob(key_id, 1, bytes(12), bytes(16))


@pytest.mark.parametrize("version", [0, -1, 2**32])
def test_a_version_outside_uint32_is_a_programming_error(version: int) -> None:
    with pytest.raises(ValueError):
        Blob(KEY_ID, version, bytes(12), bytes(16))


@pytest.mark.parametrize("iv, body", [(bytes(11), bytes(16)), (bytes(12), bytes(15))])
def test_pack_refuses_a_bad_iv_or_body(iv: bytes, body: bytes) -> None:
    with pytest.raises(ValueError):
        Blob(KEY_ID, 1, iv, body).pack()
