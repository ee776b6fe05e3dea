"""The verifier (pure): walk chains, registrations and digests and name every damaged record.

Findings, each with the record's chain, position and event id (or the digest's number):

- modified: a record whose content no longer matches its hash, whose hash no longer matches
  its successor's link or the head a digest sealed, or whose query attributes (its own time,
  its block's day, key(s), `used` and index time) disagree with it, so queries would miss it;
- deleted: a position of a chain with no record (a gap, or a sealed head that is gone), a
  missing digest, a missing chain registration;
- inserted: a record no chain position explains (a second claimant of a position, an event id
  of another chain, a record in an unregistered or closed chain);
- reordered: records stored out of the order in which they were written (across blocks or
  within one: a record's stored position is its block's first position plus its place in it);
- signature: a digest or chain registration whose ECDSA signature fails.

Limits (docs/audit.md): records appended after the newest digest can be cut off the end of
their chain, or the chain rewritten from some point on, without a trace until a digest seals
them; that is why digests are frequent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.audit.chain import digest_of, event_id, genesis_hash, parse_event_id
from chalicelib.audit.digest import digest_hash
from chalicelib.audit.index import BLOCK_SPAN, index_problems, shift
from chalicelib.audit.repository import ChainInfo, StoredDigest, StoredEvent
from chalicelib.audit.signing import verify_signature

MODIFIED, DELETED, INSERTED, REORDERED, SIGNATURE = "modified", "deleted", "inserted", "reordered", "signature"


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    chain: str | None = None
    seq: int | None = None
    event_id: str | None = None
    digest: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    records: int = 0
    chains: int = 0
    digests: int = 0
    #: Records at or below a head some valid digest sealed.
    sealed_records: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, detail: str, **where: Any) -> None:
        self.findings.append(Finding(kind, detail, **where))


@dataclass(frozen=True)
class _Seal:
    seq: int
    hash: str
    digest: int


def verify(
    events: Iterable[StoredEvent],
    chains: Iterable[ChainInfo],
    digests: Iterable[StoredDigest],
    public_key: bytes,
) -> Report:
    """Check everything the trail holds against itself, its digests and the audit public key."""
    report = Report()
    sealed, closed = _check_digests(sorted(digests, key=lambda d: d.seq), public_key, report)
    registered = _check_registrations(list(chains), public_key, report, sealed)
    by_chain: dict[str, list[StoredEvent]] = defaultdict(list)
    for e in events:
        by_chain[e.record.chain].append(e)
        report.records += 1
    report.chains = len(set(by_chain) | set(registered) | set(sealed))
    for chain in sorted(set(by_chain) | set(sealed)):
        records = sorted(by_chain.get(chain, []), key=lambda e: e.record.seq)
        if chain not in registered:
            for e in records:
                report.add(INSERTED, "record in a chain without a valid signed registration",
                           chain=chain, seq=e.record.seq, event_id=_event_id_of(e))
            continue
        _check_chain(chain, records, sealed.get(chain, []), chain in closed, report)
    return report


def _check_digests(
    digests: list[StoredDigest], public_key: bytes, report: Report
) -> tuple[dict[str, list[_Seal]], set[str]]:
    sealed: dict[str, list[_Seal]] = {}
    closed: set[str] = set()
    expected_seq, previous_hash = 1, None
    for d in digests:
        report.digests += 1
        if d.seq > expected_seq:
            for missing in range(expected_seq, d.seq):
                report.add(DELETED, "digest missing from the digest chain", digest=missing)
        if not verify_signature(public_key, digest_of(d.body), d.signature):
            report.add(SIGNATURE, "digest signature does not verify under the audit key", digest=d.seq)
            expected_seq, previous_hash = d.seq + 1, None
            continue
        body = json.loads(d.body)
        if body.get("seq") != d.seq:
            report.add(REORDERED, f"digest {body.get('seq')} is stored as digest {d.seq}", digest=d.seq)
        elif previous_hash is not None and body.get("previous") != previous_hash and d.seq == expected_seq:
            report.add(MODIFIED, "digest does not link to its predecessor", digest=d.seq)
        for chain, head in (body.get("chains") or {}).items():
            sealed.setdefault(chain, []).append(_Seal(int(head["seq"]), str(head["hash"]), d.seq))
        closed.update(body.get("closed") or [])
        expected_seq, previous_hash = d.seq + 1, digest_hash(d.body)
    return sealed, closed


def _check_registrations(
    chains: list[ChainInfo], public_key: bytes, report: Report, sealed: dict[str, list[_Seal]]
) -> set[str]:
    valid: set[str] = set()
    for info in chains:
        text = info.registration or ""
        body = _parse(text) or {}
        if body.get("chain") != info.chain or body.get("genesis") != genesis_hash(info.chain) \
                or info.signature is None or not verify_signature(public_key, digest_of(text), info.signature):
            report.add(SIGNATURE, "chain registration is not signed by the audit key", chain=info.chain)
            continue
        valid.add(info.chain)
        top = max((x.seq for x in sealed.get(info.chain, [])), default=None)
        if info.sealed_seq is not None and (top is None or top < info.sealed_seq):
            report.add(DELETED, f"the digest that sealed record {info.sealed_seq} of this chain is missing",
                       chain=info.chain, seq=info.sealed_seq)
    for chain in sorted(set(sealed) - {c.chain for c in chains}):
        report.add(DELETED, "registration of a sealed chain is missing", chain=chain)
        valid.add(chain)  # its records are still checked against the digest
    return valid


def _check_chain(
    chain: str, records: list[StoredEvent], seals: list[_Seal], closed: bool, report: Report
) -> None:
    claims: dict[int, list[StoredEvent]] = defaultdict(list)
    damaged: set[int] = set()
    for e in records:
        r = e.record
        event = _parse(r.event)
        if event is None or r.expected_hash() != r.hash:
            report.add(MODIFIED, "record content does not match its hash", chain=chain, seq=r.seq,
                       event_id=event_id(chain, r.seq))
            damaged.add(r.seq)
            continue
        claim = parse_event_id(str(event.get("eventID", "")))
        if claim is None or claim[0] != chain:
            report.add(INSERTED, "record whose event id names no position of this chain", chain=chain,
                       seq=r.seq, event_id=str(event.get("eventID")))
            continue
        problems = index_problems(e.fields, event)
        if e.block_at is not None and "at" not in problems and _outside_block(e.fields.at, e.fields.day, e.block_at):
            problems.append("block at")
        if problems:
            report.add(MODIFIED, f"query attributes ({', '.join(problems)}) disagree with the hashed event",
                       chain=chain, seq=r.seq, event_id=event_id(chain, r.seq))
        claims[claim[1]].append(e)

    # Every digest that sealed this chain vouches for its head then; a chain only grows.
    sealed_hash = {x.seq: x.hash for x in seals}
    last_sealed = max(sealed_hash, default=0)
    top = max([*claims, *damaged, last_sealed], default=0)
    picked: dict[int, StoredEvent] = {}
    prev: str | None = genesis_hash(chain)
    for s in range(1, top + 1):
        candidates = claims.get(s, [])
        if not candidates:
            if s not in damaged:
                report.add(DELETED, "record missing from its chain", chain=chain, seq=s,
                           event_id=event_id(chain, s))
            prev = None  # unknown: the next record's link cannot be checked
            continue
        successors = {c.record.prev for c in claims.get(s + 1, [])}
        linked = [c for c in candidates if prev is None or c.record.prev == prev]
        pool = linked or candidates
        preferred = [c for c in pool if c.record.hash in successors or sealed_hash.get(s) == c.record.hash]
        pick = (preferred or pool)[0]
        if not linked:
            if s == 1:
                report.add(MODIFIED, "first record does not start from the chain's genesis", chain=chain,
                           seq=pick.record.seq, event_id=event_id(chain, 1))
            elif s - 1 in picked:
                before = picked[s - 1]
                report.add(MODIFIED, "record was altered and re-hashed: its successor no longer links to it",
                           chain=chain, seq=before.record.seq, event_id=event_id(chain, s - 1))
        for c in candidates:
            if c is not pick:
                report.add(INSERTED, f"second record claiming position {s}", chain=chain, seq=c.record.seq,
                           event_id=event_id(chain, s))
        picked[s] = pick
        prev = pick.record.hash

    _check_order(chain, picked, report)
    for seal in seals:
        head = picked.get(seal.seq)
        if head is not None and head.record.hash != seal.hash:
            report.add(MODIFIED, f"chain differs from the head sealed in digest {seal.digest}", chain=chain,
                       seq=head.record.seq, event_id=event_id(chain, seal.seq), digest=seal.digest)
    report.sealed_records += sum(1 for s in picked if s <= last_sealed)
    if closed:
        limit = last_sealed
        for s, e in sorted(picked.items()):
            if s > limit:
                report.add(INSERTED, "record appended to a closed chain", chain=chain, seq=e.record.seq,
                           event_id=event_id(chain, s))


def _check_order(chain: str, picked: dict[int, StoredEvent], report: Report) -> None:
    """Flag records whose written order (claimed position) disagrees with their stored order."""
    in_store_order = sorted(picked.items(), key=lambda kv: kv[1].record.seq)
    claims = [s for s, _ in in_store_order]
    n = len(claims)
    prefix_max = [0] * n
    suffix_min = [0] * n
    best = 0
    for i, s in enumerate(claims):
        prefix_max[i] = best
        best = max(best, s)
    best = 2**64
    for i in range(n - 1, -1, -1):
        suffix_min[i] = best
        best = min(best, claims[i])
    for i, (s, e) in enumerate(in_store_order):
        if prefix_max[i] > s or suffix_min[i] < s:
            report.add(REORDERED, f"record written as #{s} is stored as #{e.record.seq}", chain=chain,
                       seq=e.record.seq, event_id=event_id(chain, s))


def _outside_block(at: str, day: str, block_at: str) -> bool:
    """Whether the block's index time would hide the record from time-ordered queries.

    Queries read blocks indexed up to BLOCK_SPAN after the time they look for (lookup.py), in
    the block's day: a block indexed earlier than a record, or later than that, or on another
    day, hides it.
    """
    try:
        return block_at < at or block_at > shift(at, BLOCK_SPAN) or block_at[:10] != day
    except ValueError:
        return True


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _event_id_of(e: StoredEvent) -> str | None:
    event = _parse(e.record.event)
    return str(event.get("eventID")) if event else None
