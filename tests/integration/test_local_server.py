"""The local launcher (`python -m chalicelib.local`) as a user runs it: one command, real processes.

Every test starts its own launcher on a free loopback port with its own data directory and stops
everything it started. These tests are about the launcher itself, so they ignore KMS_ENDPOINT.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^kms-local ready on (http://\S+) \(data: (.+)\)$", re.MULTILINE)
#: A first run may install dynalite from npm (.ci/setup does it beforehand).
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) for every process, from /proc."""
    table: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces.
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table = _proc_table()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, (ppid, _) in table.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (zombies count as gone: a container's pid 1 may not reap)."""
    table = _proc_table()
    return {p for p in pids if p in table and table[p][1] not in ("Z", "X")}


def _wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


class Launcher:
    """One `python -m chalicelib.local` process with its logs."""

    def __init__(self, data_dir: Path, *, workers: int = 1, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or _free_port()
        run = uuid.uuid4().hex[:8]
        self.stdout_path = data_dir.parent / f"{data_dir.name}-{run}.out"
        self.stderr_path = data_dir.parent / f"{data_dir.name}-{run}.err"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("KMS_ENDPOINT", None)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chalicelib.local", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", str(data_dir), "--workers", str(workers)],
                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True,
            )
        self.url = ""

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            match = READY.search(self.stdout)
            if match:
                self.url = match.group(1)
                assert match.group(2) == str(self.data_dir.resolve())
                return self.url
            if self.proc.poll() is not None:
                pytest.fail(f"kms-local exited with {self.proc.returncode} before ready:\n{self.stderr[-4000:]}")
            if time.monotonic() > deadline:
                self.kill_everything()
                pytest.fail(f"kms-local not ready within {START_TIMEOUT:.0f}s:\n{self.stderr[-4000:]}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_everything()
            pytest.fail(f"kms-local did not exit within {timeout:.0f}s:\n{self.stderr[-4000:]}")

    def tree(self) -> set[int]:
        """The launcher and every process below it."""
        return {self.proc.pid} | _descendants(self.proc.pid)

    def kill_everything(self) -> set[int]:
        """SIGKILL the launcher's process group and every descendant at once; return the pids."""
        pids = self.tree()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        return pids

    def stop(self) -> None:
        """What every test does last: SIGTERM, then SIGKILL whatever is left."""
        pids = self.tree()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if _wait_gone(pids, 5):
            self.kill_everything()
            for pid in _alive(pids):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def launchers() -> Iterator[list[Launcher]]:
    """Launchers a test started; all stopped at teardown, whatever happened."""
    started: list[Launcher] = []
    yield started
    for launcher in started:
        launcher.stop()


def _start(launchers: list[Launcher], data_dir: Path, **kwargs: Any) -> Launcher:
    launcher = Launcher(data_dir, **kwargs)
    launchers.append(launcher)
    launcher.wait_ready()
    return launcher


def _kms(url: str) -> Any:
    return boto3.session.Session().client(
        "kms", region_name=REGION, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=60),
    )


