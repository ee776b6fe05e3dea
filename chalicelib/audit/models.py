"""pynamodb models of the three audit tables; only chalicelib/audit/repository.py touches them.

- events: one item per *block*: a run of consecutive records of one chain that share their day
  and their key(s), keyed (chain, seq of its first record). `records` holds them in order, each
  with its index time `at`, `prev`, `hash` and the hashed event JSON; the block's `day`, `at`
  (its newest record's), `key`, `key2` and `used` (some record is a successful use) feed the
  indexes by day and by key that serve LookupEvents and GetKeyLastUsage, and the verifier checks
  they still agree with every record. The store's cost is per item, not per byte (measured in
  docs/decisions/0004-audit-chain.md), so the shipper packs each batch into as few blocks as it
  can; a record written straight to the table (AWS) is a block of one. The indexes project keys
  only (plus `used`).
- chains: one item per chain (its signed registration and the last sealed head), plus the
  `#trail` item recording when the trail began. `open` is set while a chain may still grow, so
  the sealer finds live chains through a sparse index instead of a scan.
- digests: the signed digests, keyed ("digest", seq), each naming its predecessor's hash.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.store.models import _meta


class ByDay(GlobalSecondaryIndex["AuditEventModel"]):
    class Meta:
        index_name = "by_day"
        projection = KeysOnlyProjection()

    day = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class ByKey(GlobalSecondaryIndex["AuditEventModel"]):
    class Meta:
        index_name = "by_key"
        projection = IncludeProjection(["used"])

    key = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class BySecondKey(GlobalSecondaryIndex["AuditEventModel"]):
    """ReEncrypt names two keys; the second one is indexed here."""

    class Meta:
        index_name = "by_key2"
        projection = IncludeProjection(["used"])

    key2 = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditEventModel(Model):
    Meta = _meta(settings().audit_events_table)

    chain = UnicodeAttribute(hash_key=True)
    #: Position of the block's first record; record i of the block holds position seq + i.
    seq = NumberAttribute(range_key=True)
    #: JSON list of [at, prev, hash, event JSON] per record, in chain order.
    records = UnicodeAttribute()
    #: "YYYY-MM-DD" of every record; `at` is the newest record's time to the microsecond, "#", its event id.
    day = UnicodeAttribute()
    at = UnicodeAttribute()
    key = UnicodeAttribute(null=True)
    key2 = UnicodeAttribute(null=True)
    #: Some record is a successful cryptographic use of the key(s): what GetKeyLastUsage reports.
    used = BooleanAttribute(null=True)
    by_day = ByDay()
    by_key = ByKey()
    by_key2 = BySecondKey()


class OpenChains(GlobalSecondaryIndex["AuditChainModel"]):
    class Meta:
        index_name = "open_chains"
        projection = KeysOnlyProjection()

    open = UnicodeAttribute(hash_key=True)
    chain = UnicodeAttribute(range_key=True)


class AuditChainModel(Model):
    Meta = _meta(settings().audit_chains_table)

    chain = UnicodeAttribute(hash_key=True)
    started = UTCDateTimeAttribute()
    #: ECDSA P-256 (r || s) over the SHA-256 of the registration JSON.
    signature = BinaryAttribute(legacy_encoding=False, null=True)
    registration = UnicodeAttribute(null=True)
    open = UnicodeAttribute(null=True)
    sealed_seq = NumberAttribute(null=True)
    sealed_hash = UnicodeAttribute(null=True)
    open_chains = OpenChains()


class AuditDigestModel(Model):
    Meta = _meta(settings().audit_digests_table)

    trail = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    body = UnicodeAttribute()
    signature = BinaryAttribute(legacy_encoding=False)


AUDIT_MODELS: tuple[type[Model], ...] = (AuditEventModel, AuditChainModel, AuditDigestModel)
