"""Key repository: domain Keys in, domain Keys out, conditional single-item writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.ids import Scope
from chalicelib.domain.key import Key, KeySpec, KeyState, KeyUsage, KeyVersion, Origin, RotationType
from chalicelib.errors import (
    AlreadyExistsException,
    ConflictException,
    KeyDeletedException,
    NotFoundException,
)
from chalicelib.store.cache import Cache
from chalicelib.store.errors import ConditionFailed, store_errors
from chalicelib.store.models import DUE_SHARDS, KeyModel, VersionMap
from chalicelib.store.paging import LastKey, read_page

#: State of a tombstone (see delete()); never a KeyState, never leaves the repository.
_DELETED = "Deleted"
#: Read-modify-write attempts before a contended key answers ConflictException.
_UPDATE_ATTEMPTS = 5


class KeyRepository:
    def __init__(self, scope: Scope, cache: Cache[Key]) -> None:
        self.scope = scope
        self._cache = cache

    def get(self, key_id: str) -> Key:
        """The key, or NotFoundException with AWS's message; served from the cache when valid."""
        key = self._cache.get(key_id)
        if key is None:
            generation = self._cache.current()
            key = self._read(key_id)
            self._cache.put(key_id, key, generation)
        return key

    def create(self, key: Key) -> Key:
        """Store a new key; its id must be unused."""
        item = self._to_model(key)
        try:
            with store_errors():
                item.save()  # no revision yet: pynamodb conditions the put on its absence
        except ConditionFailed:
            raise AlreadyExistsException(f"Key {key.arn} already exists.") from None
        return dataclasses.replace(key, revision=int(item.revision))

    def update(self, key_id: str, change: Callable[[Key], Key]) -> Key:
        """Apply `change` to the stored key and save it conditionally, re-reading on a lost race."""
        for _ in range(_UPDATE_ATTEMPTS):
            current = self._read(key_id)
            updated = change(current)
            if updated is current:  # nothing to do: a re-run of a job, say
                return current
            item = self._to_model(updated)
            try:
                with store_errors():
                    item.save()  # conditional on the revision we read
            except ConditionFailed:
                continue
            finally:
                self._cache.invalidate(key_id)
            return dataclasses.replace(updated, revision=int(item.revision))
        raise ConflictException(f"Key {self.scope.key_arn(key_id)} is being changed concurrently.")

    def page(self, limit: int, marker: str | None) -> tuple[list[str], str | None]:
        """Key ids, one page; ListKeys order is the table's scan order, as in AWS it is unspecified."""

        def fetch(start: LastKey | None, count: int) -> list[KeyModel]:
            with store_errors():
                return list(
                    KeyModel.scan(
                        KeyModel.state != _DELETED,
                        limit=count,
                        last_evaluated_key=start,
                    )
                )

        items, next_marker = read_page(fetch, lambda m: {"key_id": {"S": m.key_id}}, limit, marker)
        return [m.key_id for m in items], next_marker

    def due_for_rotation(self, now: datetime) -> list[str]:
        """Ids of keys whose next rotation is at or before `now`, read from the sparse index."""
        return self._due(KeyModel.rotation_due, KeyModel.next_rotation, now)

    def due_for_deletion(self, now: datetime) -> list[str]:
        """Ids of keys whose deletion waiting period has ended."""
        return self._due(KeyModel.deletion_due, KeyModel.deletion_date, now)

    def delete(self, key: Key) -> None:
        """Replace a key whose deletion date has come by a tombstone; re-running is a no-op.

        The tombstone keeps only the key id, so that Decrypt of the key's old ciphertext answers
        NotFoundException as AWS does, while a forged blob naming an unknown key stays an
        InvalidCiphertextException. Wrapped material, tags and description are removed.
        """
        try:
            with store_errors():
                KeyModel(key.key_id).update(
                    actions=[
                        KeyModel.state.set(_DELETED),
                        KeyModel.versions.remove(),
                        KeyModel.tags.remove(),
                        KeyModel.description.remove(),
                        KeyModel.deletion_shard.remove(),
                        KeyModel.rotation_shard.remove(),
                        KeyModel.next_rotation.remove(),
                        KeyModel.rotation_period_days.remove(),
                    ],
                    condition=(KeyModel.state == KeyState.PENDING_DELETION.value)
                    & (KeyModel.deletion_date <= key.deletion_date),
                    # The state condition is the guard; the revision we hold may be stale.
                    add_version_condition=False,
                )
        except ConditionFailed:
            pass  # already deleted, or the deletion was cancelled meanwhile
        finally:
            self._cache.invalidate(key.key_id)

    def _due(self, index: Any, attribute: Any, now: datetime) -> list[str]:
        with store_errors():
            return [
                item.key_id
                for shard in range(DUE_SHARDS)
                for item in index.query(shard, attribute <= now)
            ]

    def _read(self, key_id: str) -> Key:
        message = f"Key '{self.scope.key_arn(key_id)}' does not exist"
        with store_errors():
            try:
                item = KeyModel.get(key_id, consistent_read=True)
            except KeyModel.DoesNotExist:
                raise NotFoundException(message) from None
        if item.state == _DELETED:
            raise KeyDeletedException(message)
        return self._to_domain(item)

    def _to_domain(self, item: KeyModel) -> Key:
        return Key(
            key_id=item.key_id,
            arn=self.scope.key_arn(item.key_id),
            account_id=self.scope.account_id,
            created=item.created,
            state=KeyState(item.state),
            description=item.description or "",
            spec=KeySpec(item.spec),
            usage=KeyUsage(item.usage),
            origin=Origin(item.origin),
            versions=tuple(
                KeyVersion(
                    number=int(v.number),
                    material_id=v.material_id,
                    wrapped=bytes(v.wrapped),
                    created=v.created,
                    rotation_type=RotationType(v.rotation_type) if v.rotation_type else None,
                )
                for v in item.versions
            ),
            tags=dict(item.tags.as_dict()) if item.tags else {},
            deletion_date=item.deletion_date,
            rotation_period_days=(
                int(item.rotation_period_days) if item.rotation_period_days is not None else None
            ),
            next_rotation=item.next_rotation,
            revision=int(item.revision),
        )

    @staticmethod
    def _to_model(key: Key) -> KeyModel:
        # A new key (revision 0) carries no revision, so pynamodb conditions the put on its absence.
        lock = {"revision": key.revision} if key.revision else {}
        shard = _shard(key.key_id)
        return KeyModel(
            key.key_id,
            created=key.created,
            state=key.state.value,
            description=key.description,
            spec=key.spec.value,
            usage=key.usage.value,
            origin=key.origin.value,
            deletion_date=key.deletion_date,
            versions=[
                VersionMap(
                    number=v.number,
                    material_id=v.material_id,
                    wrapped=v.wrapped,
                    created=v.created,
                    rotation_type=v.rotation_type.value if v.rotation_type else None,
                )
                for v in key.versions
            ],
            tags=key.tags,
            rotation_period_days=key.rotation_period_days,
            next_rotation=key.next_rotation,
            # Index attributes exist only while the key is due for something: sparse indexes.
            rotation_shard=shard if key.next_rotation is not None else None,
            deletion_shard=shard if key.state is KeyState.PENDING_DELETION else None,
            **lock,
        )


def _shard(key_id: str) -> int:
    return int(key_id[:8], 16) % DUE_SHARDS
