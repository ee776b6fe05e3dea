"""Audit storage: records, chain registrations and digests in, plain values out.

Every write is a single-item conditional put or update (DESIGN.md §5): a record never
overwrites another, a chain id is registered once, a digest number is taken once.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.audit.chain import Record
from chalicelib.audit.direct import DirectTable
from chalicelib.audit.index import BLOCK_SPAN, IndexFields, at_time, event_fields, shift
from chalicelib.audit.models import AuditChainModel, AuditDigestModel, AuditEventModel
from chalicelib.config import settings
from chalicelib.store.errors import ConditionFailed, store_errors

TRAIL_ITEM = "#trail"
DIGEST_TRAIL = "digest"
#: Index entries read per round trip (and blocks per BatchGetItem).
PAGE = 25
#: Bytes of records per block, well under DynamoDB's 400 KB item limit (a block of one may exceed
#: it only as a single record would have). JSON escaping can add to an event's length: counted
#: generously.
MAX_BLOCK_BYTES = 200_000
_ROW_OVERHEAD = 256


@dataclass(frozen=True)
class StoredEvent:
    record: Record
    fields: IndexFields
    #: The index time of the block that holds the record (None: the record is stored alone).
    block_at: str | None = None


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
        """Store one record durably, as a block of one; raises ConditionFailed if its (chain, seq) is taken."""
        item = block_item([(record, fields)])
        try:
            self._events.put(item, "attribute_not_exists(seq)")
        except ConditionFailed:
            # A retried put whose first attempt had landed finds its own record: that is success.
            stored = self._events.get({"chain": item["chain"], "seq": item["seq"]})
            if stored is None or stored.get("records") != item["records"]:
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
                events = _unpack(m)
                return events[-1].record if events else None
        return None

    def get(self, chain: str, seq: int) -> StoredEvent | None:
        """The record at (chain, seq): found in the block that starts at or before it."""
        with store_errors():
            for m in AuditEventModel.query(chain, AuditEventModel.seq <= seq, scan_index_forward=False, limit=1):
                for e in _unpack(m):
                    if e.record.seq == seq:
                        return e
        return None

    def all_events(self) -> Iterator[StoredEvent]:
        """Every stored record in no particular order (a scan: for the verifier)."""
        with store_errors():
            for m in AuditEventModel.scan():
                yield from _unpack(m)

    def by_days(self, days: list[str], *, before: str, after: str) -> Iterator[StoredEvent]:
        """Records of those days (newest day first), newest first, `after` < at < `before`."""
        entries = itertools.chain.from_iterable(
            self._entries(AuditEventModel.by_day, day, before, after, None) for day in days)
        return self._merge(entries, before, after)

    def by_key(self, key_id: str, *, second: bool, before: str, after: str,
               used_only: bool = False) -> Iterator[StoredEvent]:
        """Records naming the key first (or, `second`, second), newest first, `after` < at < `before`."""
        index = AuditEventModel.by_key2 if second else AuditEventModel.by_key
        condition = AuditEventModel.used == True if used_only else None  # noqa: E712 (a pynamodb condition)
        return self._merge(self._entries(index, key_id, before, after, condition), before, after)

    def _entries(self, index: Any, hash_key: str, before: str, after: str,
                 condition: Condition | None) -> Iterator[Any]:
        # A block is indexed at its newest record, which is at most BLOCK_SPAN after its oldest.
        try:
            upper = shift(before, BLOCK_SPAN)
        except (ValueError, OverflowError):
            upper = before  # not a time: an open upper bound already
        with store_errors():
            yield from index.query(hash_key, AuditEventModel.at.between(after, upper), filter_condition=condition,
                                   scan_index_forward=False, page_size=PAGE)

    def _merge(self, entries: Iterator[Any], before: str, after: str) -> Iterator[StoredEvent]:
        """The records of blocks given newest-indexed first, newest first.

        A block's records are no newer than its index time, and index times come in descending
        order, so once a block indexed at T is read every pending record at or after T is final.
        """
        pending: list[StoredEvent] = []
        while True:
            chunk = list(itertools.islice(entries, PAGE))
            if not chunk:
                break
            keys = [(m.chain, int(m.seq)) for m in chunk]
            with store_errors():
                found = {(m.chain, int(m.seq)): m for m in AuditEventModel.batch_get(keys)}
            for k in keys:
                if k in found:
                    pending.extend(e for e in _unpack(found[k]) if after < e.fields.at < before)
            pending.sort(key=lambda e: e.fields.at, reverse=True)
            watermark = chunk[-1].at
            final = [e for e in pending if e.fields.at >= watermark]
            pending = pending[len(final):]
            yield from final
        yield from pending

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
    """One record with its query attributes, in DynamoDB JSON: a line of the local spool."""
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


def from_event_item(item: dict[str, Any]) -> tuple[Record, IndexFields]:
    """The inverse of `event_item`."""
    def opt(name: str) -> Any:
        value = item.get(name)
        return None if value is None else next(iter(value.values()))

    record = Record(item["chain"]["S"], int(item["seq"]["N"]), item["prev"]["S"], item["hash"]["S"], item["event"]["S"])
    fields = IndexFields(day=item["day"]["S"], at=item["at"]["S"], name=item["name"]["S"], ro=item["ro"]["BOOL"],
                         user=opt("user"), key=opt("key"), key2=opt("key2"), used=opt("used"))
    return record, fields


def pack(entries: list[tuple[Record, IndexFields]],
         max_bytes: int = MAX_BLOCK_BYTES) -> list[list[tuple[Record, IndexFields]]]:
    """Consecutive records of a chain grouped into blocks: same day and key(s), within BLOCK_SPAN,
    and about `max_bytes` of records at most. Greedy from the first entry, so packing a longer
    list that starts the same way yields the same blocks, the last one possibly longer."""
    blocks: list[list[tuple[Record, IndexFields]]] = []
    low = high = None
    size = 0
    for record, fields in entries:
        when = at_time(fields.at)
        grow = len(record.event) + _ROW_OVERHEAD
        if blocks and low is not None and high is not None:
            last, _ = blocks[-1][-1]
            first = blocks[-1][0][1]
            if record.chain == last.chain and record.seq == last.seq + 1 \
                    and (fields.day, fields.key, fields.key2) == (first.day, first.key, first.key2) \
                    and max(high, when) - min(low, when) <= BLOCK_SPAN and size + grow <= max_bytes:
                blocks[-1].append((record, fields))
                low, high, size = min(low, when), max(high, when), size + grow
                continue
        blocks.append([(record, fields)])
        low, high, size = when, when, grow
    return blocks


def block_item(entries: list[tuple[Record, IndexFields]]) -> dict[str, Any]:
    """A block of records (see `pack`) as AuditEventModel stores it, in DynamoDB JSON.

    Built by hand because it is on every call's path (in AWS): pynamodb's construct-and-serialize
    costs ~50 µs. tests/unit/audit/test_repository.py holds it equal to the model's own.
    """
    record, fields = entries[0]
    rows = [[f.at, r.prev, r.hash, r.event] for r, f in entries]
    item: dict[str, Any] = {
        "chain": {"S": record.chain}, "seq": {"N": str(record.seq)},
        "records": {"S": json.dumps(rows, separators=(",", ":"), ensure_ascii=False)},
        "day": {"S": fields.day}, "at": {"S": max(f.at for _, f in entries)},
    }
    if fields.key is not None:
        item["key"] = {"S": fields.key}
    if fields.key2 is not None:
        item["key2"] = {"S": fields.key2}
    if any(f.used for _, f in entries):
        item["used"] = {"BOOL": True}
    return item


def _unpack(m: AuditEventModel) -> list[StoredEvent]:
    """A block's records, each at the position its place in the block gives it (not the one it claims)."""
    chain, first = m.chain, int(m.seq)
    try:
        rows = json.loads(m.records)
    except (TypeError, ValueError):
        rows = None
    if not isinstance(rows, list):
        rows = [None]  # unreadable: reported as a modified first record, the rest as missing
    out = []
    for i, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 4 and all(isinstance(x, str) for x in row)):
            row = ["", "", "", ""]
        at, prev, hash_, text = row
        event = _event_dict(text)
        fields = event_fields(event, at, m.day, m.key, m.key2, m.used)
        out.append(StoredEvent(Record(chain, first + i, prev, hash_, text), fields, m.at))
    return out


def _event_dict(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"eventID": "", "eventName": ""}
    return value if isinstance(value, dict) and "eventID" in value and "eventName" in value \
        else {"eventID": "", "eventName": ""}


def _chain_info(m: AuditChainModel) -> ChainInfo:
    return ChainInfo(
        chain=m.chain, started=m.started, registration=m.registration,
        signature=bytes(m.signature) if m.signature is not None else None, open=m.open is not None,
        sealed_seq=int(m.sealed_seq) if m.sealed_seq is not None else None, sealed_hash=m.sealed_hash,
    )
