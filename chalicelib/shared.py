"""A 64-bit integer shared by every process on the machine through a memory-mapped file.

The local server's workers are separate processes; this is how they agree on the cache's write
generation and on the clock offset without a round trip to the store.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct

_INT = struct.Struct("<q")


class SharedInt:
    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _INT.size:
                os.ftruncate(fd, _INT.size)
            self._map = mmap.mmap(fd, _INT.size)
        finally:
            os.close(fd)
        self._path = path

    def read(self) -> int:
        return int(_INT.unpack_from(self._map)[0])

    def add(self, delta: int) -> int:
        """Atomic across processes (the file lock serialises writers); returns the new value."""
        with open(self._path, "rb+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            value = self.read() + delta
            _INT.pack_into(self._map, 0, value)
            return value
