"""The query attributes stored beside each record, derived from its event (pure).

They let DynamoDB find records by day, key, name and user without parsing events; since they
are not hashed, the verifier re-derives them from the hashed event and reports any difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

#: The operations GetKeyLastUsage tracks (KeyLastUsageTrackingOperation in the KMS model).
USAGE_OPERATIONS = frozenset({
    "Decrypt", "DeriveSharedSecret", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
    "ReEncrypt", "Sign", "Verify", "VerifyMac",
})


@dataclass(frozen=True)
class IndexFields:
    day: str
    at: str
    name: str
    ro: bool
    user: str | None
    key: str | None
    key2: str | None
    used: bool | None


def at_of(when: datetime, event_id: str) -> str:
    """Sort key of the time indexes: unique, and in time order as a string."""
    return f"{when:%Y-%m-%dT%H:%M:%S.%f}Z#{event_id}"


def index_fields(event: dict[str, Any], when: datetime) -> IndexFields:
    keys = key_ids(event)
    identity = event.get("userIdentity") or {}
    used = event.get("eventSource") == "kms.amazonaws.com" and event.get("eventName") in USAGE_OPERATIONS \
        and "errorCode" not in event and event.get("eventType") == "AwsApiCall"
    return IndexFields(
        day=f"{when:%Y-%m-%d}",
        at=at_of(when, str(event["eventID"])),
        name=str(event["eventName"]),
        ro=bool(event.get("readOnly")),
        user=identity.get("userName") or identity.get("accessKeyId"),
        key=keys[0] if keys else None,
        key2=keys[1] if len(keys) > 1 else None,
        used=True if used and keys else None,
    )


def key_ids(event: dict[str, Any]) -> list[str]:
    """Key ids of the event's key resources, in order."""
    out = []
    for resource in event.get("resources") or []:
        arn = resource.get("ARN") if isinstance(resource, dict) else None
        if isinstance(arn, str) and ":key/" in arn:
            out.append(arn.split(":key/", 1)[1])
    return out


def index_problems(stored: IndexFields, event: dict[str, Any]) -> list[str]:
    """How the stored query attributes disagree with the hashed event (empty when they agree)."""
    when = str(event.get("eventTime", ""))
    expected = index_fields(event, datetime(1970, 1, 1))
    problems = []
    if stored.day != when[:10]:
        problems.append("day")
    if stored.at[:19] != when[:19] or not stored.at.endswith("#" + str(event.get("eventID"))):
        problems.append("at")
    for name in ("name", "ro", "user", "key", "key2", "used"):
        if getattr(stored, name) != getattr(expected, name):
            problems.append(name)
    return problems


#: Widest time span of one block: a block is indexed at its newest record's time, so a query
#: for records before T reads the blocks indexed before T + BLOCK_SPAN (lookup.py, verify.py).
BLOCK_SPAN = timedelta(seconds=1)


def at_time(at: str) -> datetime:
    """The time of an index sort key (`at_of`), as a naive UTC datetime."""
    return datetime.fromisoformat(at[:26])  # ~20x faster than strptime: the shipper does this per record


def shift(at: str, delta: timedelta) -> str:
    """An index bound `delta` later than `at` (its event id part dropped: "~" sorts after any)."""
    return f"{at_time(at) + delta:%Y-%m-%dT%H:%M:%S.%f}Z#~"


def event_fields(event: dict[str, Any], at: str, block_day: str, block_key: str | None,
                 block_key2: str | None, block_used: bool | None) -> IndexFields:
    """A stored record's query attributes: its own `at`, the rest as its block's index has them.

    What only the event decides (name, readOnly, user) is taken from it; day, key, key2 and
    `used` come from the block, so the verifier's `index_problems` names every record a wrong
    block attribute hides. `used` is the block's only for records that are a use themselves.
    """
    expected = index_fields(event, datetime(1970, 1, 1))
    return IndexFields(
        day=block_day, at=at, name=expected.name, ro=expected.ro, user=expected.user, key=block_key,
        key2=block_key2, used=block_used if expected.used else None,
    )
