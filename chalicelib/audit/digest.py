"""Sealing: the heads of the chains that grew since the last digest, signed into a new digest.

A digest is JSON naming its number, its time, the SHA-256 of its predecessor's JSON, the
(seq, hash) head of each chain that grew, and the chains it closes; the HSM's audit key signs
its SHA-256. Digests form a chain of their own, so one missing from the middle is visible.
A chain is closed once its writer can no longer append to it (its age passed
`audit_chain_seconds` plus a grace period), after which no record may join it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from chalicelib.audit.chain import Record, digest_of, dumps
from chalicelib.audit.repository import AuditRepository
from chalicelib.hsm.protocol import Backend
from chalicelib.store.errors import ConditionFailed

log = logging.getLogger(__name__)

#: Appends in flight when a chain reaches its age, and clock skew between writers and sealer.
CLOSE_GRACE = timedelta(minutes=5)
DIGEST_VERSION = 1


def digest_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def seal(repo: AuditRepository, hsm: Backend, now: datetime, chain_seconds: float) -> int | None:
    """Write the next digest if any open chain grew or expired; return its number (None: nothing to do)."""
    previous = repo.last_digest()
    heads: dict[str, Record] = {}
    closing: list[str] = []
    sealed: dict[str, tuple[int | None, str | None]] = {}
    for info in repo.open_chains():
        head = repo.head(info.chain)
        if head is not None and head.seq > (info.sealed_seq or 0):
            heads[info.chain] = head
        elif info.sealed_seq is not None and (head is None or head.seq < info.sealed_seq):
            # Records a digest already sealed are gone: never seal the shorter chain (the
            # verifier names what is missing).
            log.warning("audit chain %s is shorter than its sealed head; not sealing it", info.chain)
        if now - info.started > timedelta(seconds=chain_seconds) + CLOSE_GRACE:
            closing.append(info.chain)
        sealed[info.chain] = (info.sealed_seq, info.sealed_hash)
    if not heads and not closing:
        return None
    seq = previous.seq + 1 if previous else 1
    body = dumps({
        "version": DIGEST_VERSION,
        "seq": seq,
        "time": now.isoformat(),
        "previous": digest_hash(previous.body) if previous else None,
        "chains": {chain: {"seq": head.seq, "hash": head.hash} for chain, head in sorted(heads.items())},
        "closed": sorted(closing),
    })
    signature = hsm.audit_sign(digest_of(body))
    try:
        repo.put_digest(seq, body, signature)
    except ConditionFailed:
        log.info("digest %d was written by another sealer", seq)
        return None
    for chain in sorted(set(heads) | set(closing)):
        head = heads.get(chain)
        seal_seq, seal_hash = (head.seq, head.hash) if head else sealed[chain]
        repo.mark_sealed(chain, seal_seq, seal_hash, close=chain in closing)
    return seq
