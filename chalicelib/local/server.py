"""The launcher behind `kms-local`: provisions the token and tables, supervises store and server.

Start order: lock the data dir, SoftHSM2 token, dynalite (child), HSM keys, tables, granian
(child, N worker processes serving chalicelib.local.wsgi). Then one line on stdout:
`kms-local ready on http://HOST:PORT (data: DIR)`. While running, the launcher stands in for the
EventBridge rule: every KMS_LOCAL_JOBS_INTERVAL seconds (3600; 0 = never) it has a worker run the
scheduled jobs through the local admin route.

Each child runs in its own process group and gets a parent-death signal, so that Ctrl-C in a
terminal reaches the launcher only and the launcher stops them in order (granian first, letting
in-flight requests finish against a live store, then dynalite), and so that no child outlives a
launcher killed with SIGKILL. SIGINT/SIGTERM/SIGHUP -> clean stop, exit 0; a child dying on its
own -> stop the rest, exit 1.
"""

from __future__ import annotations

import ctypes
import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chalicelib
from chalicelib.config import settings
from chalicelib.local import STORE_ENDPOINT_FILE, store, token

PR_SET_PDEATHSIG = 1
STARTUP_TIMEOUT = 60.0
POLL_INTERVAL = 0.2


@dataclass(frozen=True)
class LocalOptions:
    host: str
    port: int
    data_dir: Path
    workers: int


class LaunchError(RuntimeError):
    """Startup cannot go on; the message says why."""


class _Stop:
    """Set by SIGINT/SIGTERM/SIGHUP; the launcher polls it between steps."""

    requested = False

    @classmethod
    def install(cls) -> None:
        def handler(signum: int, frame: object) -> None:
            cls.requested = True

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, handler)


def say(message: str) -> None:
    """One diagnostic line on stderr (stdout carries only the ready line)."""
    print(f"kms-local: {message}", file=sys.stderr, flush=True)


def _child_preexec(death_signal: int) -> Callable[[], None]:
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        # Linux: the kernel signals the child when the launcher dies, even by SIGKILL.
        libc.prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os._exit(1)

    return preexec


class Child:
    """A supervised child process in its own process group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path,
                 stop_signal: int, stop_timeout: float) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
            process_group=0, preexec_fn=_child_preexec(stop_signal),
        )

    def exited(self) -> int | None:
        return self.proc.poll()

    def stop(self) -> None:
        """Ask politely, wait, then SIGKILL whatever is left in the group (e.g. stuck workers)."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(self.stop_signal)
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {self.stop_timeout:.0f}s; killing it")
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(address)
    except OSError as e:
        raise LaunchError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def _lock_data_dir(data_dir: Path) -> int:
    fd = os.open(data_dir / "kms-local.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LaunchError(f"{data_dir} is in use by another kms-local") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _project_root() -> Path:
    return Path(chalicelib.__file__).resolve().parent.parent


def service_env(data_dir: Path, softhsm_conf: Path, dynamodb_endpoint: str) -> dict[str, str]:
    """The environment of the launcher's own setup calls and of every worker."""
    env = dict(os.environ)
    # Dummy credentials for dynalite: a profile or session token from the user's shell must not
    # leak into (or break) local calls.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    # granian copies its environment into every WSGI environ, where HTTP_* would pose as request
    # headers (httpoxy); the workers talk to loopback only and need no proxy.
    for name in [n for n in env if n.startswith("HTTP_")]:
        del env[name]
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name, ""), "127.0.0.1", "localhost"]))
    env.update(
        KMS_DYNAMODB_ENDPOINT=dynamodb_endpoint,
        SOFTHSM2_CONF=str(softhsm_conf),
        KMS_HSM_BACKEND="pkcs11",
        AWS_ACCESS_KEY_ID="kms-local",
        AWS_SECRET_ACCESS_KEY="kms-local",
        AWS_DEFAULT_REGION=settings().region,
        # Local mode only (chalicelib/store/cache.py, chalicelib/api/local_admin.py): workers share
        # the cache write generation and the adjustable clock through files in the data dir; the
        # clock offset persists, so data written under an advanced clock stays consistent.
        KMS_CACHE_GENERATION_FILE=str(data_dir / "cache-generation"),
        KMS_CLOCK_FILE=str(data_dir / "clock-offset"),
        KMS_LOCAL_ADMIN="1",
    )
    # Local mode only (chalicelib/audit/spool.py): audit records are made durable in the data dir
    # before each answer and shipped to the audit table in batches; KMS_AUDIT_SPOOL_DIR="" opts out.
    env.setdefault("KMS_AUDIT_SPOOL_DIR", str(data_dir / "audit-spool"))
    if env["KMS_AUDIT_SPOOL_DIR"]:
        env.setdefault("KMS_AUDIT_SHIPPER", "process")  # the audit-shipper child below ships it
    # Workers import the same chalicelib (and app.py) as this launcher, not whatever the
    # current directory or another install would offer.
    root = str(_project_root())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def _probe_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _http_answers(host: str, port: int) -> bool:
    conn = http.client.HTTPConnection(_probe_host(host), port, timeout=2)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _jobs_interval() -> float:
    """Seconds between runs of the scheduled jobs: KMS_LOCAL_JOBS_INTERVAL, 0 turns them off."""
    raw = os.environ.get("KMS_LOCAL_JOBS_INTERVAL", "3600")  # app.py schedules them hourly
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise LaunchError(f"KMS_LOCAL_JOBS_INTERVAL must be a number of seconds, not {raw!r}") from None


