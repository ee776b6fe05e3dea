"""Integration fixtures: real clients against a served KMS.

Every test talks to "ours": the app served by `python -m chalicelib.local` on a free port with a
throwaway data directory, or whatever endpoint `KMS_ENDPOINT` names. Tests marked `aws` encode
only AWS KMS behaviour, so they also run against a moto server: a test that moto passes too is
evidence that it checks AWS semantics rather than our implementation. Under pytest-xdist every
worker starts its own servers, and tests only ever look at resources they created themselves.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.config import Config

from kms_helpers import ACCESS_KEY, ACCOUNT_ID, REGION, SECRET_KEY

#: First start of the local launcher may install npm packages (the embedded store).
OURS_START_TIMEOUT = 120.0
MOTO_START_TIMEOUT = 30.0
READY_LINE = re.compile(r"kms-local ready on (http://\S+)")

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run `aws`-marked tests against ours and moto, everything else against ours only."""
    if "kms_target" not in metafunc.fixturenames:
        return
    targets = ["ours", "moto"] if metafunc.definition.get_closest_marker("aws") else ["ours"]
    metafunc.parametrize("kms_target", targets, indirect=True, ids=targets)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    # The launcher may leave children (embedded store, workers) in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "<no log>"


@contextlib.contextmanager
def _startup_lock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Serialize server start-up across xdist workers (a first start may install npm packages)."""
    root = tmp_path_factory.getbasetemp().parent
    with open(root / "kms-local-start.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def serve_kms_local(tmp_path_factory: pytest.TempPathFactory,
                    extra_env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start `python -m chalicelib.local` on a free port with a fresh data dir; yield its URL."""
    data_dir = tmp_path_factory.mktemp("kms-data")
    log_path = data_dir.parent / f"{data_dir.name}.log"
    port = _free_port()
    env = dict(os.environ, KMS_ACCOUNT_ID=ACCOUNT_ID, KMS_REGION=REGION, PYTHONUNBUFFERED="1",
               **(extra_env or {}))
    cmd = [sys.executable, "-m", "chalicelib.local", "--host", "127.0.0.1", "--port", str(port),
           "--data-dir", str(data_dir)]
    with _startup_lock(tmp_path_factory), open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + OURS_START_TIMEOUT
        url = None
        while url is None:
            match = READY_LINE.search(_tail(log_path, 1_000_000))
            if match:
                url = match.group(1).rstrip("/")
            elif proc.poll() is not None:
                pytest.fail(f"kms-local exited with {proc.returncode} before it was ready:\n"
                            f"{_tail(log_path)}")
            elif time.monotonic() > deadline:
                _stop(proc)
                pytest.fail(f"kms-local not ready within {OURS_START_TIMEOUT:.0f}s:\n{_tail(log_path)}")
            else:
                time.sleep(0.1)
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def ours_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of our KMS: `KMS_ENDPOINT`, or a local server started for this worker."""
    external = os.environ.get("KMS_ENDPOINT")
    if external:
        yield external.rstrip("/")
        return
    with serve_kms_local(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto server for this worker, answering as our account id."""
    port = _free_port()
    log_path = tmp_path_factory.getbasetemp() / f"moto-{port}.log"
    env = dict(os.environ, MOTO_ACCOUNT_ID=ACCOUNT_ID)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MOTO_START_TIMEOUT
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                pytest.fail(f"moto server did not start:\n{_tail(log_path)}")
            time.sleep(0.1)
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def kms_target(request: pytest.FixtureRequest) -> str:
    """"ours" or "moto"; set by pytest_generate_tests."""
    return str(getattr(request, "param", "ours"))


@pytest.fixture
def endpoint(request: pytest.FixtureRequest, kms_target: str) -> str:
    """The endpoint URL of the server under test (servers start lazily, on first use)."""
    return str(request.getfixturevalue(f"{kms_target}_endpoint"))


_clients: dict[tuple[str, bool], Any] = {}


def _client(endpoint: str, validate: bool) -> Any:
    cached = _clients.get((endpoint, validate))
    if cached is None:
        config = Config(
            retries={"total_max_attempts": 1},
            parameter_validation=validate,
            connect_timeout=10,
            read_timeout=60,
        )
        cached = boto3.session.Session().client(
            "kms", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, config=config,
        )
        _clients[(endpoint, validate)] = cached
    return cached


@pytest.fixture
def kms(endpoint: str) -> Any:
    """A boto3 KMS client for the server under test (client-side validation on, no retries)."""
    return _client(endpoint, validate=True)


@pytest.fixture
def kms_unvalidated(endpoint: str) -> Any:
    """Like `kms` but without client-side validation, so bad input reaches the server."""
    return _client(endpoint, validate=False)


@pytest.fixture
def key_id(kms: Any) -> str:
    """A fresh symmetric key for this test."""
    return str(kms.create_key(Description="integration test key")["KeyMetadata"]["KeyId"])


@pytest.fixture
def new_key(kms: Any) -> Callable[..., dict[str, Any]]:
    """Create a key (any CreateKey arguments) and return its KeyMetadata."""

    def create(**kwargs: Any) -> dict[str, Any]:
        return dict(kms.create_key(**kwargs)["KeyMetadata"])

    return create


@dataclass
class RawResponse:
    status: int
    #: Case-insensitive, as HTTP header names are.
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@pytest.fixture
def raw_post(endpoint: str) -> Callable[..., RawResponse]:
    """POST an arbitrary body with an arbitrary X-Amz-Target, SigV4-signed like a real client."""
    credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)

    def post(target: str | None, body: str | bytes,
             content_type: str = "application/x-amz-json-1.1") -> RawResponse:
        headers = {"Content-Type": content_type}
        if target is not None:
            headers["X-Amz-Target"] = target
        data = body.encode() if isinstance(body, str) else body
        request = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=data,
                                                 headers=headers)
        botocore.auth.SigV4Auth(credentials, "kms", REGION).add_auth(request)
        resp = requests.post(endpoint + "/", data=data, headers=dict(request.headers.items()),
                             timeout=60)
        return RawResponse(resp.status_code, resp.headers, resp.text)

    return post
