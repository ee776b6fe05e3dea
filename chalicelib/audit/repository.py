"""Audit storage: records, chain registrations and digests in, plain values out.

Every write is a single-item conditional put or update (DESIGN.md §5): a record never
overwrites another, a chain id is registered once, a digest number is taken once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.audit.chain import Record
from chalicelib.audit.direct import DirectTable
from chalicelib.audit.index import IndexFields
from chalicelib.audit.models import AuditChainModel, AuditDigestModel, AuditEventModel
from chalicelib.config import settings
from chalicelib.store.errors import ConditionFailed, store_errors

TRAIL_ITEM = "#trail"
DIGEST_TRAIL = "digest"


@dataclass(frozen=True)
class StoredEvent:
    record: Record
    fields: IndexFields


@dataclass(frozen=True)
class ChainInfo:
    chain: str
    started: datetime
    registration: str | None
    signature: bytes | None
    open: bool
    sealed_seq: int | None
    sealed_hash: str | None


@dataclass(frozen=True)
class StoredDigest:
    seq: int
    body: str
    signature: bytes


class AuditRepository:
    def __init__(self) -> None:
        s = settings()
        self._events = DirectTable(s.audit_events_table, s.region, s.dynamodb_endpoint)

    def append(self, record: Record, fields: IndexFields) -> None:
        """Store one record durably; raises ConditionFailed if its (chain, seq) holds another one."""
        item = event_item(record, fields)
        try:
            self._events.put(item, "attribute_not_exists(seq)")
        except ConditionFailed:
            # A retried put whose first attempt had landed finds its own record: that is success.
            stored = self._events.get({"chain": item["chain"], "seq": item["seq"]})
            if stored is None or stored.get("hash") != item["hash"]:
                raise

    def register_chain(self, chain: str, started: datetime, registration: str, signature: bytes) -> None:
        """Register a new chain as open; raises ConditionFailed if the id is taken."""
        item = AuditChainModel(chain=chain, started=started, registration=registration,
                               signature=signature, open="open")
        with store_errors():
            item.save(condition=AuditChainModel.chain.does_not_exist())

    def mark_trail_start(self, started: datetime) -> None:
        """Record when the trail began, unless an earlier writer did."""
        try:
            with store_errors():
                AuditChainModel(chain=TRAIL_ITEM, started=started).save(
                    condition=AuditChainModel.chain.does_not_exist())
        except ConditionFailed:
            pass

    def trail_start(self) -> datetime | None:
        with store_errors():
            try:
                return AuditChainModel.get(TRAIL_ITEM).started
            except AuditChainModel.DoesNotExist:
                return None

    def chains(self) -> list[ChainInfo]:
        """Every registered chain (a scan: for the verifier, not for request paths)."""
        with store_errors():
            return [_chain_info(m) for m in AuditChainModel.scan() if m.chain != TRAIL_ITEM]

    def open_chains(self) -> list[ChainInfo]:
        with store_errors():
            ids = [m.chain for m in AuditChainModel.open_chains.query("open")]
            return [_chain_info(m) for m in AuditChainModel.batch_get(ids)] if ids else []

    def mark_sealed(self, chain: str, seq: int | None, hash_: str | None, close: bool) -> None:
        """Remember the head a digest sealed (a cache of the digests); `close` ends the chain."""
        actions: list[Any] = []
        if seq is not None and hash_ is not None:
            actions += [AuditChainModel.sealed_seq.set(seq), AuditChainModel.sealed_hash.set(hash_)]
        if close:
            actions.append(AuditChainModel.open.remove())
        if not actions:
            return
        with store_errors():
            AuditChainModel(chain=chain).update(actions=actions, condition=AuditChainModel.chain.exists())

    def head(self, chain: str) -> Record | None:
        """The chain's last stored record."""
        with store_errors():
            for m in AuditEventModel.query(chain, scan_index_forward=False, limit=1):
                return _record(m)
        return None

    def get(self, chain: str, seq: int) -> StoredEvent | None:
        with store_errors():
            try:
                return _stored(AuditEventModel.get(chain, seq))
            except AuditEventModel.DoesNotExist:
                return None

    def all_events(self) -> Iterator[StoredEvent]:
        """Every stored record in no particular order (a scan: for the verifier)."""
        with store_errors():
            for m in AuditEventModel.scan():
                yield _stored(m)

    def by_day(self, day: str, *, before: str, after: str, limit: int,
               condition: Condition | None = None) -> tuple[list[StoredEvent], bool]:
        """Newest first, `after` < at < `before`; also whether the day may hold more."""
        return self._query(AuditEventModel.by_day, day, before, after, limit, condition)

    def by_key(self, key_id: str, *, second: bool, before: str, after: str, limit: int,
               condition: Condition | None = None) -> tuple[list[StoredEvent], bool]:
        index = AuditEventModel.by_key2 if second else AuditEventModel.by_key
        return self._query(index, key_id, before, after, limit, condition)

    def _query(self, index: Any, hash_key: str, before: str, after: str, limit: int,
               condition: Condition | None) -> tuple[list[StoredEvent], bool]:
        with store_errors():
            result = index.query(
                hash_key, AuditEventModel.at.between(after, before), filter_condition=condition,
                scan_index_forward=False, limit=limit, page_size=max(limit, 25),
            )
            # between() is inclusive; the bounds are exclusive cursors.
            keys = [(m.chain, int(m.seq)) for m in result if after < m.at < before]
            more = result.last_evaluated_key is not None
            # The indexes hold keys only: fetch the records, in the index's order.
            found = {(m.chain, int(m.seq)): _stored(m) for m in AuditEventModel.batch_get(keys)} if keys else {}
        return [found[k] for k in keys if k in found], more

    def last_digest(self) -> StoredDigest | None:
        with store_errors():
            for m in AuditDigestModel.query(DIGEST_TRAIL, scan_index_forward=False, limit=1):
                return StoredDigest(int(m.seq), m.body, bytes(m.signature))
        return None

    def digests(self) -> list[StoredDigest]:
        with store_errors():
            return [StoredDigest(int(m.seq), m.body, bytes(m.signature))
                    for m in AuditDigestModel.query(DIGEST_TRAIL)]

    def put_digest(self, seq: int, body: str, signature: bytes) -> None:
        """Store digest `seq`; raises ConditionFailed if another sealer took the number."""
        with store_errors():
            AuditDigestModel(trail=DIGEST_TRAIL, seq=seq, body=body, signature=signature).save(
                condition=AuditDigestModel.seq.does_not_exist())


