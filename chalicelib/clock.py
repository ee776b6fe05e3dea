"""The service clock: UTC now, plus an offset a local user's test may advance (never in AWS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.shared import SharedInt


class Clock:
    def __init__(self, offset_file: str = "") -> None:
        # Microseconds ahead of real time, shared by every worker of the local server.
        self._offset = SharedInt(offset_file) if offset_file else None

    def now(self) -> datetime:
        real = datetime.now(timezone.utc)
        if self._offset is None:
            return real
        return real + timedelta(microseconds=self._offset.read())

    @property
    def adjustable(self) -> bool:
        return self._offset is not None

    def advance(self, seconds: float) -> datetime:
        """Move the service's time forward (local mode only); returns the new now."""
        if self._offset is None:
            raise RuntimeError("this clock is not adjustable")
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset.add(int(seconds * 1_000_000))
        return self.now()
