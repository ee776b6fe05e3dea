"""The audit signing key: EC P-256 held by the HSM, signing SHA-256 digests (CKM_ECDSA on SoftHSM2)."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest
from pkcs11 import Attribute, KeyType, ObjectClass

from chalicelib.audit.signing import from_pem, to_pem, verify_signature
from chalicelib.errors import KMSInternalException
from chalicelib.hsm import pkcs11 as pkcs11_backend
from chalicelib.hsm.pkcs11 import Pkcs11Backend, _token, ensure_audit_key
from chalicelib.hsm.soft import SoftBackend

AUDIT_LABEL = "test-audit-signing-1"


@pytest.fixture(params=["soft", "pkcs11"])
def backend(request: pytest.FixtureRequest) -> Any:
    if request.param == "soft":
        return SoftBackend()
    t = request.getfixturevalue("softhsm_token")
    ensure_audit_key(t.module, t.label, t.pin, AUDIT_LABEL)
    return Pkcs11Backend(t.module, t.label, t.pin, t.domain_key_label, AUDIT_LABEL)


def test_signature_verifies_under_the_public_key(backend: Any) -> None:
    digest = hashlib.sha256(b"digest body").digest()
    signature = backend.audit_sign(digest)
    public = backend.audit_public_key()
    assert len(signature) == 64
    assert verify_signature(public, digest, signature)
    assert not verify_signature(public, hashlib.sha256(b"other").digest(), signature)
    assert not verify_signature(public, digest, signature[:32] + bytes(32))
    assert from_pem(to_pem(public).encode()) == public


def test_only_sha256_digests_are_signed(backend: Any) -> None:
    with pytest.raises(ValueError):
        backend.audit_sign(b"not a digest")


def test_provisioning_is_idempotent_and_the_private_key_never_leaves(softhsm_token: Any) -> None:
    t = softhsm_token
    ensure_audit_key(t.module, t.label, t.pin, AUDIT_LABEL)
    ensure_audit_key(t.module, t.label, t.pin, AUDIT_LABEL)
    token = _token(t.module, t.label, t.pin)
    with pkcs11_backend._LOCK:  # the one-lock rule holds in tests too
        session = token.session()
        (private,) = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.EC,
                                          Attribute.LABEL: AUDIT_LABEL})
        assert private[Attribute.SENSITIVE] and not private[Attribute.EXTRACTABLE]


def test_missing_audit_key_is_an_internal_error(softhsm_token: Any) -> None:
    t = softhsm_token
    backend = Pkcs11Backend(t.module, t.label, t.pin, t.domain_key_label, "no-such-audit-key")
    with pytest.raises(KMSInternalException):
        backend.audit_sign(bytes(32))


def test_signing_from_threads_is_serialised(backend: Any) -> None:
    digest = hashlib.sha256(b"x").digest()
    public = backend.audit_public_key()
    results: list[bool] = []

    def sign() -> None:
        for _ in range(20):
            results.append(verify_signature(public, digest, backend.audit_sign(digest)))

    threads = [threading.Thread(target=sign) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [True] * 80
