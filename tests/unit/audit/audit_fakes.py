"""An in-memory audit repository and a trail builder, so chaining and verifying run without I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.audit.chain import Record
from chalicelib.audit.digest import seal
from chalicelib.audit.events import Caller, api_call_event
from chalicelib.audit.index import IndexFields
from chalicelib.audit.repository import ChainInfo, StoredDigest, StoredEvent
from chalicelib.audit.verify import Report, verify
from chalicelib.audit.writer import ChainWriter
from chalicelib.domain.ids import Scope
from chalicelib.hsm.soft import SoftBackend
from chalicelib.store.errors import ConditionFailed

SCOPE = Scope(region="us-east-1", account_id="111122223333")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
KEY_ID = "7283680d-8ddf-4dcf-aef3-328841bd7dac"


class MemoryRepository:
    """The AuditRepository contract over dicts; tests tamper with `events` directly."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, int], StoredEvent] = {}
        self.chain_items: dict[str, ChainInfo] = {}
        self.digest_items: dict[int, StoredDigest] = {}
        self.trail_started: datetime | None = None
        self.fail_appends = False

    def append(self, record: Record, fields: IndexFields) -> None:
        if self.fail_appends:
            from chalicelib.errors import DependencyTimeoutException

            raise DependencyTimeoutException("store down")
        if (record.chain, record.seq) in self.events:
            raise ConditionFailed()
        self.events[(record.chain, record.seq)] = StoredEvent(record, fields)

    def register_chain(self, chain: str, started: datetime, registration: str, signature: bytes) -> None:
        if chain in self.chain_items:
            raise ConditionFailed()
        self.chain_items[chain] = ChainInfo(chain, started, registration, signature, True, None, None)

    def mark_trail_start(self, started: datetime) -> None:
        self.trail_started = self.trail_started or started

    def trail_start(self) -> datetime | None:
        return self.trail_started

    def chains(self) -> list[ChainInfo]:
        return list(self.chain_items.values())

    def open_chains(self) -> list[ChainInfo]:
        return [c for c in self.chain_items.values() if c.open]

    def mark_sealed(self, chain: str, seq: int | None, hash_: str | None, close: bool) -> None:
        info = self.chain_items[chain]
        if seq is not None:
            info = dataclasses.replace(info, sealed_seq=seq, sealed_hash=hash_)
        if close:
            info = dataclasses.replace(info, open=False)
        self.chain_items[chain] = info

    def head(self, chain: str) -> Record | None:
        seqs = [s for (c, s) in self.events if c == chain]
        return self.events[(chain, max(seqs))].record if seqs else None

    def all_events(self) -> list[StoredEvent]:
        return list(self.events.values())

    def last_digest(self) -> StoredDigest | None:
        return self.digest_items[max(self.digest_items)] if self.digest_items else None

    def digests(self) -> list[StoredDigest]:
        return [self.digest_items[k] for k in sorted(self.digest_items)]

    def put_digest(self, seq: int, body: str, signature: bytes) -> None:
        if seq in self.digest_items:
            raise ConditionFailed()
        self.digest_items[seq] = StoredDigest(seq, body, signature)

    # Tampering helpers: what an attacker with write access to the tables could do.
    def records(self, chain: str) -> list[StoredEvent]:
        return [self.events[k] for k in sorted(k for k in self.events if k[0] == chain)]

    def move(self, chain: str, from_seq: int, to_seq: int) -> None:
        """Store the item found at `from_seq` under `to_seq` (its content untouched)."""
        item = self.events.pop((chain, from_seq))
        self.events[(chain, to_seq)] = StoredEvent(dataclasses.replace(item.record, seq=to_seq), item.fields)


class Trail:
    """A writer, a sealer and a verifier sharing one memory repository and one soft HSM."""

    def __init__(self, chain_seconds: float = 900.0) -> None:
        self.repo = MemoryRepository()
        self.hsm = SoftBackend()
        self.chain_seconds = chain_seconds
        self.writer = ChainWriter(self.repo, self.hsm, chain_seconds)  # type: ignore[arg-type]
        self.now = T0
        #: How far the clock moves per call.
        self.tick = timedelta(seconds=1)

    def call(self, name: str = "Encrypt", *, request: Any = None, response: dict[str, Any] | None = None,
             error: Any = None, writer: ChainWriter | None = None) -> str:
        """Append one API call record; the clock moves one tick (a second unless set)."""
        from chalicelib.api.shapes import operation

        self.now += self.tick
        when = self.now
        request = request if request is not None else {"KeyId": KEY_ID, "Plaintext": "c2VjcmV0"}
        build: Callable[[str], dict[str, Any]] = lambda eid: api_call_event(  # noqa: E731
            event_id=eid, name=name, source="kms.amazonaws.com", when=when, scope=SCOPE,
            caller=Caller("192.0.2.1", "test-agent", "AKIAIOSFODNN7EXAMPLE"), request_id="req-" + eid,
            operation=operation(name), request=request, response=response, error=error,
        )
        return (writer or self.writer).append(when, build)

    def seal(self) -> int | None:
        return seal(self.repo, self.hsm, self.now, self.chain_seconds)  # type: ignore[arg-type]

    def verify(self) -> Report:
        return verify(self.repo.all_events(), self.repo.chains(), self.repo.digests(),
                      self.hsm.audit_public_key())

    def chain(self) -> str:
        (chain,) = {c for (c, _) in self.repo.events}
        return chain
