"""Create the tables where they are missing (local store, tests); AWS gets them from infra/."""

from __future__ import annotations

from chalicelib.audit.models import AUDIT_MODELS
from chalicelib.store.models import AliasModel, KeyModel


def ensure_tables() -> None:
    """Idempotent: create every table this service needs and wait until they are active."""
    for model in (KeyModel, AliasModel, *AUDIT_MODELS):
        if not model.exists():
            model.create_table(wait=True)
