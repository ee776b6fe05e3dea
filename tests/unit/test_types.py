"""domain/ and api/ stay mypy --strict clean (pyproject.toml [tool.mypy])."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_domain_and_api_type_check_strictly():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "chalicelib/domain", "chalicelib/api"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