def _run_jobs(host: str, port: int) -> None:
    """The local stand-in for the EventBridge rule: run the scheduled jobs in a worker."""
    conn = http.client.HTTPConnection(_probe_host(host), port, timeout=600)
    try:
        conn.request("POST", "/_local/jobs")
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
        if response.status != 200:
            say(f"scheduled jobs answered {response.status}: {body[:200]}")
        elif any(json.loads(body).values()):  # quiet when nothing was due
            say(f"scheduled jobs: {body}")
    except (OSError, http.client.HTTPException, ValueError, AttributeError) as e:
        say(f"scheduled jobs failed: {e!r}")
    finally:
        conn.close()


def _wait_until(child: Child, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if _Stop.requested:
            return
        code = child.exited()
        if code is not None:
            raise LaunchError(f"{child.name} exited during startup ({describe_exit(code)})")
        if time.monotonic() > deadline:
            raise LaunchError(f"{what} did not answer within {STARTUP_TIMEOUT:.0f}s")
        time.sleep(0.05)


def _start_store(db_dir: Path, env: dict[str, str], cwd: Path) -> tuple[Child, str]:
    """Start dynalite on a free loopback port (retrying if another process took the port)."""
    for attempt in range(3):
        port = free_port()
        child = Child("dynalite", store.command(db_dir, port), env, cwd, signal.SIGTERM, 10.0)
        try:
            _wait_until(child, lambda: store.answers(port), "dynalite")
            return child, f"http://127.0.0.1:{port}"
        except LaunchError:
            child.stop()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _serve(opts: LocalOptions, children: list[Child]) -> int:
    data_dir = opts.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    _lock_data_dir(data_dir)  # held (and released by the kernel) for the launcher's lifetime
    _check_port(opts.host, opts.port)
    _jobs_interval()  # fail on a bad value now, not an hour from now
    s = settings()
    conf = token.provision(data_dir / "softhsm", module=s.pkcs11_module, label=s.pkcs11_token_label,
                           pin=s.pkcs11_pin)
    store.ensure_installed()
    if _Stop.requested:
        return 0

    # Port unknown yet: start dynalite with a provisional env, then fix the endpoint.
    db_dir = data_dir / "dynamodb"
    db_dir.mkdir(exist_ok=True)
    dynalite, endpoint = _start_store(db_dir, service_env(data_dir, conf, ""), data_dir)
    children.append(dynalite)
    (data_dir / STORE_ENDPOINT_FILE).write_text(endpoint + "\n")
    env = service_env(data_dir, conf, endpoint)
    os.environ.clear()
    os.environ.update(env)
    settings.cache_clear()
    s = settings()
    if _Stop.requested:
        return 0

    # Imported only now: both read settings() (the store models at import time).
    from chalicelib.hsm.pkcs11 import ensure_audit_key, ensure_domain_key
    from chalicelib.store.tables import ensure_tables

    ensure_domain_key(s.pkcs11_module, s.pkcs11_token_label, s.pkcs11_pin, s.domain_key_label)
    ensure_audit_key(s.pkcs11_module, s.pkcs11_token_label, s.pkcs11_pin, s.audit_key_label)
    ensure_tables()
    if _Stop.requested:
        return 0

    if env.get("KMS_AUDIT_SHIPPER") == "process":
        # Started before granian so that it stops after it and ships what the last calls spooled.
        children.append(Child("audit-shipper", [sys.executable, "-m", "chalicelib.audit.shipper"],
                              env, data_dir, signal.SIGTERM, 10.0))

    server = Child("granian", [
        sys.executable, "-m", "granian",
        "--interface", "wsgi",
        "--host", opts.host, "--port", str(opts.port),
        "--workers", str(opts.workers),
        # One request at a time per worker process, as in Lambda: the app's warm caches and the
        # PKCS#11 session are per process, and python-pkcs11 + SoftHSM2 crash under threads.
        "--blocking-threads", "1",
        "--no-ws",
        "--respawn-failed-workers",
        "--log-level", "warning",
        "chalicelib.local.wsgi:application",
    ], env, data_dir, signal.SIGTERM, 10.0)
    children.append(server)
    _wait_until(server, lambda: _http_answers(opts.host, opts.port), "the HTTP server")
    if _Stop.requested:
        return 0

    shown = f"[{opts.host}]" if ":" in opts.host else opts.host
    print(f"kms-local ready on http://{shown}:{opts.port} (data: {data_dir})", flush=True)

    jobs_every = _jobs_interval()
    next_jobs = time.monotonic() + jobs_every
    jobs: threading.Thread | None = None
    while not _Stop.requested:
        if jobs_every and time.monotonic() >= next_jobs and not (jobs and jobs.is_alive()):
            jobs = threading.Thread(target=_run_jobs, args=(opts.host, opts.port), daemon=True)
            jobs.start()
            next_jobs = time.monotonic() + jobs_every
        for child in children:
            code = child.exited()
            if code is not None:
                if _Stop.requested:  # a terminal's Ctrl-C may reach a child first
                    return 0
                say(f"{child.name} exited unexpectedly ({describe_exit(code)}); stopping")
                return 1
        time.sleep(POLL_INTERVAL)
    return 0


def run(opts: LocalOptions) -> int:
    """Run until a stop signal (exit status 0) or a failure (1)."""
    _Stop.install()
    children: list[Child] = []
    try:
        return _serve(opts, children)
    except (LaunchError, token.TokenError, store.StoreError) as e:
        say(str(e))
        return 1
    except Exception:
        say("startup failed:\n" + traceback.format_exc())
        return 1
    finally:
        for child in reversed(children):
            child.stop()