def _signed_post(url: str, target: str | None, body: bytes, path: str = "/") -> requests.Response:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        headers["X-Amz-Target"] = target
    request = botocore.awsrequest.AWSRequest(method="POST", url=url + path, data=body, headers=headers)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("x", "x"), "kms", REGION).add_auth(request)
    return requests.post(url + path, data=body, headers=dict(request.headers.items()), timeout=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One launcher with the default two workers, shared by the read-mostly tests below."""
    launcher = Launcher(tmp_path_factory.mktemp("kms-served"), workers=2)
    try:
        yield launcher.wait_ready()
    finally:
        launcher.stop()


def test_ready_line_is_the_only_stdout(tmp_path: Path, launchers: list[Launcher]) -> None:
    launcher = _start(launchers, tmp_path / "data")
    assert launcher.stdout == f"kms-local ready on http://127.0.0.1:{launcher.port} (data: {tmp_path / 'data'})\n"


def test_boto3_calls_get_aws_shaped_responses(served: str) -> None:
    kms = _kms(served)
    created = kms.create_key(Description="served")
    key_id = created["KeyMetadata"]["KeyId"]
    described = kms.describe_key(KeyId=key_id)
    assert described["KeyMetadata"]["KeyState"] == "Enabled"
    headers = described["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/x-amz-json-1.1"
    # botocore reads the request id from x-amzn-RequestId; it must be there and unique per call.
    request_id = described["ResponseMetadata"]["RequestId"]
    assert headers["x-amzn-requestid"] == request_id
    assert uuid.UUID(request_id) and request_id != created["ResponseMetadata"]["RequestId"]


def test_envelope_round_trip_through_the_server(served: str) -> None:
    kms = _kms(served)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"app": "it"})
    plaintext = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"app": "it"})
    assert plaintext["Plaintext"] == data_key["Plaintext"]


def test_unknown_action_is_unknown_operation_through_botocore(served: str) -> None:
    response = _signed_post(served, "TrentService.NoSuchAction", b"{}")
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"
    assert response.headers["x-amzn-RequestId"]


def test_non_utf8_body_reaches_the_app_and_is_a_client_error(served: str) -> None:
    # API Gateway hands such a body over base64-encoded; the adapter must not turn it into a 5xx.
    response = _signed_post(served, "TrentService.ListKeys", b"\xff\xfe{not json\x00")
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"


def test_unknown_path_gets_api_gateways_403(served: str) -> None:
    response = requests.post(served + "/no/such/path", data=b"{}", timeout=30)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["Content-Type"] == "application/json"


def test_keys_survive_kill_9_of_every_process(tmp_path: Path, launchers: list[Launcher]) -> None:
    data_dir = tmp_path / "data"
    first = _start(launchers, data_dir)
    kms = _kms(first.url)
    key_id = kms.create_key(Description="survivor")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"acknowledged means durable")["CiphertextBlob"]
    kms.create_alias(AliasName="alias/survivor", TargetKeyId=key_id)

    killed = first.kill_everything()
    assert len(killed) >= 4  # launcher, dynalite, granian, a worker
    assert not _wait_gone(killed, 10)

    second = _start(launchers, data_dir)
    kms = _kms(second.url)
    metadata = kms.describe_key(KeyId="alias/survivor")["KeyMetadata"]
    assert (metadata["KeyId"], metadata["Description"], metadata["KeyState"]) == (key_id, "survivor", "Enabled")
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"acknowledged means durable"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_0_and_leaves_no_process(tmp_path: Path, launchers: list[Launcher],
                                                   stop_signal: signal.Signals) -> None:
    launcher = _start(launchers, tmp_path / "data")
    tree = launcher.tree()
    assert len(tree) >= 4
    launcher.proc.send_signal(stop_signal)
    assert launcher.wait_exit() == 0, launcher.stderr
    assert not _wait_gone(tree, 5)


def test_launcher_killed_alone_takes_its_children_along(tmp_path: Path, launchers: list[Launcher]) -> None:
    launcher = _start(launchers, tmp_path / "data")
    tree = launcher.tree()
    os.kill(launcher.proc.pid, signal.SIGKILL)
    launcher.proc.wait(10)
    assert not _wait_gone(tree, 15)


def test_store_dying_stops_the_server_and_fails(tmp_path: Path, launchers: list[Launcher]) -> None:
    launcher = _start(launchers, tmp_path / "data")
    tree = launcher.tree()
    table = _proc_table()
    store = [p for p in tree if Path(f"/proc/{p}/cmdline").read_bytes().find(b"dynalite") >= 0
             and table[p][0] == launcher.proc.pid]
    assert len(store) == 1
    os.kill(store[0], signal.SIGKILL)
    assert launcher.wait_exit() == 1
    assert "dynalite exited unexpectedly (killed by SIGKILL)" in launcher.stderr
    assert not _wait_gone(tree, 5)


def test_second_launcher_on_the_same_data_dir_refuses(tmp_path: Path, launchers: list[Launcher]) -> None:
    _start(launchers, tmp_path / "data")
    second = Launcher(tmp_path / "data")
    launchers.append(second)
    assert second.wait_exit() == 1
    assert "is in use by another kms-local" in second.stderr


def test_busy_port_fails_before_starting_anything(tmp_path: Path, launchers: list[Launcher]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        launcher = Launcher(tmp_path / "data", port=busy.getsockname()[1])
        launchers.append(launcher)
        assert launcher.wait_exit() == 1
    assert "cannot listen on 127.0.0.1" in launcher.stderr
    assert not (tmp_path / "data" / "dynamodb").exists()
