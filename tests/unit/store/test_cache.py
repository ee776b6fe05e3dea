"""The per-process key cache and its machine-wide write generation."""

import multiprocessing
import time

from chalicelib.store.cache import Cache, Generation


def _bump(path: str, times: int) -> None:
    generation = Generation(path)
    for _ in range(times):
        generation.bump()


def test_bumps_from_other_processes_are_all_counted(tmp_path):
    path = str(tmp_path / "gen")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_bump, args=(path, 200)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert Generation(path).read() == 600


def test_a_write_in_another_process_invalidates_the_entry(tmp_path):
    path = str(tmp_path / "gen")
    cache: Cache[str] = Cache(Generation(path), ttl=0)
    cache.put("k", "v1", cache.current())
    assert cache.get("k") == "v1"
    other = multiprocessing.get_context("fork").Process(target=_bump, args=(path, 1))
    other.start()
    other.join()
    assert cache.get("k") is None


def test_a_value_read_across_a_concurrent_write_is_never_served(tmp_path):
    cache: Cache[str] = Cache(Generation(str(tmp_path / "gen")), ttl=0)
    before = cache.current()  # taken before the store read
    cache.invalidate("k")  # a writer finishes while we read
    cache.put("k", "stale", before)
    assert cache.get("k") is None


def test_without_generation_entries_expire_after_the_ttl():
    cache: Cache[str] = Cache(None, ttl=0.05)
    cache.put("k", "v", cache.current())
    assert cache.get("k") == "v"
    time.sleep(0.06)
    assert cache.get("k") is None


def test_without_generation_or_ttl_nothing_is_cached():
    cache: Cache[str] = Cache(None, ttl=0)
    cache.put("k", "v", cache.current())
    assert cache.get("k") is None
