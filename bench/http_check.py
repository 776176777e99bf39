"""The entitlement check over HTTP under gunicorn, against a bare Django JsonResponse view, with wrk.

Both run in the same gunicorn against the same database in the same run, at 1, 8 and 16 connections;
the check's figures are reported as ratios of the bare view's. Also: the decision's query count at 1k and
100k contracts.
"""

import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))  # issue 7: 60-second runs, no error
CONNECTIONS = (1, 8, 16)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
THREADS = os.environ.get("BENCH_THREADS", "8")
WORKERS = os.environ.get("BENCH_WORKERS", "2")
PORT = int(os.environ.get("BENCH_PORT", "8799"))
# Every part of the answer that reads data: a paid period (its fee's invoice), no product named (each
# product's own cover), a channel (its hours), a ticket opened earlier (its escalation), on site (arrival).
CHECK_BODY = {
    "customer": "DEMO-ACTIVE",
    "service": "fault-diagnosis",
    "severity": "2",
    "on_site": True,
    "channel": "hotline",
    "opened_at": "2026-11-30T09:00:00+08:00",
}


def _combined(runs: list[dict]) -> dict:
    """One figure from its rounds: the median throughput and p50, the worst p99, all errors."""
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50": statistics.median(run["p50"] for run in runs),
        "p99": max(run["p99"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "socket_errors": "; ".join(run["socket_errors"] for run in runs if run["socket_errors"]),
    }


def _wrk(url: str, connections: int, lua: Path | None, seconds: int) -> dict:
    command = [
        "wrk",
        "-t",
        str(min(connections, 2)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
    ]
    if lua:
        command += ["-s", str(lua)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": rps,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def run(database_url: str, api_key: str) -> list[str]:
    if not shutil.which("wrk"):
        return [
            "## Entitlement check over HTTP",
            "- skipped: wrk is not installed (scripts/system-packages.sh)",
        ]
    workdir = Path(tempfile.mkdtemp())
    lua = workdir / "check.lua"
    lua.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(CHECK_BODY))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {api_key}"\n'
    )
    bare_lua = workdir / "bare.lua"
    bare_lua.write_text(
        'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    check_path = "/api/v1/entitlements/check"
    # name: (port, path, script); the check with kept rows is served by a second gunicorn of its own
    targets = {
        "bare": (PORT, "/bench/bare", bare_lua),
        "floor": (PORT, "/bench/drf", lua),
        "check": (PORT, check_path, lua),
        "kept": (PORT + 1, check_path, lua),
    }
    rounds: dict[int, dict[str, list[dict]]] = {c: {name: [] for name in targets} for c in CONNECTIONS}
    with _server("billing.wsgi", database_url, PORT), _server("bench.kept_rows_wsgi", database_url, PORT + 1):
        _check_answers(api_key, PORT)
        _check_answers(api_key, PORT + 1)
        # Each figure is measured in ROUNDS parts, taken in turn with the others', so that a slow moment of
        # the machine falls on all of them alike rather than on one.
        for _round in range(ROUNDS):
            for connections in CONNECTIONS:
                for name, (port, path, script) in targets.items():
                    run = _wrk(
                        f"http://127.0.0.1:{port}{path}", connections, script, max(1, SECONDS // ROUNDS)
                    )
                    rounds[connections][name].append(run)
    figures = {c: {name: _combined(runs) for name, runs in by_name.items()} for c, by_name in rounds.items()}
    lines = [
        f"## Entitlement check over HTTP (gunicorn {WORKERS} workers x {THREADS} threads, "
        f"wrk {SECONDS} s a figure in {ROUNDS} interleaved rounds: median req/s and p50, worst p99)",
        "The DRF floor is an APIView with the check's authentication that parses the body and answers a "
        "constant: what the framework alone costs. 'Rows kept' is the check with each process keeping the "
        "customer's periods after the first read (bench/kept_rows_wsgi.py, not shipped): the check without "
        "its query.",
        "",
        "| connections | bare req/s | DRF floor req/s | check req/s | rows kept req/s | check/bare "
        "| floor/bare | rows kept/bare | bare p50/p99 ms | floor p50/p99 ms | check p50/p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for connections, runs in figures.items():
        bare, floor, check, kept = runs["bare"], runs["floor"], runs["check"], runs["kept"]
        lines.append(
            f"| {connections} | {bare['rps']:.0f} | {floor['rps']:.0f} | {check['rps']:.0f} "
            f"| {kept['rps']:.0f} | {check['rps'] / bare['rps']:.2f} | {floor['rps'] / bare['rps']:.2f} "
            f"| {kept['rps'] / bare['rps']:.2f} | "
            + " | ".join(f"{run['p50']:.1f}/{run['p99']:.1f}" for run in (bare, floor, check))
            + f" | {sum(run['errors'] for run in runs.values())} "
            + "; ".join(run["socket_errors"] for run in runs.values() if run["socket_errors"])
            + " |"
        )
    return lines


@contextlib.contextmanager
def _server(application: str, database_url: str, port: int):
    """gunicorn serving ``application`` with the benchmark's settings, until the block ends."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", application, "-b", f"127.0.0.1:{port}", "-w", WORKERS,
         "-k", "gthread", "--threads", THREADS, "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/bench/bare")
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {url}")


def _check_answers(api_key: str, port: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/entitlements/check",
        data=json.dumps(CHECK_BODY).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
    )
    body = json.load(urllib.request.urlopen(request, timeout=5))
    if body["outcome"] != "included" or not body["respond_by"]:
        raise RuntimeError(f"unexpected answer: {body}")


def query_counts() -> list[str]:
    """The decision's queries for one customer with 1k, then 100k contracts in the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts.entitlements import decide
    from tests.contracts.test_decision_queries import QUESTIONS, bulk_customers

    moment = datetime.datetime(2026, 3, 4, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))

    def counts() -> list[int]:
        result = []
        for question in QUESTIONS:
            decide(customer="DEMO-ACTIVE", at=moment, **question)  # warm the catalogue snapshot
            with CaptureQueriesContext(connection) as captured:
                decide(customer="DEMO-ACTIVE", at=moment, **question)
            result.append(len(captured))
        return result

    bulk_customers(1_000)
    small = counts()
    for _ in range(99):
        bulk_customers(1_000)
    large = counts()
    return [
        "## Decision query count (five kinds of question)",
        f"- 1k contracts: {small}",
        f"- 100k contracts: {large}",
        f"- equal: {small == large}",
    ]


def in_process(api_key: str) -> list[str]:
    """The same three views called in this process through Django's test client (no HTTP, no wrk): less
    noisy than the HTTP runs, and what the Python side of each costs."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    body = json.dumps(CHECK_BODY)
    key = {"HTTP_AUTHORIZATION": f"Bearer {api_key}"}
    calls = {
        "bare": lambda: client.post("/bench/bare", "{}", content_type="application/json"),
        "floor": lambda: client.post("/bench/drf", body, content_type="application/json", **key),
        "check": lambda: client.post(
            "/api/v1/entitlements/check", body, content_type="application/json", **key
        ),
    }
    for call in calls.values():
        response = call()
        if response.status_code != 200:
            raise RuntimeError(f"unexpected answer: {response.status_code} {response.content[:200]}")
    calls_per_sample = 1000
    medians = {}
    for name, call in calls.items():
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(calls_per_sample):
                call()
            samples.append((time.perf_counter() - start) / calls_per_sample * 1000)
        medians[name] = statistics.median(samples)
    return [
        "## Entitlement check in-process (Django test client, median of 5 x 1,000 calls)",
        f"- bare {medians['bare']:.3f} ms; DRF floor {medians['floor']:.3f} ms; "
        f"check {medians['check']:.3f} ms",
        f"- check/bare {medians['check'] / medians['bare']:.2f}; "
        f"check minus floor {medians['check'] - medians['floor']:.3f} ms (validation, query, decision, "
        "answer)",
    ]
