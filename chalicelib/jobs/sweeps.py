"""The scheduled sweeps: rotate keys whose rotation is due, delete keys whose wait has ended.

Both read only due keys (sparse due-time indexes), change each key with a conditional write, and
are safe to re-run or to run twice at once: the loser of a race re-reads the key, finds it no
longer due, and writes nothing. A crash between steps leaves work the next run completes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.actions.rotation import new_version
from chalicelib.domain.key import Key, RotationType
from chalicelib.errors import KmsError, NotFoundException
from chalicelib.hsm.protocol import Backend
from chalicelib.jobs.events import DELETION, ROTATION, EventPublisher
from chalicelib.store.aliases import AliasRepository
from chalicelib.store.keys import KeyRepository

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    rotated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sweeper:
    keys: KeyRepository
    aliases: AliasRepository
    hsm: Backend
    events: EventPublisher

    def run(self, now: datetime) -> SweepReport:
        """One pass of both jobs at `now`."""
        report = SweepReport()
        self.rotate_due(now, report)
        self.delete_due(now, report)
        return report

    def rotate_due(self, now: datetime, report: SweepReport) -> None:
        for key_id in self.keys.due_for_rotation(now):
            rotated = False

            def rotate_if_due(key: Key) -> Key:
                nonlocal rotated  # the last attempt of update() is the one that was stored
                rotated = key.rotation_due(now)
                if not rotated:
                    return key  # rotated by an overlapping run, or disabled: nothing to write
                number = key.current_version.number + 1
                return key.rotate(new_version(self.hsm, number, now, RotationType.AUTOMATIC), now=now)

            try:
                key = self.keys.update(key_id, rotate_if_due)
            except NotFoundException:
                continue  # deleted since the index was read
            except KmsError:
                # One failing key must not stop the sweep; it stays due for the next run.
                log.exception("rotation of key %s failed", key_id)
                report.failed.append(key_id)
                continue
            if rotated:
                report.rotated.append(key_id)
                self.events.publish(ROTATION, key.arn, key.key_id, now)

    def delete_due(self, now: datetime, report: SweepReport) -> None:
        for key_id in self.keys.due_for_deletion(now):
            try:
                key = self.keys.get(key_id)
                if not key.deletion_due(now):
                    continue
                # Aliases first: a crash after this step leaves a key still due, never an alias
                # pointing at nothing.
                for name in self.aliases.names_of(key_id):
                    try:
                        self.aliases.delete(name)
                    except NotFoundException:
                        pass
                self.keys.delete(key)
                for version in key.versions:
                    self.hsm.destroy_key_material(version.wrapped)
            except NotFoundException:
                continue  # deleted by an overlapping run
            except KmsError:
                log.exception("deletion of key %s failed", key_id)
                report.failed.append(key_id)
                continue
            report.deleted.append(key_id)
            self.events.publish(DELETION, key.arn, key.key_id, now)
