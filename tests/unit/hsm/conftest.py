"""A throwaway SoftHSM2 token for the PKCS#11 backend tests, one per test process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
DOMAIN_KEY_LABEL = "test-domain-key-1"


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str
    domain_key_label: str


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """An initialised token in a temp dir; SOFTHSM2_CONF is read once, when the library loads."""
    if not Path(MODULE).exists():
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label = f"kms-test-{os.getpid()}"
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "5678"],
        check=True,
        capture_output=True,
    )
    yield Token(MODULE, label, PIN, DOMAIN_KEY_LABEL)
    if previous is None:
        del os.environ["SOFTHSM2_CONF"]
    else:
        os.environ["SOFTHSM2_CONF"] = previous
