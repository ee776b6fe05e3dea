"""The embedded DynamoDB-compatible store: dynalite (npm), persisted to LevelDB in the data dir.

dynalite is pinned by chalicelib/local/dynalite/package-lock.json and installed with `npm ci`
into a cache directory outside the source tree (so `chalice package` never sees node_modules),
keyed by the lock file's hash: a new pin installs next to the old one. Installs are atomic
(install into a temporary directory, then rename), so concurrent first runs don't race.

`python -m chalicelib.local.store` installs it and prints the entry point (used by .ci/setup).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PINS = Path(__file__).resolve().parent / "dynalite"
# dynalite 4.0.0 declares engines.node >= 20, its dependencies (level 10, classic-level 3) >= 18;
# Debian 12 ships node 18, so that is accepted (the project image and CI use node 20).
NODE_MAJOR_MIN = 18


class StoreError(RuntimeError):
    """The store could not be installed or started; the message says what to do."""


def cache_root() -> Path:
    """Where installed store versions live: $KMS_LOCAL_CACHE_DIR, else $XDG_CACHE_HOME/kms-local."""
    if os.environ.get("KMS_LOCAL_CACHE_DIR"):
        return Path(os.environ["KMS_LOCAL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kms-local"


def install_dir() -> Path:
    """The directory for the pinned dynalite version (named after the pins' hash)."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((PINS / name).read_bytes())
    return cache_root() / f"dynalite-{digest.hexdigest()[:16]}"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise StoreError(f"node (>= {NODE_MAJOR_MIN}) not found: install Node.js (bash .ci/setup)")
    version = subprocess.run([node, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < NODE_MAJOR_MIN:
        raise StoreError(f"node {version} is too old for dynalite: need >= {NODE_MAJOR_MIN}")
    return node


def ensure_installed() -> Path:
    """Install the pinned dynalite if missing; return its cli.js."""
    target = install_dir()
    cli = target / "node_modules" / "dynalite" / "cli.js"
    if cli.exists():
        return cli
    _node()
    npm = shutil.which("npm")
    if npm is None:
        raise StoreError("npm not found: install Node.js and npm (bash .ci/setup)")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".dynalite-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(PINS / name, work / name)
        print(f"kms-local: installing dynalite into {target} (once)", file=sys.stderr, flush=True)
        # --ignore-scripts: classic-level ships N-API prebuilds that load without its install
        # script, so nothing is compiled and nothing from outside the registry is fetched.
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=work, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise StoreError(f"npm ci for dynalite failed:\n{result.stderr.strip()}")
        os.chmod(work, 0o755)  # mkdtemp made it private
        try:
            os.rename(work, target)
        except OSError:
            if not cli.exists():  # not a concurrent install that won the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return cli


def command(db_dir: Path, port: int) -> list[str]:
    """The dynalite command line: loopback only, persisted in `db_dir`, tables ACTIVE at once."""
    return [
        _node(), str(ensure_installed()),
        "--host", "127.0.0.1", "--port", str(port), "--path", str(db_dir),
        # dynalite keeps new tables CREATING for 500 ms by default; nothing local needs that.
        "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0",
    ]


def answers(port: int, timeout: float = 1.0) -> bool:
    """True once dynalite answers HTTP on `port` (any status: it rejects unsigned calls)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/", body=b"{}", headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        })
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


if __name__ == "__main__":
    print(ensure_installed())
