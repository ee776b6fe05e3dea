"""`kms-audit-verify`: check the audit trail of a running service and name what was tampered with.

    kms-audit-verify [--endpoint-url URL] [--data-dir DIR] [--table-prefix P]
                     [--public-key PEM] [--seal] [--json]
    kms-audit-verify --export-public-key [--data-dir DIR]

The store is the service's (--endpoint-url, or the URL a running kms-local wrote into --data-dir,
or KMS_DYNAMODB_ENDPOINT, or nothing for DynamoDB in AWS). The audit public key comes from --public-key, or from the
HSM (--data-dir points at a local server's SoftHSM2 token). --seal first seals the current chain
heads into a new digest, as the scheduled job does. Exit status: 0 sound, 1 findings, 2 error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from chalicelib.local import STORE_ENDPOINT_FILE


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    ap = argparse.ArgumentParser(prog="kms-audit-verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint-url", help="DynamoDB endpoint of the service's store [env KMS_DYNAMODB_ENDPOINT]")
    ap.add_argument("--data-dir", type=Path, help="a local server's data directory (its SoftHSM2 token)")
    ap.add_argument("--table-prefix", help="table name prefix [env KMS_TABLE_PREFIX]")
    ap.add_argument("--public-key", type=Path, help="PEM public key of the audit signing key (default: ask the HSM)")
    ap.add_argument("--seal", action="store_true", help="seal the current chain heads into a new digest first")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--export-public-key", action="store_true", help="print the audit public key (PEM) and exit")
    args = ap.parse_args(argv)

    # Settings are read when the store models are imported: set the environment first.
    if args.endpoint_url:
        os.environ["KMS_DYNAMODB_ENDPOINT"] = args.endpoint_url
    if args.table_prefix:
        os.environ["KMS_TABLE_PREFIX"] = args.table_prefix
    if args.data_dir:
        recorded = args.data_dir / STORE_ENDPOINT_FILE  # written by a running kms-local
        if not args.endpoint_url and recorded.exists():
            os.environ["KMS_DYNAMODB_ENDPOINT"] = recorded.read_text().strip()
        os.environ["SOFTHSM2_CONF"] = str(args.data_dir / "softhsm" / "softhsm2.conf")
        # Records a local server spooled but has not shipped yet are part of the trail.
        os.environ["KMS_AUDIT_SPOOL_DIR"] = str(args.data_dir / "audit-spool")
    if os.environ.get("KMS_DYNAMODB_ENDPOINT"):
        # A local store takes any credentials; do not let a user's profile get in the way.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "kms-local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "kms-local")
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("KMS_REGION", "us-east-1"))

    from chalicelib.config import settings

    settings.cache_clear()
    try:
        return _run(args)
    except Exception as e:  # noqa: BLE001 - a CLI reports, it does not trace back
        print(f"kms-audit-verify: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from chalicelib import runtime
    from chalicelib.audit import flush, seal_digest
    from chalicelib.audit.signing import from_pem, to_pem
    from chalicelib.audit.verify import verify

    if args.export_public_key:
        print(to_pem(runtime.backend().audit_public_key()), end="")
        return 0
    if args.seal:
        number = seal_digest()
        print(f"sealed digest {number}" if number else "nothing new to seal", file=sys.stderr)
    flush()
    public_key = from_pem(args.public_key.read_bytes()) if args.public_key else runtime.backend().audit_public_key()
    repo = runtime.audit_repository()
    report = verify(repo.all_events(), repo.chains(), repo.digests(), public_key)
    if args.json:
        out: dict[str, Any] = {
            "ok": report.ok, "records": report.records, "chains": report.chains, "digests": report.digests,
            "sealed_records": report.sealed_records, "findings": [f.as_dict() for f in report.findings],
        }
        print(json.dumps(out, indent=2))
    else:
        print(f"{report.records} records in {report.chains} chains, {report.digests} digests, "
              f"{report.sealed_records} records sealed")
        for f in report.findings:
            where = " ".join(f"{k}={v}" for k, v in f.as_dict().items() if k not in ("kind", "detail"))
            print(f"{f.kind.upper():9s} {where}: {f.detail}")
        print("trail verified: no tampering found" if report.ok else f"{len(report.findings)} finding(s)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
