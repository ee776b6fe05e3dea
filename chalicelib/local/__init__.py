"""One-command local KMS: embedded DynamoDB-compatible store, SoftHSM2 token, multi-process server.

`kms-local` (or `python -m chalicelib.local`) starts dynalite on a free loopback port, provisions
the SoftHSM2 token, creates the domain key and the tables, then serves the Chalice app through
granian (see docs/decisions/0001-local-serving.md). Nothing here is imported by the Lambda code.
"""

#: In the data dir while a launcher runs: the embedded store's URL (for kms-audit-verify --data-dir).
STORE_ENDPOINT_FILE = "store-endpoint"
