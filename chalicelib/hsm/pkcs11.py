"""The Backend protocol on a PKCS#11 token: SoftHSM2 locally, a network HSM (e.g. CloudHSM) in AWS.

Every call into the library holds one process-wide lock, because python-pkcs11 with SoftHSM2
crashes (SIGSEGV) when called from several threads; the service scales with processes instead.
The session, the login and the key handles are opened lazily and kept for the process, because
open + login costs ~0.7 ms and a find-by-label ~60 µs against ~15 µs for a 4 KiB AES-GCM.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass, Session
from pkcs11.exceptions import EncryptedDataInvalid, EncryptedDataLenRange, GeneralError, PKCS11Error
from pkcs11.mechanisms import GCMParams
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from chalicelib.errors import InvalidCiphertextException, KMSInternalException
from chalicelib.hsm import IV_SIZE, KEY_UNUSABLE, TAG_SIZE, pack_wrapped, unpack_wrapped

log = logging.getLogger(__name__)

UNWRAPPED_CACHE_SIZE = 1024
HSM_FAILURE = "The HSM could not complete the request."

# SoftHSM2 2.6.1 reports a GCM tag mismatch as CKR_GENERAL_ERROR; PKCS#11 3.0 modules answer
# CKR_ENCRYPTED_DATA_INVALID. Either way the caller sent a ciphertext we cannot open.
_AUTHENTICATION_FAILURES = (GeneralError, EncryptedDataInvalid, EncryptedDataLenRange)

_DOMAIN_KEY_TEMPLATE = {
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.MODIFIABLE: False,
}
# Extractable only so that C_WrapKey accepts it; sensitive, so its value is never readable.
_FRESH_KEY_TEMPLATE = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: True}
_WORKING_KEY_TEMPLATE = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
_AUDIT_PRIVATE_TEMPLATE = {
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.MODIFIABLE: False,
}
#: SoftHSM2 2.6.1 has no CKM_ECDSA_SHA256: the audit key signs a SHA-256 digest with CKM_ECDSA.
_AUDIT_CURVE = "secp256r1"

# python-pkcs11 builds each key object's class from capability mixins at run time (a key without
# ENCRYPT has no encrypt()), so key handles have no useful static type.
_Key = Any

_LOCK = threading.Lock()


def _reset_lock_in_child() -> None:
    global _LOCK
    # A parent thread may have held the lock when another one forked; that holder does not exist
    # in the child, so the child starts with a free lock.
    _LOCK = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_in_child)


class _Library:
    """The loaded PKCS#11 module; `epoch` changes each time it is (re)initialised."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.epoch = 0
        self.failed = False
        self._lib: Any = None
        self._pid = 0

    def get(self) -> Any:
        """The initialised module, re-initialised after a fork, a failure or a finalize elsewhere."""
        if self._lib is not None and self.alive(self.epoch):
            return self._lib
        if self._lib is None:
            self._lib = pkcs11.lib(self.path)
        else:
            # PKCS#11 requires a forked child to call C_Initialize itself, and a network HSM whose
            # connection dropped stays failed until the library is re-initialised.
            try:
                self._lib.finalize()
            except PKCS11Error:
                pass  # a dead connection may refuse to finalise; initialising afresh is what counts
            self._lib.initialize()
        self._pid = os.getpid()
        self.epoch += 1
        self.failed = False
        return self._lib

    def alive(self, epoch: int) -> bool:
        """Whether handles obtained in `epoch` are still valid in this process."""
        return (
            epoch == self.epoch
            and not self.failed
            and self._pid == os.getpid()
            and self._lib is not None
            and self._lib.initialized
        )


