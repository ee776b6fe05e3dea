"""The key aggregate: metadata, versions and the state machine of a KMS key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from chalicelib.errors import (
    DisabledException,
    KMSInvalidStateException,
    LimitExceededException,
    UnsupportedOperationException,
)

#: AWS KMS quota, not adjustable: on-demand rotations in a key's lifetime.
MAX_ON_DEMAND_ROTATIONS = 25


class KeyState(str, Enum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"
    PENDING_IMPORT = "PendingImport"
    UNAVAILABLE = "Unavailable"


class KeySpec(str, Enum):
    """Key specs this service can create (later issues add asymmetric and HMAC specs)."""

    SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"

    @property
    def encryption_algorithms(self) -> tuple[str, ...]:
        return ("SYMMETRIC_DEFAULT",)


class RotationType(str, Enum):
    AUTOMATIC = "AUTOMATIC"
    ON_DEMAND = "ON_DEMAND"


class KeyUsage(str, Enum):
    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"


class Origin(str, Enum):
    AWS_KMS = "AWS_KMS"


@dataclass(frozen=True)
class KeyVersion:
    """One generation of key material; `wrapped` is opaque to everything but the HSM backend."""

    number: int
    material_id: str
    wrapped: bytes
    created: datetime
    #: How this version came to be; None for the key's original material.
    rotation_type: RotationType | None = None


@dataclass(frozen=True)
class Key:
    key_id: str
    arn: str
    account_id: str
    created: datetime
    state: KeyState
    description: str
    spec: KeySpec
    usage: KeyUsage
    origin: Origin
    versions: tuple[KeyVersion, ...]
    tags: dict[str, str] = field(default_factory=dict)
    deletion_date: datetime | None = None
    #: Automatic rotation period; None while automatic rotation is disabled.
    rotation_period_days: int | None = None
    #: When the rotation job next rotates the key (indexed, so a sweep reads only due keys).
    next_rotation: datetime | None = None
    #: Optimistic-lock counter of the stored item; never the key-material version.
    revision: int = 0

    @property
    def current_version(self) -> KeyVersion:
        return self.versions[-1]

    def version(self, number: int) -> KeyVersion | None:
        """The version with this number, or None if the key never had it."""
        return next((v for v in self.versions if v.number == number), None)

    def require_usable(self) -> None:
        """Raise the error AWS gives when a cryptographic operation meets this key's state."""
        if self.state is KeyState.ENABLED:
            return
        if self.state is KeyState.DISABLED:
            raise DisabledException(f"{self.arn} is disabled.")
        raise KMSInvalidStateException(f"{self.arn} is {_state_phrase(self.state)}.")

    def require_not_pending_deletion(self) -> None:
        """Management calls (enable, disable, tags, description) refuse a key pending deletion."""
        if self.state is KeyState.PENDING_DELETION:
            raise KMSInvalidStateException(f"{self.arn} is pending deletion.")

    def enable(self) -> Key:
        self.require_not_pending_deletion()
        return dataclasses.replace(self, state=KeyState.ENABLED)

    def disable(self) -> Key:
        self.require_not_pending_deletion()
        return dataclasses.replace(self, state=KeyState.DISABLED)

    def schedule_deletion(self, *, now: datetime, days: int) -> Key:
        self.require_not_pending_deletion()
        return dataclasses.replace(
            self, state=KeyState.PENDING_DELETION, deletion_date=now + timedelta(days=days)
        )

    def cancel_deletion(self) -> Key:
        # AWS: a key whose deletion is cancelled comes back Disabled, whatever it was before.
        if self.state is not KeyState.PENDING_DELETION:
            raise KMSInvalidStateException(f"{self.arn} is not pending deletion.")
        return dataclasses.replace(self, state=KeyState.DISABLED, deletion_date=None)

    def enable_rotation(self, *, now: datetime, period_days: int) -> Key:
        """Turn on automatic rotation, or change its period keeping the schedule's start."""
        self.require_usable()
        start = now
        if self.next_rotation is not None and self.rotation_period_days is not None:
            start = self.next_rotation - timedelta(days=self.rotation_period_days)
        return dataclasses.replace(
            self, rotation_period_days=period_days, next_rotation=start + timedelta(days=period_days)
        )

    def disable_rotation(self) -> Key:
        self.require_usable()
        return dataclasses.replace(self, rotation_period_days=None, next_rotation=None)

    def rotation_due(self, now: datetime) -> bool:
        """Disabled keys and keys pending deletion wait; they rotate once enabled again."""
        return (
            self.state is KeyState.ENABLED
            and self.next_rotation is not None
            and self.next_rotation <= now
        )

    def rotate(self, version: KeyVersion, *, now: datetime) -> Key:
        """Add `version` as the current material; automatic rotations also move the schedule."""
        if version.number != self.current_version.number + 1:
            raise ValueError("versions are numbered consecutively")
        self.require_usable()
        if version.rotation_type is RotationType.ON_DEMAND:
            if self.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS:
                raise LimitExceededException(
                    f"The key {self.arn} has reached its limit of "
                    f"{MAX_ON_DEMAND_ROTATIONS} on-demand rotations."
                )
            # AWS: on-demand rotations do not change the automatic rotation schedule.
            return dataclasses.replace(self, versions=self.versions + (version,))
        assert self.rotation_period_days is not None, "automatic rotation needs a period"
        return dataclasses.replace(
            self,
            versions=self.versions + (version,),
            next_rotation=now + timedelta(days=self.rotation_period_days),
        )

    @property
    def on_demand_rotations(self) -> int:
        return sum(1 for v in self.versions if v.rotation_type is RotationType.ON_DEMAND)

    def deletion_due(self, now: datetime) -> bool:
        return (
            self.state is KeyState.PENDING_DELETION
            and self.deletion_date is not None
            and self.deletion_date <= now
        )

    def describe(self, description: str) -> Key:
        self.require_not_pending_deletion()
        return dataclasses.replace(self, description=description)

    def with_tags(self, tags: dict[str, str]) -> Key:
        self.require_not_pending_deletion()
        return dataclasses.replace(self, tags=tags)


def parse_spec(value: str) -> KeySpec:
    """KeySpec from the wire; specs that exist in AWS but not here are unsupported, not invalid."""
    try:
        return KeySpec(value)
    except ValueError:
        raise UnsupportedOperationException(
            f"KeySpec {value} is not supported by this service."
        ) from None


def _state_phrase(state: KeyState) -> str:
    return {
        KeyState.PENDING_DELETION: "pending deletion",
        KeyState.PENDING_IMPORT: "pending import",
        KeyState.UNAVAILABLE: "unavailable",
    }.get(state, state.value)
