"""Checking the audit key's signatures (ECDSA P-256 over SHA-256, r || s) without the HSM."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature


def verify_signature(public_key_der: bytes, digest: bytes, signature: bytes) -> bool:
    """Whether `signature` (r || s) signs the 32-byte `digest` under the DER public key."""
    if len(signature) != 64 or len(digest) != 32:
        return False
    try:
        key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        return False
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return False
    return True


def to_pem(public_key_der: bytes) -> str:
    key = serialization.load_der_public_key(public_key_der)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def from_pem(text: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of a PEM (or DER) public key."""
    key = (serialization.load_pem_public_key(text) if text.lstrip().startswith(b"-----")
           else serialization.load_der_public_key(text))
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
