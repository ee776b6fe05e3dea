"""pynamodb models of the two tables; only the repository modules in store/ touch them."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import settings


def _meta(table: str) -> type:
    s = settings()
    attrs: dict[str, Any] = {
        "table_name": table,
        "region": s.region,
        "billing_mode": "PAY_PER_REQUEST",
        # pynamodb's default of 3 retries with backoff can exceed Lambda's patience; keep it short.
        "max_retry_attempts": 2,
        "connect_timeout_seconds": 2,
        "read_timeout_seconds": 5,
    }
    if s.dynamodb_endpoint:
        attrs["host"] = s.dynamodb_endpoint
    return type("Meta", (), attrs)


#: Due-time indexes are split over this many partitions so no single index partition is hot;
#: a sweep queries each one.
DUE_SHARDS = 4


class VersionMap(MapAttribute[str, Any]):
    number = NumberAttribute()
    material_id = UnicodeAttribute()
    wrapped = BinaryAttribute(legacy_encoding=False)
    created = UTCDateTimeAttribute()
    rotation_type = UnicodeAttribute(null=True)


class RotationDue(GlobalSecondaryIndex["KeyModel"]):
    """Sparse: only keys with automatic rotation enabled carry rotation_shard."""

    class Meta:
        index_name = "rotation_due"
        projection = KeysOnlyProjection()

    rotation_shard = NumberAttribute(hash_key=True)
    next_rotation = UTCDateTimeAttribute(range_key=True)


class DeletionDue(GlobalSecondaryIndex["KeyModel"]):
    """Sparse: only keys pending deletion carry deletion_shard."""

    class Meta:
        index_name = "deletion_due"
        projection = KeysOnlyProjection()

    deletion_shard = NumberAttribute(hash_key=True)
    deletion_date = UTCDateTimeAttribute(range_key=True)


class KeyModel(Model):
    Meta = _meta(settings().keys_table)

    key_id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute()
    state = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    spec = UnicodeAttribute()
    usage = UnicodeAttribute()
    origin = UnicodeAttribute()
    deletion_date = UTCDateTimeAttribute(null=True)
    versions = ListAttribute(of=VersionMap)
    tags = MapAttribute[str, str](default=dict)
    rotation_period_days = NumberAttribute(null=True)
    next_rotation = UTCDateTimeAttribute(null=True)
    rotation_shard = NumberAttribute(null=True)
    deletion_shard = NumberAttribute(null=True)
    rotation_due = RotationDue()
    deletion_due = DeletionDue()
    #: Optimistic lock: pynamodb makes every save conditional on the revision it read.
    revision = VersionAttribute()


class AliasesByTarget(GlobalSecondaryIndex["AliasModel"]):
    class Meta:
        index_name = "by_target"
        projection = AllProjection()

    target_key_id = UnicodeAttribute(hash_key=True)
    alias_name = UnicodeAttribute(range_key=True)


class AliasModel(Model):
    Meta = _meta(settings().aliases_table)

    alias_name = UnicodeAttribute(hash_key=True)
    target_key_id = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    by_target = AliasesByTarget()
