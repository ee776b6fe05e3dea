"""Queries over the trail: LookupEvents' time-ordered pages and GetKeyLastUsage.

Records are found newest first through the by-day index (one partition per UTC day), the by-key
indexes (ResourceName) or directly by id (EventId, which encodes chain and position). The indexes
point at blocks of records (models.py); the repository merges their records back into time order. Paging
tokens are cursors: the index sort key of the last event returned, so a page never repeats or
skips an event, whatever was written meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.audit.chain import parse_event_id
from chalicelib.audit.index import BLOCK_SPAN, USAGE_OPERATIONS, shift
from chalicelib.audit.repository import AuditRepository, StoredEvent

#: Past this, LookupEvents does not look (CloudTrail's event history window).
HISTORY = timedelta(days=90)
PAGE = 50
_TOP = "~"  # sorts after every character of an event id


class BadToken(ValueError):
    """A NextToken this query did not issue."""


@dataclass(frozen=True)
class Query:
    start: datetime
    end: datetime
    attribute: str | None = None
    value: str | None = None
    #: The parameters as the caller gave them: a token serves only the query it came from.
    asked: str = ""

    def fingerprint(self) -> str:
        text = f"{self.asked}|{self.attribute}|{self.value}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def lookup(repo: AuditRepository, query: Query, limit: int, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of parsed events, newest first, and the token of the next page (None: no more)."""
    before = _cursor(token, query) if token else _bound(query.end, _TOP)
    after = _bound(query.start, "")
    events: list[StoredEvent] = []
    for stored in _candidates(repo, query, before, after):
        if _matches(stored, query):
            events.append(stored)
            if len(events) > limit:
                break
    more = len(events) > limit
    events = events[:limit]
    next_token = _token(events[-1].fields.at, query) if more else None
    return [json.loads(e.record.event) for e in events], next_token


def last_usage(repo: AuditRepository, key_id: str) -> dict[str, Any] | None:
    """The newest successful cryptographic use of the key, as an event; None if none is recorded."""
    before, after = _TOP * 2, ""
    streams = [repo.by_key(key_id, second=second, before=before, after=after, used_only=True)
               for second in (False, True)]
    for stored in heapq.merge(*streams, key=lambda e: e.fields.at, reverse=True):
        event: dict[str, Any] = json.loads(stored.record.event)
        if event.get("eventName") in USAGE_OPERATIONS and "errorCode" not in event:
            return event
    return None


def _candidates(repo: AuditRepository, query: Query, before: str, after: str) -> Iterator[StoredEvent]:
    if query.attribute == "EventId":
        parsed = parse_event_id(query.value or "")
        stored = repo.get(*parsed) if parsed else None
        if stored is not None and after < stored.fields.at < before:
            yield stored
        return
    if query.attribute == "ResourceName":
        key_id = _key_id(query.value or "")
        if key_id is None:
            return
        streams = [repo.by_key(key_id, second=second, before=before, after=after) for second in (False, True)]
        yield from heapq.merge(*streams, key=lambda e: e.fields.at, reverse=True)
        return
    # A block is indexed at its newest record: one indexed up to BLOCK_SPAN later may hold older ones.
    day = _day(shift(before, BLOCK_SPAN))
    last_day = _day(after)
    days = []
    while day >= last_day:
        days.append(day.strftime("%Y-%m-%d"))
        day -= timedelta(days=1)
    yield from repo.by_days(days, before=before, after=after)


def _matches(stored: StoredEvent, query: Query) -> bool:
    attribute, value = query.attribute, query.value
    if attribute in (None, "EventId", "ResourceName"):
        return True
    event = json.loads(stored.record.event)
    if attribute == "EventName":
        return bool(event.get("eventName") == value)
    if attribute == "ReadOnly":
        return str(bool(event.get("readOnly"))).lower() == (value or "").lower()
    if attribute == "Username":
        return stored.fields.user == value
    if attribute == "AccessKeyId":
        return bool((event.get("userIdentity") or {}).get("accessKeyId") == value)
    if attribute == "EventSource":
        return bool(event.get("eventSource") == value)
    if attribute == "ResourceType":
        return any(r.get("type") == value for r in event.get("resources") or [])
    return False


def _key_id(value: str) -> str | None:
    if value.startswith("arn:"):
        return value.split(":key/", 1)[1].lower() if ":key/" in value else None
    return value.lower() or None


def _bound(when: datetime, suffix: str) -> str:
    return f"{when.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S.%f}Z#{suffix}"


def _day(at: str) -> datetime:
    return datetime.strptime(at[:10], "%Y-%m-%d")


def _token(at: str, query: Query) -> str:
    raw = json.dumps({"at": at, "q": query.fingerprint()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _cursor(token: str, query: Query) -> str:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise BadToken() from None
    if not isinstance(value, dict) or value.get("q") != query.fingerprint() or not isinstance(value.get("at"), str):
        raise BadToken()
    at: str = value["at"]
    return at
