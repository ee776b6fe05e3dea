"""One suite for every Backend: the pure-software one and PKCS#11 on a throwaway SoftHSM2 token."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.exceptions import DeviceError

from chalicelib.config import settings as env_settings
from chalicelib.domain.blob import Blob
from chalicelib.domain.context import aad
from chalicelib.errors import InvalidCiphertextException, KMSInternalException
from chalicelib.hsm import WRAPPED_FORMAT, make_backend
from chalicelib.hsm.pkcs11 import HSM_FAILURE, UNWRAPPED_CACHE_SIZE, Pkcs11Backend, ensure_domain_key
from chalicelib.hsm.protocol import Backend
from chalicelib.hsm.soft import SoftBackend

VECTOR = json.loads((Path(__file__).parents[2] / "vectors" / "blob-format-1.json").read_text())
SOFT_DOMAIN_KEY = os.urandom(32)
SOFT_LABEL = "soft-test-domain-key"

NewBackend = Callable[[], Backend]


# `Token` fixtures are conftest.Token; conftest modules are not importable by name.
Token = Any


@pytest.fixture(scope="session")
def token(softhsm_token: Token) -> Token:
    """The test token with its domain key (created by the same call the launcher makes)."""
    ensure_domain_key(softhsm_token.module, softhsm_token.label, softhsm_token.pin, softhsm_token.domain_key_label)
    return softhsm_token


@pytest.fixture(params=["soft", "pkcs11"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_backend(request: pytest.FixtureRequest, kind: str) -> NewBackend:
    """Makes backend instances sharing one domain key, as the workers of one service do."""
    if kind == "soft":
        return lambda: SoftBackend(SOFT_DOMAIN_KEY, SOFT_LABEL)
    t: Token = request.getfixturevalue("token")
    return lambda: Pkcs11Backend(t.module, t.label, t.pin, t.domain_key_label)


@pytest.fixture
def backend(new_backend: NewBackend) -> Backend:
    return new_backend()


@pytest.fixture
def p11(token: Token) -> Pkcs11Backend:
    return Pkcs11Backend(token.module, token.label, token.pin, token.domain_key_label)


@pytest.mark.parametrize("size", [0, 1, 4096])
def test_encrypt_then_decrypt_returns_the_plaintext(backend: Backend, size: int) -> None:
    wrapped = backend.generate_key_material()
    plaintext = os.urandom(size)
    iv, body = backend.encrypt(wrapped, plaintext, b"aad")
    assert len(iv) == 12
    assert len(body) == size + 16
    assert backend.decrypt(wrapped, iv, body, b"aad") == plaintext


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plaintext=st.binary(max_size=300), aad_=st.binary(max_size=100))
def test_any_plaintext_and_aad_round_trip(backend: Backend, plaintext: bytes, aad_: bytes) -> None:
    wrapped = backend.generate_key_material()
    iv, body = backend.encrypt(wrapped, plaintext, aad_)
    assert backend.decrypt(wrapped, iv, body, aad_) == plaintext


def test_every_encryption_gets_a_fresh_iv(backend: Backend) -> None:
    wrapped = backend.generate_key_material()
    ivs = {backend.encrypt(wrapped, b"same", b"")[0] for _ in range(50)}
    assert len(ivs) == 50


def test_decrypt_with_other_aad_is_invalid_ciphertext(backend: Backend) -> None:
    wrapped = backend.generate_key_material()
    iv, body = backend.encrypt(wrapped, b"secret", b"aad")
    with pytest.raises(InvalidCiphertextException) as caught:
        backend.decrypt(wrapped, iv, body, b"aae")
    assert caught.value.message == ""


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda iv, body: (_flip(iv, 0), body), id="iv"),
        pytest.param(lambda iv, body: (iv, _flip(body, 0)), id="body"),
        pytest.param(lambda iv, body: (iv, _flip(body, len(body) - 1)), id="tag"),
        pytest.param(lambda iv, body: (iv, body[:-1]), id="truncated-tag"),
        pytest.param(lambda iv, body: (iv, body[:15]), id="shorter-than-tag"),
        pytest.param(lambda iv, body: (iv + b"\0", body), id="long-iv"),
        pytest.param(lambda iv, body: (iv[:8], body), id="short-iv"),
        pytest.param(lambda iv, body: (iv, b""), id="empty-body"),
    ],
)
def test_tampered_ciphertext_is_invalid_ciphertext(
    backend: Backend, tamper: Callable[[bytes, bytes], tuple[bytes, bytes]]
) -> None:
    wrapped = backend.generate_key_material()
    iv, body = backend.encrypt(wrapped, b"secret data", b"aad")
    bad_iv, bad_body = tamper(iv, body)
    with pytest.raises(InvalidCiphertextException) as caught:
        backend.decrypt(wrapped, bad_iv, bad_body, b"aad")
    assert caught.value.message == ""
    # A failed decrypt leaves the backend usable.
    assert backend.decrypt(wrapped, iv, body, b"aad") == b"secret data"


def test_decrypt_under_other_key_material_is_invalid_ciphertext(backend: Backend) -> None:
    first, second = backend.generate_key_material(), backend.generate_key_material()
    assert first != second
    iv, body = backend.encrypt(first, b"secret", b"")
    with pytest.raises(InvalidCiphertextException):
        backend.decrypt(second, iv, body, b"")


def test_material_from_one_instance_decrypts_in_another(new_backend: NewBackend) -> None:
    # PKCS#11 instances of one process share its session; the fork test below covers a second process.
    one, other = new_backend(), new_backend()
    wrapped = one.generate_key_material()
    iv, body = one.encrypt(wrapped, b"shared", b"ctx")
    assert other.decrypt(wrapped, iv, body, b"ctx") == b"shared"
    iv, body = other.encrypt(wrapped, b"back", b"ctx")
    assert one.decrypt(wrapped, iv, body, b"ctx") == b"back"


def test_wrapped_material_names_its_domain_key(backend: Backend) -> None:
    wrapped = backend.generate_key_material()
    label = wrapped[2 : 2 + wrapped[1]].decode()
    assert wrapped[0] == WRAPPED_FORMAT
    assert label.startswith(("soft-test-", "test-"))
    # RFC 5649 wraps 32 bytes into 40.
    assert len(wrapped) == 2 + len(label) + 40


@pytest.mark.parametrize(
    "material",
    [b"", b"\x02\x01a" + bytes(40), b"\x01\x00" + bytes(40), b"\x01\x05abc", b"\x01\x01a" + bytes(41)],
    ids=["empty", "unknown-format", "empty-label", "truncated", "not-whole-blocks"],
)
def test_malformed_material_is_an_internal_error(backend: Backend, material: bytes) -> None:
    with pytest.raises(KMSInternalException):
        backend.encrypt(material, b"x", b"")


def test_material_under_an_unknown_domain_key_is_an_internal_error(backend: Backend) -> None:
    wrapped = backend.generate_key_material()
    label = b"no-such-domain-key"
    foreign = bytes([WRAPPED_FORMAT, len(label)]) + label + wrapped[2 + wrapped[1] :]
    with pytest.raises(KMSInternalException):
        backend.decrypt(foreign, bytes(12), bytes(16), b"")


@pytest.mark.parametrize("size", [0, 1, 12, 32, 1024])
def test_random_returns_the_requested_size(backend: Backend, size: int) -> None:
    assert len(backend.random(size)) == size


def test_random_does_not_repeat(backend: Backend) -> None:
    assert len({backend.random(16) for _ in range(20)}) == 20


def test_destroyed_material_is_forgotten_but_the_bytes_still_work(backend: Backend) -> None:
    wrapped = backend.generate_key_material()
    iv, body = backend.encrypt(wrapped, b"before", b"")
    backend.destroy_key_material(wrapped)
    backend.destroy_key_material(wrapped)
    # The store owns the wrapped bytes; while it still holds them they unwrap again.
    assert backend.decrypt(wrapped, iv, body, b"") == b"before"


def test_known_answer_blob_keeps_decrypting(request: pytest.FixtureRequest, kind: str) -> None:
    backend = _vector_backend(request, kind)
    blob = Blob.unpack(base64.b64decode(VECTOR["ciphertext_blob_base64"]))
    assert (blob.key_id, blob.version) == (VECTOR["key_id"], VECTOR["key_version"])
    wrapped = bytes.fromhex(VECTOR["wrapped_key_material_hex"])
    plaintext = backend.decrypt(wrapped, blob.iv, blob.body, aad(blob.header(), VECTOR["encryption_context"]))
    assert plaintext.decode() == VECTOR["plaintext_utf8"]


def _vector_backend(request: pytest.FixtureRequest, kind: str) -> Backend:
    """A backend holding the vector's test-only domain key under the vector's label."""
    domain_key = bytes.fromhex(VECTOR["domain_key_hex"])
    if kind == "soft":
        return SoftBackend(domain_key, VECTOR["domain_key_label"])
    t: Token = request.getfixturevalue("token")
    # Importing a known key is only acceptable because this token is a throwaway test token.
    with _helper_session(t) as session:
        if not list(session.get_objects({Attribute.LABEL: VECTOR["domain_key_label"]})):
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.AES,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.WRAP: True,
                    Attribute.UNWRAP: True,
                    Attribute.LABEL: VECTOR["domain_key_label"],
                    Attribute.VALUE: domain_key,
                }
            )
    return Pkcs11Backend(t.module, t.label, t.pin, VECTOR["domain_key_label"])


def test_make_backend_builds_the_configured_backend(token: Token) -> None:
    base = env_settings()
    soft = make_backend(dataclasses.replace(base, hsm_backend="soft", soft_domain_key=SOFT_DOMAIN_KEY.hex()))
    assert isinstance(soft, SoftBackend)
    hsm = make_backend(
        dataclasses.replace(
            base,
            hsm_backend="pkcs11",
            pkcs11_module=token.module,
            pkcs11_token_label=token.label,
            pkcs11_pin=token.pin,
            domain_key_label=token.domain_key_label,
        )
    )
    assert isinstance(hsm, Pkcs11Backend)
    assert len(hsm.random(8)) == 8
    with pytest.raises(ValueError):
        make_backend(dataclasses.replace(base, hsm_backend="tpm"))


# PKCS#11 only: what the token holds, and how the backend survives a failing token.


@contextmanager
def _helper_session(token: Token) -> Iterator[Any]:
    """A test's own session on the token; the backend's login (per process) covers it."""
    Pkcs11Backend(token.module, token.label, token.pin, token.domain_key_label).random(1)
    session = pkcs11.lib(token.module).get_token(token_label=token.label).open(rw=True)
    try:
        yield session
    finally:
        session.close()


def _session_keys(token: Token) -> int:
    with _helper_session(token) as session:
        return len(list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.TOKEN: False})))


def test_ensure_domain_key_is_idempotent(token: Token) -> None:
    ensure_domain_key(token.module, token.label, token.pin, token.domain_key_label)
    ensure_domain_key(token.module, token.label, token.pin, token.domain_key_label)
    with _helper_session(token) as session:
        keys = list(session.get_objects({Attribute.LABEL: token.domain_key_label}))
        assert len(keys) == 1
        attributes = keys[0].get_attributes(
            [
                Attribute.TOKEN,
                Attribute.SENSITIVE,
                Attribute.EXTRACTABLE,
                Attribute.NEVER_EXTRACTABLE,
                Attribute.WRAP,
                Attribute.UNWRAP,
                Attribute.ENCRYPT,
                Attribute.DECRYPT,
                Attribute.VALUE_LEN,
            ]
        )
    assert attributes == {
        Attribute.TOKEN: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.NEVER_EXTRACTABLE: True,
        Attribute.WRAP: True,
        Attribute.UNWRAP: True,
        Attribute.ENCRYPT: False,
        Attribute.DECRYPT: False,
        Attribute.VALUE_LEN: 32,
    }


def test_generating_material_leaves_no_object_behind(token: Token, p11: Pkcs11Backend) -> None:
    before = _session_keys(token)
    for _ in range(5):
        p11.generate_key_material()
    assert _session_keys(token) == before


def test_destroy_removes_the_unwrapped_session_object(token: Token, p11: Pkcs11Backend) -> None:
    wrapped = p11.generate_key_material()
    before = _session_keys(token)
    iv, body = p11.encrypt(wrapped, b"x", b"")
    assert _session_keys(token) == before + 1
    p11.decrypt(wrapped, iv, body, b"")
    assert _session_keys(token) == before + 1
    p11.destroy_key_material(wrapped)
    assert _session_keys(token) == before


def test_the_unwrapped_key_cache_is_bounded(token: Token, p11: Pkcs11Backend) -> None:
    for _ in range(UNWRAPPED_CACHE_SIZE + 6):
        p11.encrypt(p11.generate_key_material(), b"x", b"")
    assert _session_keys(token) == UNWRAPPED_CACHE_SIZE


def test_generate_with_a_missing_domain_key_is_an_internal_error(token: Token) -> None:
    backend = Pkcs11Backend(token.module, token.label, token.pin, "no-such-domain-key")
    with pytest.raises(KMSInternalException):
        backend.generate_key_material()


def test_a_closed_session_fails_once_then_recovers(p11: Pkcs11Backend) -> None:
    wrapped = p11.generate_key_material()
    iv, body = p11.encrypt(wrapped, b"x", b"")
    p11._token._session.close()  # type: ignore[union-attr]  # fault injection: the session dies
    with pytest.raises(KMSInternalException) as caught:
        p11.decrypt(wrapped, iv, body, b"")
    assert caught.value.message == HSM_FAILURE
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert p11.decrypt(wrapped, iv, body, b"") == b"x"


def test_a_finalized_library_recovers_on_the_next_call(token: Token, p11: Pkcs11Backend) -> None:
    wrapped = p11.generate_key_material()
    iv, body = p11.encrypt(wrapped, b"x", b"")
    pkcs11.lib(token.module).finalize()
    assert p11.decrypt(wrapped, iv, body, b"") == b"x"
    assert len(p11.random(4)) == 4


def test_a_device_error_is_internal_until_the_library_is_reinitialised(
    p11: Pkcs11Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapped = p11.generate_key_material()
    p11.encrypt(wrapped, b"x", b"")
    real_encrypt = pkcs11.types.EncryptMixin.encrypt
    dead: list[Any] = []

    def encrypt_on_a_dead_connection(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Like a network HSM whose connection dropped: the old session keeps failing.
        dead[:] = dead or [self.session]
        if self.session is dead[0]:
            raise DeviceError()
        return real_encrypt(self, *args, **kwargs)

    monkeypatch.setattr(pkcs11.types.EncryptMixin, "encrypt", encrypt_on_a_dead_connection)
    with pytest.raises(KMSInternalException) as caught:
        p11.encrypt(wrapped, b"x", b"")
    assert caught.value.message == HSM_FAILURE
    iv, body = p11.encrypt(wrapped, b"x", b"")
    assert p11.decrypt(wrapped, iv, body, b"") == b"x"


def test_concurrent_threads_are_serialised(p11: Pkcs11Backend) -> None:
    # Unserialised, python-pkcs11 + SoftHSM2 crash the process here.
    wrapped = [p11.generate_key_material() for _ in range(4)]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(100):
                w = wrapped[(n + i) % len(wrapped)]
                iv, body = p11.encrypt(w, b"payload", b"aad")
                assert p11.decrypt(w, iv, body, b"aad") == b"payload"
                p11.random(12)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_forked_worker_reinitialises_and_shares_material(p11: Pkcs11Backend) -> None:
    wrapped = p11.generate_key_material()
    iv, body = p11.encrypt(wrapped, b"from parent", b"aad")
    epoch = p11._token.library.epoch
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: like a granian worker forked after the parent used the token
        code = 1
        try:
            assert p11.decrypt(wrapped, iv, body, b"aad") == b"from parent"
            assert p11._token.library.epoch == epoch + 1
            material = p11.generate_key_material()
            child_iv, child_body = p11.encrypt(material, b"from child", b"aad")
            os.write(writer, json.dumps([material.hex(), child_iv.hex(), child_body.hex()]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    material, child_iv, child_body = (bytes.fromhex(x) for x in json.loads(output))
    assert p11.decrypt(material, child_iv, child_body, b"aad") == b"from child"
