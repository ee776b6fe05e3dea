#!/usr/bin/env python3
"""Throughput and latency of our KMS against moto server, through boto3 (DESIGN.md §6).

    python bench/bench.py [--seconds S] [--clients N] [--workers W] [--only ours|moto]
                          [--warmup S] [--rounds R] [--max-calls N] [--json out.json]
                          [--actions Encrypt,...] [--ours-env NAME=VALUE] [--ours-url URL]

Starts both servers on free 127.0.0.1 ports (each in its own process group, stopped in a
`finally`), creates one symmetric key on each (plus one ciphertext for Decrypt), then runs a
closed-loop load for Encrypt (256-byte plaintext), Decrypt, GenerateDataKey (AES_256) and
DescribeKey from N client processes, each with its own boto3 client (dummy credentials,
us-east-1, no retries). Targets are interleaved per action (ours Encrypt, moto Encrypt, ours
Decrypt, ...) so that machine noise hits both alike. Every phase is bounded by time (--seconds)
and by count (--max-calls per client process). Only 127.0.0.1 is ever contacted.

Besides ops/s and latency it reports CPU milliseconds per successful call, for the server
(its whole process tree, from /proc) and for the clients: on a shared 2-core machine ops/s moves
with whatever else runs, CPU per call much less. See docs/benchmarks.md.

Exits 1 if any call errored (or returned a wrong answer), 2 if a server could not be started.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCOUNT_ID = "111122223333"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACTIONS = ("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey")
#: Actions whose ours/moto throughput ratio is held to TARGET_RATIO.
TARGETED = ("Encrypt", "Decrypt", "GenerateDataKey")
TARGET_RATIO = 3.0
PLAINTEXT = bytes(range(256))  # 256 bytes, deterministic so Decrypt can be checked
READY_LINE = re.compile(r"kms-local ready on (http://\S+)")
OURS_START_TIMEOUT = 180.0  # a first start may install the embedded store's npm packages
MOTO_START_TIMEOUT = 60.0
PHASE_SLACK = 120.0  # extra seconds allowed for a phase before the parent gives up on it


# --------------------------------------------------------------------------- servers

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "<no log>"


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds a live process has used (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _proc_stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, or None once it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[1]), fields[19]


class Server:
    """A server subprocess in its own process group, logging to a file."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.url = ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def descendants(self) -> list[tuple[int, str]]:
        """(pid, start time) of every live process under the server, from /proc."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _proc_stat(int(entry))
                if stat:
                    children.setdefault(stat[0], []).append(int(entry))
        out, todo = [], [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                stat = _proc_stat(child)
                if stat:
                    out.append((child, stat[1]))
                    todo.append(child)
        return out

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and every process under it."""
        return _proc_cpu(self.proc.pid) + sum(_proc_cpu(pid) for pid, _ in self.descendants())

    def stop(self) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left of it.

        The launcher may put its children (embedded store, HTTP server) in process groups of
        their own; those it started are noted first and killed too if they outlive it.
        """
        pgid = self.proc.pid  # start_new_session: the leader's pid is the group id
        started = self.descendants() if self.proc.poll() is None else []
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        # Workers or the embedded store may outlive the leader: clear the group regardless.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        for pid, start in started:  # only the very processes seen above (same pid, same start)
            while (stat := _proc_stat(pid)) and stat[1] == start and time.monotonic() < deadline:
                time.sleep(0.1)  # give them a moment to exit after their parent
            stat = _proc_stat(pid)
            if stat and stat[1] == start:
                print(f"bench: {self.name}: process {pid} outlived the server; killing it", file=sys.stderr)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()


def start_ours(workdir: Path, workers: int | None, extra_env: dict[str, str], name: str = "ours") -> Server:
    port = _free_port()
    data_dir = workdir / f"{name}-data"
    data_dir.mkdir()
    cmd = [sys.executable, "-m", "chalicelib.local", "--host", "127.0.0.1", "--port", str(port),
           "--data-dir", str(data_dir)]
    if workers:
        cmd += ["--workers", str(workers)]
    env = dict(os.environ, KMS_ACCOUNT_ID=ACCOUNT_ID, KMS_REGION=REGION, PYTHONUNBUFFERED="1")
    env.update(extra_env)
    server = Server(name, cmd, workdir / f"{name}.log", env)
    deadline = time.monotonic() + OURS_START_TIMEOUT
    while True:
        match = READY_LINE.search(_tail(server.log_path, 1_000_000))
        if match:
            server.url = match.group(1).rstrip("/")
            return server
        if not server.alive():
            server.stop()
            raise RuntimeError(f"our server exited with {server.proc.returncode} before it was "
                               f"ready:\n{_tail(server.log_path)}")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"our server not ready within {OURS_START_TIMEOUT:.0f}s:\n"
                               f"{_tail(server.log_path)}")
        time.sleep(0.1)


def start_moto(workdir: Path) -> Server:
    port = _free_port()
    env = dict(os.environ, MOTO_ACCOUNT_ID=ACCOUNT_ID)
    server = Server("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    workdir / "moto.log", env)
    server.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MOTO_START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/moto-api/", timeout=2):
                return server
        except urllib.error.HTTPError:
            return server  # it answered
        except (urllib.error.URLError, OSError):
            if not server.alive() or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"moto server did not start:\n{_tail(server.log_path)}")
            time.sleep(0.1)


# --------------------------------------------------------------------------- clients

def make_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30,
                    max_pool_connections=2, tcp_keepalive=False)
    return boto3.session.Session().client(
        "kms", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=config)


def prepare(endpoint: str) -> dict[str, Any]:
    """Create the key and the ciphertext the load uses; return what a phase needs to know."""
    kms = make_client(endpoint)
    key_id = kms.create_key(Description="bench", KeyUsage="ENCRYPT_DECRYPT",
                            KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)["CiphertextBlob"]
    check = kms.decrypt(CiphertextBlob=blob)
    if check["Plaintext"] != PLAINTEXT:
        raise RuntimeError("setup Decrypt did not return the plaintext")
    return {"key_id": key_id, "blob": blob}


def one_call(kms: Any, action: str, ctx: dict[str, Any]) -> None:
    """One call; raises on an error or a wrong answer."""
    key_id = ctx["key_id"]
    if action == "Encrypt":
        out = kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)
        if not out.get("CiphertextBlob"):
            raise ValueError("Encrypt: no CiphertextBlob")
    elif action == "Decrypt":
        out = kms.decrypt(CiphertextBlob=ctx["blob"])
        if out.get("Plaintext") != PLAINTEXT:
            raise ValueError("Decrypt: wrong plaintext")
    elif action == "GenerateDataKey":
        out = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
        if len(out.get("Plaintext", b"")) != 32 or not out.get("CiphertextBlob"):
            raise ValueError("GenerateDataKey: bad data key")
    elif action == "DescribeKey":
        out = kms.describe_key(KeyId=key_id)
        if out["KeyMetadata"]["KeyId"] != key_id:
            raise ValueError("DescribeKey: wrong key")
    else:
        raise ValueError(f"unknown action {action}")


def _err_text(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(exc).__name__}{'(' + code + ')' if code else ''}: {str(exc)[:200]}"


def client_main(idx: int, tasks: Any, results: Any, barrier: Any) -> None:
    """A client process: one boto3 client per endpoint, one phase per task, until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    clients: dict[str, Any] = {}
    while True:
        task = tasks.get()
        if task is None:
            return
        endpoint, action, ctx = task["endpoint"], task["action"], task["ctx"]
        out: dict[str, Any] = {"idx": idx, "calls": 0, "errors": 0, "warmup_errors": 0,
                               "samples": [], "lat": [], "t0": 0.0, "t1": 0.0}
        kms = None
        try:
            kms = clients.get(endpoint)
            if kms is None:
                kms = clients[endpoint] = make_client(endpoint)
            # Warm-up: connection set up, caches filled; not measured.
            end = time.monotonic() + task["warmup"]
            n = 0
            while time.monotonic() < end and n < task["max_calls"]:
                n += 1
                try:
                    one_call(kms, action, ctx)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    out["warmup_errors"] += 1
                    if len(out["samples"]) < 3:
                        out["samples"].append("warm-up " + _err_text(exc))
        except Exception as exc:  # noqa: BLE001
            out["errors"] += 1
            out["samples"].append(_err_text(exc))
        # All clients start the measured window together.
        try:
            barrier.wait(timeout=task["warmup"] + 60)
        except Exception:  # noqa: BLE001 - broken barrier: measure anyway, the window says so
            pass
        lat = out["lat"]
        perf = time.perf_counter
        cpu0 = time.process_time()
        t0 = time.monotonic()
        end = t0 + task["seconds"]
        max_calls = task["max_calls"]
        if kms is not None:
            n = 0
            while n < max_calls:
                n += 1
                s = perf()
                try:
                    one_call(kms, action, ctx)
                    lat.append(perf() - s)  # latency of successful calls only
                except Exception as exc:  # noqa: BLE001
                    out["errors"] += 1
                    if len(out["samples"]) < 3:
                        out["samples"].append(_err_text(exc))
                if time.monotonic() >= end:
                    break
            out["calls"] = n
        out["t0"], out["t1"] = t0, time.monotonic()
        out["cpu"] = time.process_time() - cpu0
        results.put(out)