def event_item(record: Record, fields: IndexFields) -> dict[str, Any]:
    """The record as AuditEventModel stores it, in DynamoDB JSON.

    Built by hand because it is on every call's path: pynamodb's construct-and-serialize costs
    ~50 µs, this ~3 µs. tests/unit/audit/test_repository.py holds it equal to the model's own.
    """
    item: dict[str, Any] = {
        "chain": {"S": record.chain}, "seq": {"N": str(record.seq)}, "prev": {"S": record.prev},
        "hash": {"S": record.hash}, "event": {"S": record.event}, "day": {"S": fields.day},
        "at": {"S": fields.at}, "name": {"S": fields.name}, "ro": {"BOOL": fields.ro},
    }
    if fields.user is not None:
        item["user"] = {"S": fields.user}
    if fields.key is not None:
        item["key"] = {"S": fields.key}
    if fields.key2 is not None:
        item["key2"] = {"S": fields.key2}
    if fields.used is not None:
        item["used"] = {"BOOL": fields.used}
    return item


def _record(m: AuditEventModel) -> Record:
    return Record(chain=m.chain, seq=int(m.seq), prev=m.prev, hash=m.hash, event=m.event)


def _stored(m: AuditEventModel) -> StoredEvent:
    fields = IndexFields(day=m.day, at=m.at, name=m.name, ro=bool(m.ro), user=m.user, key=m.key,
                         key2=m.key2, used=m.used)
    return StoredEvent(_record(m), fields)


def _chain_info(m: AuditChainModel) -> ChainInfo:
    return ChainInfo(
        chain=m.chain, started=m.started, registration=m.registration,
        signature=bytes(m.signature) if m.signature is not None else None, open=m.open is not None,
        sealed_seq=int(m.sealed_seq) if m.sealed_seq is not None else None, sealed_hash=m.sealed_hash,
    )
