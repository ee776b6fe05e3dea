"""Local mode's audit sink: append each record to a file in the data dir, ship to the table in batches.

Measured on the local server (docs/decisions/0004-audit-chain.md): one PutItem per call into the
single-threaded embedded store costs ~0.7 ms of its CPU plus ~0.6 ms in the worker, three times
what the rest of an Encrypt costs; records packed into block items (repository.pack), 100 per
BatchWriteItem, cost it ~0.06 ms each; appending a line to a file ~2 µs. So locally the record
is made durable by appending it to its chain's spool file before the call is answered — the
same guarantee the embedded store gives (written to the OS before the answer: survives kill -9
of any process; `KMS_AUDIT_FSYNC=on` adds fdatasync for power loss) — and a shipper ships
spooled records to the events table in shipments of up to 100 records packed into block items,
a partial one after ~100 ms: the local launcher's `audit-shipper` process (shipper.py), or else
a thread in each writing process. Anything that reads the trail (queries,
the sealer, the verifier) first ships whatever is spooled (`flush`), so no answered call is ever
missing from what they see. In AWS there is no spool: every record is a conditional PutItem.

Files in the spool directory, per chain segment `<chain>-<first seq>`:
    .spool   JSON lines, one record with its query attributes each (repository.event_item),
             packed into blocks only when shipped; the writer holds a shared flock on it
             while it may still append, so "no writer" is "an exclusive flock succeeds"
    .offset  bytes of .spool already shipped (replaced atomically)
    .lock    exclusive flock held while shipping, so two shippers never interleave
A segment that is fully shipped and has no writer is deleted. A crash between a batch write and
the offset update re-ships that batch: the puts are idempotent (packing is greedy from the same
first record, so the same keys, the last block possibly holding more records, never others).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path

from chalicelib.audit.chain import Record
from chalicelib.audit.direct import DirectTable
from chalicelib.audit.index import IndexFields
from chalicelib.audit.repository import block_item, event_item, from_event_item, pack
from chalicelib.errors import DependencyTimeoutException

log = logging.getLogger(__name__)

#: Records per shipment. They travel as block items (repository.pack), usually one per chain and
#: key, at most 25 per BatchWriteItem: measured, the store's cost is mostly per request and per
#: item, so 100 records per shipment cost it less than half of what 25 did.
BATCH = 100
#: DynamoDB's BatchWriteItem limit.
ITEMS_PER_WRITE = 25
#: Longest a spooled record waits for its batch to fill before it is shipped anyway.
LINGER_SECONDS = 0.1
#: A segment is closed after this many records, so shipped data does not pile up on disk.
SEGMENT_RECORDS = 10_000
#: How often the shipper also looks for segments other (possibly dead) processes left behind.
SWEEP_SECONDS = 5.0

_SUFFIX = ".spool"


class Spool:
    """The writer's side (`append`) and the shipper (`flush`, plus one background thread per process)."""

    def __init__(self, directory: str | Path, table: DirectTable, fsync: bool = False,
                 background: bool = True) -> None:
        self.directory = Path(directory)
        #: Whether writers ship from a thread of their own; False when a shipper process runs.
        self._background = background
        self._table = table
        self._fsync = fsync
        self._fd: int | None = None
        self._segment: str | None = None
        self._segment_records = 0
        self._chain: str | None = None
        self._pid = 0
        self._pending = 0
        self._wake = threading.Condition()
        self._idle = False
        self._thread: threading.Thread | None = None
        #: Segments this process stopped appending to and has yet to ship.
        self._finished: list[str] = []

    def append(self, record: Record, fields: IndexFields) -> None:
        """Make the record durable in its chain's spool file; raises DependencyTimeoutException if not."""
        line = json.dumps(event_item(record, fields), separators=(",", ":")).encode() + b"\n"
        try:
            fd = self._segment_fd(record.chain, record.seq)
            written = os.write(fd, line)
            if self._fsync:
                os.fdatasync(fd)
            # A spool file unlinked under us would swallow records: check it is still there.
            if written != len(line) or os.fstat(fd).st_nlink == 0:
                raise OSError("short write or spool file removed")
        except OSError as e:
            self._close_segment()
            log.warning("audit spool write failed (%s)", type(e).__name__)
            raise DependencyTimeoutException("The audit trail could not be written; retry the request.") from None
        self._segment_records += 1
        with self._wake:
            self._pending += 1
            if self._pending == BATCH or (self._pending == 1 and self._idle):
                self._wake.notify()  # cut a lingering batch short, or wake an idle shipper

    def flush(self) -> None:
        """Ship every spooled record of every process to the table (readers call this first)."""
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            self._ship(path, wait=True)

    def _segment_fd(self, chain: str, seq: int) -> int:
        pid = os.getpid()
        if self._pid != pid:
            # After a fork the parent's descriptor and thread are not ours (the writer starts a
            # new chain too, so the parent's segment is never appended to from here). Closing our
            # copy leaves the parent's lock alone: it lives while any descriptor of it is open.
            if self._fd is not None:
                os.close(self._fd)
            self._fd, self._segment, self._thread, self._pid, self._pending = None, None, None, pid, 0
            self._finished = []
        if self._fd is None or chain != self._chain or self._segment_records >= SEGMENT_RECORDS:
            self._close_segment()
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{chain}-{seq:016d}"
            fd = os.open(self.directory / (name + _SUFFIX), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)  # "a writer may still append here"
            self._fd, self._segment, self._chain, self._segment_records = fd, name, chain, 0
            self._start_shipper()
        return self._fd

    def _close_segment(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the shared lock: the segment is finished
            if self._segment is not None:
                self._finished.append(self._segment)
        self._fd, self._segment, self._chain = None, None, None

    def _start_shipper(self) -> None:
        if self._background and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._run, name="audit-shipper", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        swept = time.monotonic()
        while True:
            with self._wake:
                if self._pending == 0:
                    self._idle = True
                    self._wake.wait(SWEEP_SECONDS)
                    self._idle = False
                if 0 < self._pending < BATCH:
                    self._wake.wait(LINGER_SECONDS)
                # A full batch is shipped at once, its remainder only once it has lingered:
                # full shipments cost the store a fraction of what small ones do per record.
                full_only = self._pending >= BATCH
                self._pending = self._pending % BATCH if full_only else 0
            segments = [s for s in (*self._finished, self._segment) if s is not None]
            self._finished = []
            try:
                for segment in segments:
                    self._ship(self.directory / (segment + _SUFFIX), wait=False,
                               full_only=full_only and segment == self._segment)
                if time.monotonic() - swept > SWEEP_SECONDS:
                    swept = time.monotonic()
                    for path in sorted(self.directory.glob("*" + _SUFFIX)):
                        if path.stem != self._segment:
                            self._ship(path, wait=False)
            except Exception as e:  # noqa: BLE001 - the shipper must outlive a store outage
                log.warning("audit shipping failed (%s); retrying", type(e).__name__)
                time.sleep(1.0)

    def _ship(self, path: Path, wait: bool, full_only: bool = False) -> int:
        """Ship the complete lines of one segment past its offset; delete it once finished.

        Returns how many complete lines it left unshipped (a partial batch, with `full_only`).
        """
        base = path.with_suffix("")
        lock_path, offset_path = Path(f"{base}.lock"), Path(f"{base}.offset")
        try:
            lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            return 0  # the directory went away
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return 0  # another shipper has it
            if not path.exists():
                return 0  # finished and deleted by the shipper we waited for
            offset = _read_offset(offset_path)
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
            complete = data[: data.rfind(b"\n") + 1]
            lines = complete.splitlines()
            left = len(lines) % BATCH if full_only else 0
            lines = lines[: len(lines) - left]
            done = offset
            try:
                for start in range(0, len(lines), BATCH):
                    batch = lines[start:start + BATCH]
                    items = _blocks(batch)
                    for first in range(0, len(items), ITEMS_PER_WRITE):
                        self._table.batch_put(items[first:first + ITEMS_PER_WRITE])
                    done += sum(len(line) + 1 for line in batch)
            finally:
                if done != offset:
                    _write_offset(offset_path, done)
            if left == 0 and _writer_gone(path):
                if len(data) > len(complete):
                    # Only a write that failed (and failed its call) leaves a partial line.
                    log.warning("dropping a partial audit line at the end of %s", path.name)
                for p in (path, offset_path, lock_path):
                    p.unlink(missing_ok=True)
            return left
        finally:
            os.close(lock)

    def ship_round(self, lingering: dict[Path, float]) -> None:
        """One pass of a shipper process over every segment: full batches at once, a remainder
        once it has waited LINGER_SECONDS (`lingering` remembers since when, between passes)."""
        now = time.monotonic()
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            since = lingering.get(path)
            overdue = since is not None and now - since >= LINGER_SECONDS
            try:
                left = self._ship(path, wait=False, full_only=not overdue)
            except Exception as e:  # noqa: BLE001 - shipping must outlive a store outage
                log.warning("audit shipping failed (%s); will retry", type(e).__name__)
                continue
            if left:
                lingering.setdefault(path, now)
            else:
                lingering.pop(path, None)
        for path in [p for p in lingering if not p.exists()]:
            del lingering[path]


def _blocks(lines: list[bytes]) -> list[bytes]:
    """A batch of spooled records packed into block items (repository.pack), as DynamoDB JSON.

    The store's cost is mostly per item and per request (docs/decisions/0004-audit-chain.md), so
    a shipment of one chain's records of one key is one item. A re-shipped batch starts where the first attempt did, so it
    rewrites the same blocks, possibly longer: the puts stay idempotent.
    """
    entries = [from_event_item(json.loads(line)) for line in lines]
    return [json.dumps(block_item(block), separators=(",", ":"), ensure_ascii=False).encode()
            for block in pack(entries)]


def _read_offset(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _write_offset(path: Path, value: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(str(value))
    os.replace(tmp, path)


def _writer_gone(path: Path) -> bool:
    """Whether no process holds the segment open for appending (its shared flock is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