class _Token:
    """This process's one logged-in session on a token, and the key handles living in it.

    PKCS#11 login belongs to the process, not the session: a second C_Login fails with
    CKR_USER_ALREADY_LOGGED_IN and C_Logout ends every session's login. So all backend instances
    on a token share this object instead of each holding a session.
    """

    def __init__(self, library: _Library, label: str, pin: str) -> None:
        self.library = library
        self._label = label
        self._pin = pin
        self._session: Session | None = None
        self._epoch = 0
        self._domain_keys: dict[str, _Key] = {}
        self._audit_keys: dict[str, tuple[_Key, _Key]] = {}
        self._unwrapped: OrderedDict[bytes, _Key] = OrderedDict()

    def session(self) -> Session:
        """The logged-in R/W session, reopened when the library was (re)initialised since."""
        lib = self.library.get()
        if self._session is None or self._epoch != self.library.epoch:
            # Handles of an earlier epoch died with their session: drop them, nothing to destroy.
            self._drop_handles()
            self._session = lib.get_token(token_label=self._label).open(rw=True, user_pin=self._pin)
            self._epoch = self.library.epoch
        return self._session

    def find_domain_key(self, label: str) -> _Key | None:
        """The domain key with this label, or None; the handle is cached for the session."""
        session = self.session()
        key = self._domain_keys.get(label)
        if key is None:
            # Filtering on WRAP/UNWRAP keeps an unrelated key that shares the label out.
            found = list(
                session.get_objects(
                    {
                        Attribute.CLASS: ObjectClass.SECRET_KEY,
                        Attribute.KEY_TYPE: KeyType.AES,
                        Attribute.LABEL: label,
                        Attribute.WRAP: True,
                        Attribute.UNWRAP: True,
                    }
                )
            )
            if len(found) > 1:
                raise KMSInternalException(KEY_UNUSABLE)
            if not found:
                return None
            key = self._domain_keys[label] = found[0]
        return key

    def find_audit_key(self, label: str) -> tuple[_Key, _Key] | None:
        """(private, public) handles of the EC audit signing key pair with this label, or None."""
        session = self.session()
        pair = self._audit_keys.get(label)
        if pair is None:
            halves = []
            for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                found = list(session.get_objects(
                    {Attribute.CLASS: object_class, Attribute.KEY_TYPE: KeyType.EC, Attribute.LABEL: label}
                ))
                if len(found) > 1:
                    raise KMSInternalException(KEY_UNUSABLE)
                if not found:
                    return None
                halves.append(found[0])
            pair = self._audit_keys[label] = (halves[0], halves[1])
        return pair

    def audit_key(self, label: str) -> tuple[_Key, _Key]:
        """The audit signing key pair; its absence is an internal error (provisioned at start-up)."""
        pair = self.find_audit_key(label)
        if pair is None:
            raise KMSInternalException(KEY_UNUSABLE)
        return pair

    def domain_key(self, label: str) -> _Key:
        """The domain key with this label; its absence is an internal error."""
        key = self.find_domain_key(label)
        if key is None:
            raise KMSInternalException(KEY_UNUSABLE)
        return key

    def unwrapped(self, wrapped: bytes) -> _Key:
        """A session object holding the key in `wrapped`, from a bounded LRU cache."""
        self.session()
        key = self._unwrapped.get(wrapped)
        if key is not None:
            self._unwrapped.move_to_end(wrapped)
            return key
        label, wrapped_key = unpack_wrapped(wrapped)
        key = self.domain_key(label).unwrap_key(
            ObjectClass.SECRET_KEY,
            KeyType.AES,
            wrapped_key,
            mechanism=Mechanism.AES_KEY_WRAP_PAD,
            store=False,
            capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
            template=_WORKING_KEY_TEMPLATE,
        )
        self._unwrapped[wrapped] = key
        if len(self._unwrapped) > UNWRAPPED_CACHE_SIZE:
            _, evicted = self._unwrapped.popitem(last=False)
            evicted.destroy()
        return key

    def forget(self, wrapped: bytes) -> _Key | None:
        """Remove the cached object for `wrapped`; return it if it still lives in the HSM."""
        key = self._unwrapped.pop(wrapped, None)
        return key if key is not None and self.library.alive(self._epoch) else None

    def fail(self) -> None:
        """Give up the session and every handle; the next call re-initialises the library."""
        self.library.failed = True
        self._session = None
        self._drop_handles()

    def _drop_handles(self) -> None:
        self._domain_keys.clear()
        self._audit_keys.clear()
        self._unwrapped.clear()


_libraries: dict[str, _Library] = {}
_tokens: dict[tuple[str, str], _Token] = {}


def _token(module_path: str, token_label: str, pin: str) -> _Token:
    with _LOCK:
        library = _libraries.setdefault(module_path, _Library(module_path))
        return _tokens.setdefault((module_path, token_label), _Token(library, token_label, pin))


@contextmanager
def _hsm_call(token: _Token) -> Iterator[None]:
    """Turn a PKCS#11 failure into a retryable KMSInternalException and schedule recovery."""
    try:
        yield
    except PKCS11Error as exc:
        # The class name is enough to diagnose and never carries key bytes.
        log.warning("PKCS#11 call failed (%s); re-initialising on the next call", type(exc).__name__)
        token.fail()
        raise KMSInternalException(HSM_FAILURE) from None


