"""`python -m chalicelib.audit.shipper`: the local server's audit shipper process.

Ships what the workers spool (chalicelib/audit/spool.py) to the events table, so the workers'
request threads never share their interpreter with shipping: measured, that saves ~0.07 ms of
worker CPU per call against a shipping thread in each worker. Reads the service's settings from
the environment (KMS_AUDIT_SPOOL_DIR, KMS_DYNAMODB_ENDPOINT, ...). Stops on SIGTERM/SIGINT
after a last full flush. If it is not running, nothing is lost: every reader flushes first.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.02


def main() -> int:
    from chalicelib import runtime

    logging.basicConfig(level=logging.WARNING, format="kms-audit-shipper: %(message)s")
    spool = runtime.audit_spool()
    if spool is None:
        print("kms-audit-shipper: KMS_AUDIT_SPOOL_DIR is not set", file=sys.stderr)
        return 2
    stop = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    lingering: dict[Path, float] = {}
    while not stop:
        spool.ship_round(lingering)
        time.sleep(POLL_SECONDS)
    try:
        spool.flush()
    except Exception as e:  # noqa: BLE001 - what is left stays spooled for the next start
        print(f"kms-audit-shipper: final flush failed ({type(e).__name__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
