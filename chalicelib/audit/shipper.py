"""`python -m chalicelib.audit.shipper`: the local server's audit shipper process.

Ships what the workers spool (chalicelib/audit/spool.py) to the events table, so the workers'
request threads never share their interpreter with shipping: measured, that saves ~0.07 ms of
worker CPU per call against a shipping thread in each worker. Also seals the chain heads into a
signed digest every KMS_AUDIT_SEAL_SECONDS (300), as the Lambda schedule in app.py does in AWS. Reads the service's settings from
the environment (KMS_AUDIT_SPOOL_DIR, KMS_DYNAMODB_ENDPOINT, ...). Stops on SIGTERM/SIGINT
after a last full flush. If it is not running, nothing is lost: every reader flushes first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.02
#: The local stand-in for the 5-minute sealing schedule app.py gives the Lambda deployment.
SEAL_SECONDS = float(os.environ.get("KMS_AUDIT_SEAL_SECONDS", "300"))


def _seal() -> None:
    from chalicelib import audit

    try:
        number = audit.seal_digest()
    except Exception as e:  # noqa: BLE001 - the next round tries again
        print(f"kms-audit-shipper: sealing failed ({type(e).__name__}: {e})", file=sys.stderr)
        return
    if number is not None:
        logging.getLogger(__name__).info("sealed digest %d", number)


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
    next_seal = time.monotonic() + SEAL_SECONDS
    while not stop:
        spool.ship_round(lingering)
        if time.monotonic() >= next_seal:
            next_seal = time.monotonic() + SEAL_SECONDS
            _seal()
        time.sleep(POLL_SECONDS)
    try:
        spool.flush()
    except Exception as e:  # noqa: BLE001 - what is left stays spooled for the next start
        print(f"kms-audit-shipper: final flush failed ({type(e).__name__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
