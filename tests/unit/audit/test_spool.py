"""The local spool: durable before the answer, shipped in batches, nothing lost or left behind."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib.audit import spool as spool_module
from chalicelib.audit.chain import Record
from chalicelib.audit.index import IndexFields
from chalicelib.audit.spool import BATCH, Spool
from chalicelib.errors import DependencyTimeoutException

FIELDS = IndexFields(day="2026-05-01", at="2026-05-01T00:00:00.000000Z#e", name="Encrypt", ro=True,
                     user=None, key=None, key2=None, used=None)


class FakeTable:
    def __init__(self) -> None:
        self.items: dict[tuple[str, int], dict[str, Any]] = {}
        self.batches: list[int] = []
        self.item_counts: list[int] = []
        self.down = False

    def batch_put(self, items: list[bytes], attempts: int = 5) -> None:
        if self.down:
            raise DependencyTimeoutException("store down")
        assert 0 < len(items) <= 25  # BatchWriteItem's limit
        # Items are blocks of records (repository.pack): count and key the records they hold.
        shipped = 0
        for raw in items:
            block = json.loads(raw)
            for i, row in enumerate(json.loads(block["records"]["S"])):
                self.items[(block["chain"]["S"], int(block["seq"]["N"]) + i)] = {"block": block, "row": row}
                shipped += 1
        self.batches.append(shipped)
        self.item_counts.append(len(items))


def record(chain: str, seq: int) -> Record:
    return Record(chain, seq, "p" * 64, "h" * 64, json.dumps({"eventID": f"{chain}-{seq}"}))


@pytest.fixture
def table() -> FakeTable:
    return FakeTable()


def test_flush_ships_every_appended_record(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table)
    for seq in range(1, 2 * BATCH + 11):
        spool.append(record("a" * 16, seq), FIELDS)
    spool.flush()
    assert sorted(table.items) == [("a" * 16, s) for s in range(1, 2 * BATCH + 11)]
    assert table.batches == [BATCH, BATCH, 10]
    assert table.item_counts == [1, 1, 1]  # a shipment of one chain and key is one block
    spool.flush()  # nothing new: nothing shipped twice
    assert table.batches == [BATCH, BATCH, 10]


def test_the_spool_file_is_written_before_append_returns(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table)
    spool.append(record("a" * 16, 1), FIELDS)
    (path,) = tmp_path.glob("*.spool")
    (line,) = path.read_bytes().splitlines()
    assert json.loads(line)["seq"] == {"N": "1"}


def test_a_dead_writers_records_are_shipped_by_anyone_and_its_files_removed(tmp_path: Path, table: FakeTable) -> None:
    dead = Spool(tmp_path, table)
    for seq in range(1, 4):
        dead.append(record("d" * 16, seq), FIELDS)
    dead._close_segment()  # what the kernel does for a killed process: its flock goes away
    Spool(tmp_path, table).flush()
    assert sorted(table.items) == [("d" * 16, s) for s in (1, 2, 3)]
    assert list(tmp_path.iterdir()) == []


def test_a_live_writers_segment_stays_until_it_is_finished(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table)
    spool.append(record("a" * 16, 1), FIELDS)
    spool.flush()
    assert list(tmp_path.glob("*.spool"))
    spool.append(record("b" * 16, 1), FIELDS)  # a new chain: the old segment is finished
    spool.flush()
    assert [p.name.split("-")[0] for p in tmp_path.glob("*.spool")] == ["b" * 16]
    assert set(table.items) == {("a" * 16, 1), ("b" * 16, 1)}


def test_a_partial_last_line_is_never_shipped(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table)
    spool.append(record("a" * 16, 1), FIELDS)
    (path,) = tmp_path.glob("*.spool")
    with open(path, "ab") as f:
        f.write(b'{"chain":{"S":"aaaa')  # a write cut short (its call failed)
    spool._close_segment()
    spool.flush()
    assert list(table.items) == [("a" * 16, 1)]
    assert not list(tmp_path.glob("*.spool"))


def test_a_removed_spool_file_fails_the_call(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path / "spool", table)
    spool.append(record("a" * 16, 1), FIELDS)
    for p in (tmp_path / "spool").iterdir():
        p.unlink()
    with pytest.raises(DependencyTimeoutException):
        spool.append(record("a" * 16, 2), FIELDS)
    spool.append(record("b" * 16, 1), FIELDS)  # the writer's next chain gets a new file
    spool.flush()
    assert ("b" * 16, 1) in table.items


def test_an_unwritable_spool_fails_closed(tmp_path: Path, table: FakeTable) -> None:
    blocked = tmp_path / "spool"
    blocked.write_text("not a directory")
    with pytest.raises(DependencyTimeoutException):
        Spool(blocked, table).append(record("a" * 16, 1), FIELDS)


def test_records_wait_out_a_store_outage(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table)
    table.down = True
    for seq in range(1, 31):
        spool.append(record("a" * 16, seq), FIELDS)  # still durable: the calls succeed
    with pytest.raises(DependencyTimeoutException):
        spool.flush()
    table.down = False
    spool.flush()
    assert len(table.items) == 30


def test_the_background_shipper_ships_without_a_flush(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table)
    for seq in range(1, 3):
        spool.append(record("a" * 16, seq), FIELDS)
    deadline = time.monotonic() + 5
    while len(table.items) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(table.items) == 2


def test_full_batches_go_first_and_the_rest_lingers(tmp_path: Path, table: FakeTable, monkeypatch) -> None:
    monkeypatch.setattr(spool_module, "LINGER_SECONDS", 30.0)
    spool = Spool(tmp_path, table)
    for seq in range(1, BATCH + 4):
        spool.append(record("a" * 16, seq), FIELDS)
    deadline = time.monotonic() + 5
    while not table.batches and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert table.batches == [BATCH]
    spool.flush()
    assert table.batches == [BATCH, 3]


def test_fsync_mode_still_appends(tmp_path: Path, table: FakeTable) -> None:
    spool = Spool(tmp_path, table, fsync=True)
    spool.append(record("a" * 16, 1), FIELDS)
    spool.flush()
    assert list(table.items) == [("a" * 16, 1)]


def test_spool_files_are_private(tmp_path: Path, table: FakeTable) -> None:
    Spool(tmp_path, table).append(record("a" * 16, 1), FIELDS)
    (path,) = tmp_path.glob("*.spool")
    assert os.stat(path).st_mode & 0o077 == 0


def test_a_shipper_process_round_ships_full_batches_then_the_lingering_rest(tmp_path: Path, table: FakeTable,
                                                                             monkeypatch) -> None:
    writer = Spool(tmp_path, table, background=False)
    for seq in range(1, BATCH + 4):
        writer.append(record("a" * 16, seq), FIELDS)
    shipper = Spool(tmp_path, table, background=False)
    lingering: dict[Path, float] = {}
    shipper.ship_round(lingering)
    assert table.batches == [BATCH] and len(lingering) == 1
    shipper.ship_round(lingering)
    assert table.batches == [BATCH]  # the remainder waits for more records ...
    monkeypatch.setattr(spool_module, "LINGER_SECONDS", 0.0)
    shipper.ship_round(lingering)
    assert table.batches == [BATCH, 3] and not lingering  # ... until it has lingered
    assert writer._thread is None  # no shipping thread in a writer when a process ships


def test_a_shipper_process_removes_finished_segments(tmp_path: Path, table: FakeTable) -> None:
    writer = Spool(tmp_path, table, background=False)
    for seq in range(1, BATCH + 1):
        writer.append(record("a" * 16, seq), FIELDS)
    writer.append(record("b" * 16, 1), FIELDS)  # the first segment is finished
    Spool(tmp_path, table, background=False).ship_round({})
    assert ("a" * 16, BATCH) in table.items
    assert [p.name.split("-")[0] for p in tmp_path.glob("*.spool")] == ["b" * 16]
