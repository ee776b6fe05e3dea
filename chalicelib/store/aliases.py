"""Alias repository over the aliases table and its by_target index."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.alias import Alias
from chalicelib.domain.ids import Scope
from chalicelib.errors import AlreadyExistsException, NotFoundException
from chalicelib.store.cache import Cache
from chalicelib.store.errors import ConditionFailed, store_errors
from chalicelib.store.models import AliasModel
from chalicelib.store.paging import LastKey, read_page


class AliasRepository:
    def __init__(self, scope: Scope, cache: Cache[Alias]) -> None:
        self.scope = scope
        self._cache = cache

    def get(self, name: str) -> Alias:
        """The alias, or NotFoundException with AWS's message; served from the cache when valid."""
        alias = self._cache.get(name)
        if alias is None:
            generation = self._cache.current()
            with store_errors():
                try:
                    alias = _to_domain(AliasModel.get(name, consistent_read=True))
                except AliasModel.DoesNotExist:
                    raise self._not_found(name) from None
            self._cache.put(name, alias, generation)
        return alias

    def create(self, name: str, target_key_id: str, now: datetime) -> None:
        item = AliasModel(name, target_key_id=target_key_id, created=now, updated=now)
        try:
            with store_errors():
                item.save(condition=AliasModel.alias_name.does_not_exist())
        except ConditionFailed:
            raise AlreadyExistsException(
                f"An alias with the name {self.scope.alias_arn(name)} already exists"
            ) from None
        finally:
            self._cache.invalidate(name)

    def retarget(self, name: str, target_key_id: str, now: datetime) -> None:
        try:
            with store_errors():
                AliasModel(name).update(
                    actions=[AliasModel.target_key_id.set(target_key_id), AliasModel.updated.set(now)],
                    condition=AliasModel.alias_name.exists(),
                )
        except ConditionFailed:
            raise self._not_found(name) from None
        finally:
            self._cache.invalidate(name)

    def delete(self, name: str) -> None:
        try:
            with store_errors():
                AliasModel(name).delete(condition=AliasModel.alias_name.exists())
        except ConditionFailed:
            raise self._not_found(name) from None
        finally:
            self._cache.invalidate(name)

    def page(
        self, target_key_id: str | None, limit: int, marker: str | None
    ) -> tuple[list[Alias], str | None]:
        """One page of aliases, all of them or those of one key (through the by_target index)."""

        def fetch(start: LastKey | None, count: int) -> list[AliasModel]:
            with store_errors():
                if target_key_id is None:
                    return list(AliasModel.scan(limit=count, last_evaluated_key=start))
                return list(
                    AliasModel.by_target.query(
                        target_key_id, limit=count, last_evaluated_key=start
                    )
                )

        def key_of(item: AliasModel) -> LastKey:
            last: LastKey = {"alias_name": {"S": item.alias_name}}
            if target_key_id is not None:
                last["target_key_id"] = {"S": item.target_key_id}
            return last

        items, next_marker = read_page(fetch, key_of, limit, marker)
        return [_to_domain(i) for i in items], next_marker

    def names_of(self, key_id: str) -> list[str]:
        """Every alias name pointing at a key (AWS allows at most 50 per key)."""
        with store_errors():
            return [item.alias_name for item in AliasModel.by_target.query(key_id)]

    def _not_found(self, name: str) -> NotFoundException:
        return NotFoundException(f"Alias {self.scope.alias_arn(name)} is not found.")


def _to_domain(item: AliasModel) -> Alias:
    return Alias(
        name=item.alias_name,
        target_key_id=item.target_key_id,
        created=item.created,
        updated=item.updated,
    )
