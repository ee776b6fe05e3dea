"""Component tests: the service's own objects over DynamoDB emulated by moto, in this process.

For behaviour no client can trigger deterministically through the API: a job killed between two
steps, two job runs overlapping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from moto import mock_aws

from chalicelib.actions.call import Call
from chalicelib.domain.ids import Scope
from chalicelib.hsm.soft import SoftBackend
from chalicelib.store.aliases import AliasRepository
from chalicelib.store.cache import Cache
from chalicelib.store.keys import KeyRepository

SCOPE = Scope("us-east-1", "111122223333")


@pytest.fixture
def aws() -> Iterator[None]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        from chalicelib.store.tables import ensure_tables

        ensure_tables()
        yield


@pytest.fixture
def hsm() -> SoftBackend:
    return SoftBackend()


@pytest.fixture
def keys(aws: None) -> KeyRepository:
    return KeyRepository(SCOPE, Cache(None, ttl=0))


@pytest.fixture
def aliases(aws: None) -> AliasRepository:
    return AliasRepository(SCOPE, Cache(None, ttl=0))


@pytest.fixture
def call_at(keys: KeyRepository, aliases: AliasRepository, hsm: SoftBackend):
    """A Call as api/ builds it, at a chosen time."""

    def make(now: datetime) -> Call:
        return Call(now=now, scope=SCOPE, keys=keys, aliases=aliases, hsm=hsm)

    return make
