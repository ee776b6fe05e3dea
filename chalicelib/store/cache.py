"""Per-process read-through cache of keys and aliases, invalidated by a shared generation counter.

Every Encrypt/Decrypt/GenerateDataKey needs the key's state and wrapped material; reading them
from the store costs ~2.5 ms of a ~3 ms call. Keys change rarely, so each worker process keeps
what it read, valid while the store's write generation is unchanged:

- Locally all workers share one machine, so the generation is a counter in a memory-mapped file
  (`KMS_CACHE_GENERATION_FILE`, set by the local launcher). A writer bumps it after its store
  write and before it answers, so any call that starts after a write's response sees the write:
  caching changes no observable behaviour.
- In Lambda, containers share no memory, so entries expire after `KMS_KEY_CACHE_SECONDS`
  (default 0: no caching, every call reads the store). A positive value trades that many seconds
  of staleness after a state change for throughput, like AWS KMS's own eventual consistency.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

from chalicelib.shared import SharedInt

T = TypeVar("T")


class Generation:
    """The machine-wide store write counter."""

    def __init__(self, path: str) -> None:
        self._value = SharedInt(path)

    def read(self) -> int:
        # A torn read can only produce a value that differs from the cached one: a miss, never a
        # stale hit.
        return self._value.read()

    def bump(self) -> None:
        self._value.add(1)


class Cache(Generic[T]):
    """Entries valid while the generation is unchanged (local) or for `ttl` seconds (Lambda)."""

    def __init__(self, generation: Generation | None, ttl: float, max_entries: int = 10_000) -> None:
        self._generation = generation
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[int, float, T]] = {}

    @property
    def enabled(self) -> bool:
        return self._generation is not None or self._ttl > 0

    def get(self, name: str) -> T | None:
        entry = self._entries.get(name)
        if entry is None:
            return None
        generation, expires, value = entry
        if self._generation is not None:
            if generation != self._generation.read():
                self._entries.clear()
                return None
        elif time.monotonic() > expires:
            del self._entries[name]
            return None
        return value

    def put(self, name: str, value: T, generation: int) -> None:
        """Store a value read at `generation` (taken before the store read)."""
        if not self.enabled:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[name] = (generation, time.monotonic() + self._ttl, value)

    def current(self) -> int:
        """Read before a store read, so a write racing with the read invalidates the entry."""
        return self._generation.read() if self._generation is not None else 0

    def invalidate(self, name: str) -> None:
        """After a store write: drop our copy and tell every other process."""
        self._entries.pop(name, None)
        if self._generation is not None:
            self._generation.bump()
