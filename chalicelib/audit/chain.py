"""Hash chaining of audit records (pure): record hashes, chain ids and the event ids they yield.

A chain is the sequence of records one writer (a worker process, a Lambda container) appended;
many chains grow side by side so that writers never contend for one global head
(docs/decisions/0004-audit-chain.md). Record `seq` of chain `c` carries
`hash = SHA-256(prev || "\\n" || event JSON)`, where `prev` is the hash of record `seq - 1`, or
the chain's genesis hash for record 1. The event's eventID encodes (chain, seq), so a record
names its own position: moving it elsewhere is visible even though its hash still matches.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

CHAIN_ID_HEX = 16
_EVENT_ID = re.compile(r"^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$")


@dataclass(frozen=True)
class Record:
    """One stored audit record: its place, its link to the predecessor, and the event it holds."""

    chain: str
    seq: int
    prev: str
    hash: str
    #: The CloudTrail-shaped event as the exact JSON text that was hashed.
    event: str

    def expected_hash(self) -> str:
        return record_hash(self.prev, self.event)


def new_chain_id() -> str:
    """64 random bits as 16 hex digits: unique across every writer that will ever run."""
    return secrets.token_hex(CHAIN_ID_HEX // 2)


def genesis_hash(chain: str) -> str:
    """The `prev` of a chain's first record."""
    return hashlib.sha256(f"kms-audit-chain-v1:{chain}".encode()).hexdigest()


def record_hash(prev: str, event_json: str) -> str:
    return hashlib.sha256(prev.encode("ascii") + b"\n" + event_json.encode("utf-8")).hexdigest()


def event_id(chain: str, seq: int) -> str:
    """A GUID-shaped event id: 64 bits of chain id, then the 64-bit sequence number."""
    if len(chain) != CHAIN_ID_HEX or not 0 < seq < 2**64:
        raise ValueError("bad chain id or sequence number")
    s = f"{seq:016x}"
    return f"{chain[:8]}-{chain[8:12]}-{chain[12:16]}-{s[:4]}-{s[4:]}"


def parse_event_id(value: str) -> tuple[str, int] | None:
    """(chain, seq) of an event id this service issued, or None."""
    match = _EVENT_ID.match(value.lower()) if isinstance(value, str) else None
    if match is None:
        return None
    a, b, c, d, e = match.groups()
    seq = int(d + e, 16)
    return (a + b + c, seq) if seq > 0 else None


def dumps(value: Any) -> str:
    """The one JSON text form of an event or digest (sorted keys, no spaces) that gets hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(text: str) -> bytes:
    """SHA-256 of a JSON text: what the HSM signs for a digest or a chain registration."""
    return hashlib.sha256(text.encode("utf-8")).digest()
