"""Benchmark one rotation sweep: N keys with automatic rotation, a fraction of them due.

Runs against the embedded store (dynalite, as kms-local uses it) and counts every DynamoDB
request the sweep makes through pynamodb's request signal, so the figure shows what the sweep
costs in store reads, not only in seconds. The software HSM backend stands in for the token:
the sweep's HSM work (one key generation per due key) is not what is measured here.

    python bench/sweep.py [--keys 10000] [--due-percent 1]
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    args = parser.parse_args()

    from chalicelib.local import store

    with tempfile.TemporaryDirectory(prefix="kms-sweep-") as tmp:
        port = free_port()
        store.ensure_installed()
        dynalite = subprocess.Popen(store.command(Path(tmp), port), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            while not store.answers(port):
                time.sleep(0.05)
            os.environ.update(KMS_DYNAMODB_ENDPOINT=f"http://127.0.0.1:{port}", KMS_HSM_BACKEND="soft",
                              AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
            return run(args.keys, args.due_percent)
        finally:
            dynalite.terminate()
            dynalite.wait(10)


def run(n_keys: int, due_percent: float) -> int:
    from pynamodb.signals import pre_dynamodb_send

    from chalicelib.actions.rotation import new_version
    from chalicelib.domain.ids import Scope, new_key_id
    from chalicelib.domain.key import Key, KeySpec, KeyState, KeyUsage, Origin
    from chalicelib.hsm.soft import SoftBackend
    from chalicelib.jobs.sweeps import Sweeper
    from chalicelib.store.aliases import AliasRepository
    from chalicelib.store.cache import Cache
    from chalicelib.store.keys import KeyRepository
    from chalicelib.store.tables import ensure_tables

    class QuietEvents:
        def publish(self, *args: object) -> None:
            pass

    ensure_tables()
    scope = Scope("us-east-1", "111122223333")
    keys, hsm = KeyRepository(scope, Cache(None, 0)), SoftBackend()
    now = datetime.now(timezone.utc)
    n_due = round(n_keys * due_percent / 100)
    material = new_version(hsm, 1, now - timedelta(days=400), None)
    started = time.perf_counter()
    for i in range(n_keys):
        key_id = new_key_id()
        due = i < n_due
        keys.create(Key(
            key_id=key_id, arn=scope.key_arn(key_id), account_id=scope.account_id,
            created=material.created, state=KeyState.ENABLED, description="", spec=KeySpec.SYMMETRIC_DEFAULT,
            usage=KeyUsage.ENCRYPT_DECRYPT, origin=Origin.AWS_KMS, versions=(material,),
            rotation_period_days=365,
            next_rotation=now - timedelta(hours=1) if due else now + timedelta(days=1 + i % 300),
        ))
    print(f"created {n_keys} keys ({n_due} due) in {time.perf_counter() - started:.1f}s")

    requests: collections.Counter[str] = collections.Counter()

    def count(sender: object, operation_name: str, table_name: str, req_uuid: str) -> None:
        requests[operation_name] += 1

    pre_dynamodb_send.connect(count)
    sweeper = Sweeper(keys, AliasRepository(scope, Cache(None, 0)), hsm, QuietEvents())  # type: ignore[arg-type]
    started = time.perf_counter()
    report = sweeper.run(now)
    elapsed = time.perf_counter() - started
    pre_dynamodb_send.disconnect(count)

    reads = requests["Query"] + requests["GetItem"] + requests["Scan"]
    print(f"sweep: rotated {len(report.rotated)} of {n_due} due keys in {elapsed:.2f}s "
          f"({elapsed / max(1, len(report.rotated)) * 1000:.1f} ms per rotated key)")
    print(f"store requests: {dict(sorted(requests.items()))}")
    print(f"store reads per sweep: {reads} (index queries {requests['Query']}, key reads "
          f"{requests['GetItem']}, scans {requests['Scan']}); a full scan would read {n_keys} items")
    return 0 if len(report.rotated) == n_due and not report.failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
