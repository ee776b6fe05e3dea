"""pynamodb models of the three audit tables; only chalicelib/audit/repository.py touches them.

- events: one item per record, keyed (chain, seq); indexes by day and by key serve LookupEvents
  and GetKeyLastUsage. The hashed JSON is `event`; the other attributes are derived from it for
  the indexes, and the verifier checks that they still agree with it. The indexes project keys
  only (plus `used`): every record is written on some call's path and read rarely, and a full
  copy per index made each write ~30% dearer in the embedded store.
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
    seq = NumberAttribute(range_key=True)
    prev = UnicodeAttribute()
    hash = UnicodeAttribute()
    event = UnicodeAttribute()
    #: "YYYY-MM-DD" of the event; `at` is its time to the microsecond, then "#" and the event id.
    day = UnicodeAttribute()
    at = UnicodeAttribute()
    name = UnicodeAttribute()
    ro = BooleanAttribute()
    user = UnicodeAttribute(null=True)
    key = UnicodeAttribute(null=True)
    key2 = UnicodeAttribute(null=True)
    #: A successful cryptographic use of the key(s): what GetKeyLastUsage reports.
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
