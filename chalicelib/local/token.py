"""SoftHSM2 token provisioning for the local server: a private config and token in the data dir.

The token lives in `<data-dir>/softhsm/tokens` (SoftHSM2's file object store, so every object is
a file written before the PKCS#11 call returns). The token is initialised once with
softhsm2-util; its SO PIN is generated on first run and kept next to it, readable by the owner only.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

CONF_NAME = "softhsm2.conf"
SO_PIN_NAME = "so-pin"


class TokenError(RuntimeError):
    """The token could not be provisioned; the message says what to do."""


def _write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_config(softhsm_dir: Path) -> Path:
    """Write softhsm2.conf for a token directory inside `softhsm_dir`; return its path."""
    tokens = softhsm_dir / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = softhsm_dir / CONF_NAME
    # Rewritten each start so that a moved data directory still points at its own tokens.
    text = (
        "# Written by kms-local; rewritten on every start.\n"
        f"directories.tokendir = {tokens.resolve()}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
        "slots.mechanisms = ALL\n"
        "library.reset_on_fork = false\n"
    )
    if not conf.exists() or conf.read_text() != text:
        _write_atomically(conf, text)
    return conf


def _so_pin(softhsm_dir: Path) -> str:
    path = softhsm_dir / SO_PIN_NAME
    if path.exists():
        return path.read_text().strip()
    pin = secrets.token_hex(16)
    _write_atomically(path, pin + "\n", mode=0o600)
    return pin


def _util() -> str:
    util = shutil.which("softhsm2-util")
    if util is None:
        raise TokenError("softhsm2-util not found: install SoftHSM2 (bash .ci/setup, or apt-get install softhsm2)")
    return util


def token_labels(conf: Path) -> list[str]:
    """Labels of the initialised tokens that the config at `conf` holds."""
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    out = subprocess.run([_util(), "--show-slots"], env=env, check=True, capture_output=True, text=True).stdout
    labels: list[str] = []
    for block in re.split(r"^Slot \d+$", out, flags=re.MULTILINE)[1:]:
        if re.search(r"^\s*Initialized:\s*yes\s*$", block, re.MULTILINE):
            match = re.search(r"^\s*Label:\s*(.*?)\s*$", block, re.MULTILINE)
            if match:
                labels.append(match.group(1))
    return labels


def provision(softhsm_dir: Path, *, module: str, label: str, pin: str) -> Path:
    """Make sure the token `label` exists with user PIN `pin`; return the SOFTHSM2_CONF path."""
    if not Path(module).exists():
        raise TokenError(f"PKCS#11 module {module} not found: install SoftHSM2 (bash .ci/setup) "
                         "or set KMS_PKCS11_MODULE")
    if not 4 <= len(pin) <= 255:
        raise TokenError("KMS_PKCS11_PIN must be 4 to 255 characters (SoftHSM2's limits)")
    if not 1 <= len(label) <= 32:
        raise TokenError("KMS_PKCS11_TOKEN_LABEL must be 1 to 32 characters (PKCS#11 token label)")
    conf = write_config(softhsm_dir)
    if label not in token_labels(conf):
        env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
        result = subprocess.run(
            [_util(), "--init-token", "--free", "--label", label, "--so-pin", _so_pin(softhsm_dir), "--pin", pin],
            env=env, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise TokenError(f"softhsm2-util --init-token failed: {result.stderr.strip() or result.stdout.strip()}")
    return conf
