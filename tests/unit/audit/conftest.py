"""Fixtures of the audit unit tests; the fakes live in audit_fakes.py (conftest names collide)."""

from __future__ import annotations

import pytest

from audit_fakes import Trail


@pytest.fixture
def trail() -> Trail:
    return Trail()
