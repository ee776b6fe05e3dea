"""Warm-container caches: built lazily once per process, reused by every call."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from chalicelib.config import settings
from chalicelib.domain.ids import Scope
from chalicelib.hsm import make_backend
from chalicelib.hsm.protocol import Backend
from chalicelib.store.aliases import AliasRepository
from chalicelib.store.keys import KeyRepository


@lru_cache(maxsize=1)
def scope() -> Scope:
    s = settings()
    return Scope(region=s.region, account_id=s.account_id)


@lru_cache(maxsize=1)
def backend() -> Backend:
    return make_backend(settings())


@lru_cache(maxsize=1)
def keys() -> KeyRepository:
    return KeyRepository(scope())


@lru_cache(maxsize=1)
def aliases() -> AliasRepository:
    return AliasRepository(scope())


def now() -> datetime:
    """The service clock (UTC)."""
    return datetime.now(timezone.utc)
