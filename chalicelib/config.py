"""Settings, read once from the environment (Lambda configuration or the local launcher)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    region: str
    account_id: str
    #: "pkcs11" (SoftHSM2 locally, a network HSM in AWS) or "soft" (pure software, unit tests only).
    hsm_backend: str
    pkcs11_module: str
    pkcs11_token_label: str
    pkcs11_pin: str
    domain_key_label: str
    #: Hex domain key for the software backend; random per process when empty.
    soft_domain_key: str
    #: None in AWS (the regional DynamoDB endpoint); the embedded store's URL locally.
    dynamodb_endpoint: str | None
    table_prefix: str
    #: Shared write-generation file of the local server's workers; empty in AWS (store/cache.py).
    cache_generation_file: str
    #: Seconds a worker may serve a key it read without re-reading it, where no generation file is.
    key_cache_seconds: float
    #: Local mode only: shared clock-offset file, and the /_local admin routes (clock, jobs).
    clock_file: str
    local_admin: bool
    #: EventBridge bus for rotation/deletion events; empty: events only go to the log and audit.
    event_bus: str
    #: "aws.kms" like AWS's own events; real EventBridge reserves aws.* sources, so set another
    #: source (e.g. "custom.kms") when deploying.
    event_source: str
    events_endpoint: str | None
    #: KMS_AUDIT=off turns the audit trail off (benchmark comparison only; never in production).
    audit: bool = True
    #: Label of the HSM-held EC P-256 key pair that signs audit digests and chain registrations.
    audit_key_label: str = "kms-audit-signing-1"
    #: Seconds a writer appends to one audit chain before it starts a new one (docs/audit.md).
    audit_chain_seconds: float = 900.0
    #: Local mode: directory of the audit spool (chalicelib/audit/spool.py); empty: one PutItem per record.
    audit_spool_dir: str = ""
    #: fdatasync each spooled record (power-loss durability; costs ~0.5 ms per call).
    audit_fsync: bool = False
    #: Who ships the spool: "thread" (one per worker) or "process" (chalicelib.audit.shipper runs).
    audit_shipper: str = "thread"

    @property
    def audit_events_table(self) -> str:
        return f"{self.table_prefix}-audit-events"

    @property
    def audit_chains_table(self) -> str:
        return f"{self.table_prefix}-audit-chains"

    @property
    def audit_digests_table(self) -> str:
        return f"{self.table_prefix}-audit-digests"

    @property
    def keys_table(self) -> str:
        return f"{self.table_prefix}-keys"

    @property
    def aliases_table(self) -> str:
        return f"{self.table_prefix}-aliases"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings; tests that change the environment call settings.cache_clear()."""
    return Settings(
        region=_env("KMS_REGION", os.environ.get("AWS_REGION", "us-east-1")),
        account_id=_env("KMS_ACCOUNT_ID", "111122223333"),
        hsm_backend=_env("KMS_HSM_BACKEND", "pkcs11"),
        pkcs11_module=_env("KMS_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
        pkcs11_token_label=_env("KMS_PKCS11_TOKEN_LABEL", "kms"),
        pkcs11_pin=_env("KMS_PKCS11_PIN", "1234"),
        domain_key_label=_env("KMS_DOMAIN_KEY_LABEL", "kms-domain-key-1"),
        soft_domain_key=_env("KMS_SOFT_DOMAIN_KEY", ""),
        dynamodb_endpoint=os.environ.get("KMS_DYNAMODB_ENDPOINT") or None,
        table_prefix=_env("KMS_TABLE_PREFIX", "kms"),
        cache_generation_file=_env("KMS_CACHE_GENERATION_FILE", ""),
        key_cache_seconds=float(_env("KMS_KEY_CACHE_SECONDS", "0")),
        clock_file=_env("KMS_CLOCK_FILE", ""),
        local_admin=_env("KMS_LOCAL_ADMIN", "") == "1",
        event_bus=_env("KMS_EVENT_BUS", ""),
        event_source=_env("KMS_EVENT_SOURCE", "aws.kms"),
        events_endpoint=os.environ.get("KMS_EVENTS_ENDPOINT") or None,
        audit=_env("KMS_AUDIT", "on").lower() not in ("off", "0", "false", "no"),
        audit_key_label=_env("KMS_AUDIT_KEY_LABEL", "kms-audit-signing-1"),
        audit_chain_seconds=float(_env("KMS_AUDIT_CHAIN_SECONDS", "900")),
        audit_spool_dir=_env("KMS_AUDIT_SPOOL_DIR", ""),
        audit_fsync=_env("KMS_AUDIT_FSYNC", "off").lower() in ("on", "1", "true", "yes"),
        audit_shipper=_env("KMS_AUDIT_SHIPPER", "thread"),
    )
