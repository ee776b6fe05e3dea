"""The hot path: append one record to this process's own chain, durably, before the answer.

Each writer (a granian worker, a Lambda container) owns a chain and keeps its head in memory, so
an append is one conditional put and no read: writers never wait for each other. A chain is
registered once (a put plus one HSM signature) and replaced by a fresh one after
`audit_chain_seconds`, after a fork, or after any failed append, whose outcome is unknown: a put
that timed out may or may not have landed, and a fresh chain never has to find out.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.audit.chain import Record, digest_of, dumps, event_id, genesis_hash, new_chain_id, record_hash
from chalicelib.audit.index import IndexFields, index_fields
from chalicelib.audit.repository import AuditRepository
from chalicelib.errors import DependencyTimeoutException, KmsError
from chalicelib.hsm.protocol import Backend
from chalicelib.store.errors import ConditionFailed

log = logging.getLogger(__name__)

AUDIT_UNAVAILABLE = "The audit trail could not be written; retry the request."


class Sink(Protocol):
    def append(self, record: Record, fields: IndexFields) -> None:
        """Make the record durable, or raise (KmsError, ConditionFailed)."""


@dataclass
class _Head:
    chain: str
    pid: int
    started: datetime
    seq: int
    hash: str


def registration(chain: str, started: datetime) -> str:
    """The JSON a chain registration signs: which chain, since when, starting from which hash."""
    return dumps({"version": 1, "chain": chain, "started": started.isoformat(), "genesis": genesis_hash(chain)})


class ChainWriter:
    def __init__(self, repo: AuditRepository, hsm: Backend, max_age_seconds: float,
                 sink: Sink | None = None) -> None:
        self._repo = repo
        #: Where records go: the repository (a conditional PutItem each), or the local spool.
        self._sink: Sink = sink if sink is not None else repo
        self._hsm = hsm
        self._max_age = timedelta(seconds=max_age_seconds)
        self._head: _Head | None = None
        self._lock = threading.Lock()

    def append(self, now: datetime, build: Callable[[str], dict[str, Any]]) -> str:
        """Store the event `build(event_id)` returns as this chain's next record; return its id.

        Raises DependencyTimeoutException when the record may not be durable: fail closed.
        """
        with self._lock:
            head = self._current(now)
            seq = head.seq + 1
            eid = event_id(head.chain, seq)
            event = build(eid)
            text = dumps(event)
            record = Record(head.chain, seq, head.hash, record_hash(head.hash, text), text)
            try:
                self._sink.append(record, index_fields(event, now))
            except (KmsError, ConditionFailed) as e:
                self._head = None
                log.warning("audit append failed (%s); starting a new chain", type(e).__name__)
                raise DependencyTimeoutException(AUDIT_UNAVAILABLE) from None
            head.seq, head.hash = seq, record.hash
            return eid

    def _current(self, now: datetime) -> _Head:
        head = self._head
        pid = os.getpid()
        if head is not None and head.pid == pid and now - head.started < self._max_age and now >= head.started:
            return head
        self._head = None
        chain = new_chain_id()
        text = registration(chain, now)
        try:
            signature = self._hsm.audit_sign(digest_of(text))
            if head is None:
                self._repo.mark_trail_start(now)
            self._repo.register_chain(chain, now, text, signature)
        except (KmsError, ConditionFailed) as e:
            log.warning("audit chain registration failed (%s)", type(e).__name__)
            raise DependencyTimeoutException(AUDIT_UNAVAILABLE) from None
        self._head = _Head(chain, pid, now, 0, genesis_hash(chain))
        return self._head
