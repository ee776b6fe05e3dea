"""Warm-container caches: built lazily once per process, reused by every call."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from chalicelib.audit.direct import DirectTable
from chalicelib.audit.repository import AuditRepository
from chalicelib.audit.spool import Spool
from chalicelib.audit.writer import ChainWriter
from chalicelib.clock import Clock
from chalicelib.config import settings
from chalicelib.domain.ids import Scope
from chalicelib.hsm import make_backend
from chalicelib.hsm.protocol import Backend
from chalicelib.jobs.events import EventPublisher
from chalicelib.jobs.sweeps import Sweeper
from chalicelib.store.aliases import AliasRepository
from chalicelib.store.cache import Cache, Generation
from chalicelib.store.keys import KeyRepository


@lru_cache(maxsize=1)
def scope() -> Scope:
    s = settings()
    return Scope(region=s.region, account_id=s.account_id)


@lru_cache(maxsize=1)
def backend() -> Backend:
    return make_backend(settings())


@lru_cache(maxsize=1)
def _generation() -> Generation | None:
    path = settings().cache_generation_file
    return Generation(path) if path else None


def _cache() -> Cache[Any]:
    return Cache(_generation(), settings().key_cache_seconds)


@lru_cache(maxsize=1)
def keys() -> KeyRepository:
    return KeyRepository(scope(), _cache())


@lru_cache(maxsize=1)
def aliases() -> AliasRepository:
    return AliasRepository(scope(), _cache())


@lru_cache(maxsize=1)
def audit_repository() -> AuditRepository:
    return AuditRepository()


@lru_cache(maxsize=1)
def audit_spool() -> Spool | None:
    s = settings()
    if not s.audit_spool_dir:
        return None
    table = DirectTable(s.audit_events_table, s.region, s.dynamodb_endpoint)
    return Spool(s.audit_spool_dir, table, s.audit_fsync, background=s.audit_shipper != "process")


@lru_cache(maxsize=1)
def audit_writer() -> ChainWriter:
    return ChainWriter(audit_repository(), backend(), settings().audit_chain_seconds, audit_spool())


@lru_cache(maxsize=1)
def clock() -> Clock:
    return Clock(settings().clock_file)


def now() -> datetime:
    """The service clock (UTC)."""
    return clock().now()


@lru_cache(maxsize=1)
def sweeper() -> Sweeper:
    return Sweeper(keys(), aliases(), backend(), EventPublisher(settings()))