def ensure_domain_key(module_path: str, token_label: str, pin: str, domain_key_label: str) -> None:
    """Create the AES-256 domain key on the token unless it exists (run once before workers start)."""
    token = _token(module_path, token_label, pin)
    with _LOCK, _hsm_call(token):
        if token.find_domain_key(domain_key_label) is None:
            token.session().generate_key(
                KeyType.AES,
                256,
                label=domain_key_label,
                store=True,
                capabilities=MechanismFlag.WRAP | MechanismFlag.UNWRAP,
                template=_DOMAIN_KEY_TEMPLATE,
            )


def ensure_audit_key(module_path: str, token_label: str, pin: str, audit_key_label: str) -> None:
    """Create the EC P-256 audit signing key pair on the token unless it exists (before workers start)."""
    token = _token(module_path, token_label, pin)
    with _LOCK, _hsm_call(token):
        if token.find_audit_key(audit_key_label) is None:
            parameters = token.session().create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(_AUDIT_CURVE)}, local=True
            )
            parameters.generate_keypair(
                store=True,
                label=audit_key_label,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                private_template=_AUDIT_PRIVATE_TEMPLATE,
            )


class Pkcs11Backend:
    """Key material generated and used inside the token, stored outside only wrapped (RFC 5649)."""

    def __init__(self, module_path: str, token_label: str, pin: str, domain_key_label: str,
                 audit_key_label: str = "kms-audit-signing-1") -> None:
        # No PKCS#11 call here: the session opens on first use, in the worker that uses it.
        self._token = _token(module_path, token_label, pin)
        self._domain_key_label = domain_key_label
        self._audit_key_label = audit_key_label

    def generate_key_material(self) -> bytes:
        """A 256-bit AES key generated in the HSM, returned wrapped under the domain key."""
        with _LOCK, _hsm_call(self._token):
            domain_key = self._token.domain_key(self._domain_key_label)
            key = self._token.session().generate_key(
                KeyType.AES,
                256,
                store=False,
                capabilities=MechanismFlag(0),
                template=_FRESH_KEY_TEMPLATE,
            )
            try:
                wrapped_key = domain_key.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP_PAD)
            finally:
                key.destroy()
        return pack_wrapped(self._domain_key_label, wrapped_key)

    def encrypt(self, wrapped: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """AES-256-GCM with a fresh 96-bit IV from the HSM's RNG: (iv, ciphertext || tag)."""
        with _LOCK, _hsm_call(self._token):
            key = self._token.unwrapped(wrapped)
            iv = self._token.session().generate_random(IV_SIZE * 8)
            body: bytes = key.encrypt(
                plaintext, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad, TAG_SIZE * 8)
            )
        return iv, body

    def decrypt(self, wrapped: bytes, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Inverse of encrypt; every authentication failure is InvalidCiphertextException."""
        if len(iv) != IV_SIZE or len(ciphertext) < TAG_SIZE:
            raise InvalidCiphertextException("")
        with _LOCK, _hsm_call(self._token):
            key = self._token.unwrapped(wrapped)
            try:
                plaintext: bytes = key.decrypt(
                    ciphertext,
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(iv, aad, TAG_SIZE * 8),
                )
            except _AUTHENTICATION_FAILURES:
                # A device failure reported as CKR_GENERAL_ERROR lands here too; if the token is
                # really broken, the next call fails with a session error and recovers then.
                raise InvalidCiphertextException("") from None
        return plaintext

    def random(self, size: int) -> bytes:
        """`size` bytes from the HSM's random generator."""
        if size < 0:
            raise ValueError("size must not be negative")
        if size == 0:
            return b""  # python-pkcs11 cannot hand the module an empty buffer
        with _LOCK, _hsm_call(self._token):
            return self._token.session().generate_random(size * 8)

    def destroy_key_material(self, wrapped: bytes) -> None:
        """Destroy the cached session object unwrapped from `wrapped`, if this process has one."""
        with _LOCK, _hsm_call(self._token):
            key = self._token.forget(wrapped)
            if key is not None:
                key.destroy()

    def audit_sign(self, digest: bytes) -> bytes:
        """ECDSA P-256 (CKM_ECDSA) over a SHA-256 digest with the audit key: r || s, 64 bytes."""
        if len(digest) != 32:
            raise ValueError("the audit key signs SHA-256 digests only")
        with _LOCK, _hsm_call(self._token):
            private, _ = self._token.audit_key(self._audit_key_label)
            signature: bytes = private.sign(digest, mechanism=Mechanism.ECDSA)
        return signature

    def audit_public_key(self) -> bytes:
        """DER SubjectPublicKeyInfo of the audit signing key."""
        with _LOCK, _hsm_call(self._token):
            _, public = self._token.audit_key(self._audit_key_label)
            der: bytes = encode_ec_public_key(public)
        return der