# --------------------------------------------------------------------------- figures

def percentile(sorted_vals: list[float], q: float) -> float:
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q / 100.0 * len(sorted_vals)) - 1))  # nearest rank
    return sorted_vals[k]


def summarize(rounds: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Pool the rounds of one (action, target): calls over summed windows, percentiles over all."""
    parts = [p for rnd in rounds for p in rnd]
    lat = sorted(x for p in parts for x in p["lat"])
    calls = sum(p["calls"] for p in parts)
    ok = len(lat)
    windows = [max(p["t1"] for p in rnd) - min(p["t0"] for p in rnd) for rnd in rounds if rnd]
    window = sum(windows)
    samples = [s for p in parts for s in p["samples"]]
    server_cpu = [p["server_cpu"] for p in parts if "server_cpu" in p]
    return {
        "calls": calls,
        "errors": sum(p["errors"] for p in parts),
        "warmup_errors": sum(p["warmup_errors"] for p in parts),
        "seconds": round(window, 3),
        "ops_per_s": round(ok / window, 1) if window > 0 else 0.0,  # successful calls per second
        "round_ops_per_s": [round(sum(len(p["lat"]) for p in rnd) / w, 1) if w > 0 else 0.0
                            for rnd, w in zip(rounds, windows)],
        "p50_ms": round(percentile(lat, 50) * 1000, 2) if lat else None,
        "p99_ms": round(percentile(lat, 99) * 1000, 2) if lat else None,
        "mean_ms": round(sum(lat) / len(lat) * 1000, 2) if lat else None,
        # CPU per successful call: robust to other load on the machine, unlike ops/s.
        "server_cpu_ms_per_call": round(sum(server_cpu) / ok * 1000, 3) if server_cpu and ok else None,
        "client_cpu_ms_per_call": round(sum(p.get("cpu", 0.0) for p in parts) / ok * 1000, 3) if ok else None,
        "error_samples": samples[:5],
    }


def _fmt(value: float | None, width: int) -> str:
    return f"{value:>{width}.2f}" if value is not None else f"{'-':>{width}}"


def print_table(results: dict[str, dict[str, dict[str, Any]]], targets: list[str]) -> None:
    head = (f"{'action':<16} {'target':<7} {'calls':>7} {'errors':>6} {'ops/s':>8} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'srv CPU':>8} {'cli CPU':>8} {'ours/moto':>9}")
    print(head)
    print(f"{'':<16} {'':<7} {'':>7} {'':>6} {'':>8} {'':>7} {'':>7} {'ms/call':>8} {'ms/call':>8} {'ops/s':>9}")
    print("-" * len(head))
    for action in ACTIONS:
        per = results.get(action, {})
        ratio = ""
        if "ours" in per and "moto" in per and per["moto"]["ops_per_s"]:
            ratio = f"{per['ours']['ops_per_s'] / per['moto']['ops_per_s']:.2f}x"
        shown = [t for t in targets if t in per]
        for target in shown:
            r = per[target]
            print(f"{action:<16} {target:<7} {r['calls']:>7} {r['errors']:>6} {r['ops_per_s']:>8.1f} "
                  f"{_fmt(r['p50_ms'], 7)} {_fmt(r['p99_ms'], 7)} {_fmt(r['server_cpu_ms_per_call'], 8)} "
                  f"{_fmt(r['client_cpu_ms_per_call'], 8)} {ratio if target == shown[-1] else '':>9}")


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per action per target (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per action per target (default 1)")
    ap.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    ap.add_argument("--workers", type=int, default=2, help="our server's worker processes (default 2)")
    ap.add_argument("--max-calls", type=int, default=20_000, help="hard cap on calls per client per phase (default 20000)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the interleaved sequence this many times and pool the figures (default 1)")
    ap.add_argument("--actions", default=",".join(ACTIONS), help="comma-separated subset of " + ", ".join(ACTIONS))
    ap.add_argument("--only", choices=("ours", "moto"), help="benchmark one target only")
    ap.add_argument("--ours-url", help="use an already running server of ours at this 127.0.0.1 URL instead of starting one")
    ap.add_argument("--ours-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for our server, for experiments (e.g. KMS_AUDIT=off); repeatable")
    ap.add_argument("--json", dest="json_out", help="write the figures to this JSON file")
    ap.add_argument("--audit-compare", action="store_true",
                    help="also run our server with KMS_AUDIT=off (target 'noaudit'), interleaved, "
                         "and report the audit trail's cost (issue #4: at most 30%% fewer ops/s)")
    args = ap.parse_args(argv)
    if not 1 <= args.rounds <= 10:
        ap.error("--rounds must be between 1 and 10")
    if not 1 <= args.clients <= 32:
        ap.error("--clients must be between 1 and 32")
    if not 0 < args.seconds <= 120 or not 0 <= args.warmup <= 30:
        ap.error("--seconds must be in (0, 120], --warmup in [0, 30]")
    if args.ours_url and not re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost)(:\d+)?/?$", args.ours_url):
        ap.error("--ours-url must be a loopback http URL")
    targets = [args.only] if args.only else ["ours", "moto"]
    if args.audit_compare:
        if args.ours_url or args.only == "moto":
            ap.error("--audit-compare starts both of our servers itself")
        targets.insert(1, "noaudit")
    if any("=" not in e for e in args.ours_env):
        ap.error("--ours-env takes NAME=VALUE")
    ours_env = dict(e.split("=", 1) for e in args.ours_env)
    actions = [a.strip() for a in args.actions.split(",") if a.strip()]
    if not actions or any(a not in ACTIONS for a in actions):
        ap.error(f"--actions takes a comma-separated subset of {', '.join(ACTIONS)}")

    workdir = Path(tempfile.mkdtemp(prefix="kms-bench-"))
    servers: dict[str, Server] = {}
    procs: list[Any] = []
    tasks_q: list[Any] = []
    ctx_mp = mp.get_context("spawn")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        endpoints: dict[str, str] = {}
        try:
            if "ours" in targets:
                if args.ours_url:
                    endpoints["ours"] = args.ours_url.rstrip("/")
                else:
                    servers["ours"] = start_ours(workdir, args.workers, ours_env)
                    endpoints["ours"] = servers["ours"].url
            if "noaudit" in targets:
                servers["noaudit"] = start_ours(workdir, args.workers, {**ours_env, "KMS_AUDIT": "off"}, "noaudit")
                endpoints["noaudit"] = servers["noaudit"].url
            if "moto" in targets:
                servers["moto"] = start_moto(workdir)
                endpoints["moto"] = servers["moto"].url
        except RuntimeError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        for t in targets:
            print(f"{t}: {endpoints[t]}", flush=True)

        setups = {t: prepare(endpoints[t]) for t in targets}

        tasks_q.extend(ctx_mp.Queue() for _ in range(args.clients))
        results_q = ctx_mp.Queue()
        barrier = ctx_mp.Barrier(args.clients + 1)  # the clients and us: we read server CPU at the start
        for i in range(args.clients):
            proc = ctx_mp.Process(target=client_main, args=(i, tasks_q[i], results_q, barrier), daemon=True)
            proc.start()
            procs.append(proc)

        cpu = os.cpu_count()
        print(f"\n{args.clients} client processes, our server with {args.workers} workers, moto server "
              f"(1 process, threaded); {args.seconds:g}s measured + {args.warmup:g}s warm-up per "
              f"action per target, {args.rounds} round(s); {cpu} CPUs"
              f"{'; our server env ' + ' '.join(args.ours_env) if args.ours_env else ''}; Python {platform.python_version()}\n", flush=True)

        collected: dict[tuple[str, str], list[list[dict[str, Any]]]] = {}
        for rnd in range(args.rounds):
            if args.rounds > 1:
                print(f"round {rnd + 1}/{args.rounds}", flush=True)
            for action in actions:
                for target in targets:
                    task = {"endpoint": endpoints[target], "action": action, "ctx": setups[target],
                            "seconds": args.seconds, "warmup": args.warmup, "max_calls": args.max_calls}
                    barrier.reset()
                    for q in tasks_q:
                        q.put(task)
                    parts: list[dict[str, Any]] = []
                    server = servers.get(target)
                    with contextlib.suppress(Exception):
                        barrier.wait(timeout=args.warmup + 60)
                    cpu0 = server.cpu_seconds() if server else None
                    deadline = time.monotonic() + args.seconds + args.warmup + PHASE_SLACK
                    while len(parts) < args.clients:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise RuntimeError(f"{target} {action}: client processes did not finish in time")
                        with contextlib.suppress(Exception):
                            parts.append(results_q.get(timeout=min(remaining, 5)))
                        if not all(p.is_alive() for p in procs):
                            raise RuntimeError("a client process died")
                    if server and cpu0 is not None:
                        parts[0]["server_cpu"] = server.cpu_seconds() - cpu0
                    collected.setdefault((action, target), []).append(parts)
                    r = summarize([parts])
                    print(f"  {action:<16} {target:<5} {r['ops_per_s']:>8.1f} ops/s  p50 {r['p50_ms']} ms  "
                          f"p99 {r['p99_ms']} ms  errors {r['errors']}", flush=True)
                    for sample in r["error_samples"]:
                        print(f"      ! {sample}", flush=True)
        for (action, target), rounds in collected.items():
            results.setdefault(action, {})[target] = summarize(rounds)

        print()
        print_table(results, targets)
        if "noaudit" in targets:
            print()
            for action in (a for a in TARGETED if a in actions):
                on, off = results[action]["ours"]["ops_per_s"], results[action]["noaudit"]["ops_per_s"]
                drop = 1 - on / max(off, 1e-9)
                vs_moto = on / max(results[action]["moto"]["ops_per_s"], 1e-9) if "moto" in results[action] else 0.0
                verdict = "meets" if drop <= 0.30 and vs_moto >= 2.0 else "MISSES"
                print(f"  {action}: audit on {on:.0f} vs off {off:.0f} ops/s, drop {drop:.0%}; on/moto "
                      f"{vs_moto:.2f}x — {verdict} issue #4 (drop <= 30%, on >= 2x moto)")
        if "ours" in targets and "moto" in targets:
            print()
            for action in (a for a in TARGETED if a in actions):
                ratio = results[action]["ours"]["ops_per_s"] / max(results[action]["moto"]["ops_per_s"], 1e-9)
                verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
                cpu_o = results[action]["ours"]["server_cpu_ms_per_call"]
                cpu_m = results[action]["moto"]["server_cpu_ms_per_call"]
                cpu_note = f"; server CPU per call moto/ours {cpu_m / cpu_o:.2f}x" if cpu_o and cpu_m else ""
                print(f"  {action}: ours/moto {ratio:.2f}x ops/s — {verdict} the {TARGET_RATIO:g}x target{cpu_note}")

        errors = sum(r["errors"] + r["warmup_errors"] for per in results.values() for r in per.values())
        if args.json_out:
            doc = {
                "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "machine": {"cpus": cpu, "platform": platform.platform(), "python": platform.python_version()},
                "settings": {"clients": args.clients, "workers": args.workers, "seconds": args.seconds,
                             "rounds": args.rounds, "warmup": args.warmup, "max_calls": args.max_calls, "targets": targets, "ours_env": ours_env,
                             "actions": actions},
                "results": results,
            }
            Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")
            print(f"\nfigures written to {args.json_out}")
        if errors:
            print(f"\nbench: {errors} call(s) failed", file=sys.stderr)
            return 1
        return 0
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - report, then clean up in finally
        print(f"bench: {exc}", file=sys.stderr)
        for name, server in servers.items():
            print(f"--- {name} log tail ---\n{_tail(server.log_path)}", file=sys.stderr)
        return 1
    finally:
        for q in tasks_q:
            with contextlib.suppress(Exception):
                q.put(None)
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
