"""Fault tests: the code under test runs in its own processes (gunicorn, Celery workers) with production
settings, reaching PostgreSQL and Redis through a TcpProxy each test can cut. The shared servers are never
touched."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import celery_worker_command
from tests.faults.proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent.parent
WAIT_SECONDS = 60


def wait_for(condition: Callable[[], object], *, timeout: float = WAIT_SECONDS, what: str = "") -> object:
    """Polls ``condition`` until it returns something true; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


def database_url(host: str, port: int) -> str:
    db = connection.settings_dict
    password = urllib.parse.quote(db["PASSWORD"] or "")
    return f"postgres://{db['USER']}:{password}@{host}:{port}/{db['NAME']}"


def direct_database_url() -> str:
    db = connection.settings_dict
    return database_url(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))


@pytest.fixture
def pg_db(transactional_db):
    """The test database on PostgreSQL, its rows committed so other processes read them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL; run by .ci/run)")


@pytest.fixture
def pg_proxy(pg_db) -> Iterator[TcpProxy]:
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    broker = urllib.parse.urlsplit(settings.CELERY_BROKER_URL)
    if broker.scheme != "redis":
        pytest.skip("needs a Redis CELERY_BROKER_URL (run by .ci/run)")
    proxy = TcpProxy(broker.hostname or "127.0.0.1", broker.port or 6379)
    yield proxy
    proxy.close()


def redis_url(proxy: TcpProxy) -> str:
    """The broker URL (same Redis database) through the proxy."""
    broker = urllib.parse.urlsplit(settings.CELERY_BROKER_URL)
    return urllib.parse.urlunsplit(broker._replace(netloc=proxy.url_host))


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own; tasks the test process sends go there and to the real broker."""
    from billing.celery import app

    name = f"faults-{uuid.uuid4().hex[:8]}"
    saved = app.conf.task_default_queue, app.conf.task_always_eager
    app.conf.task_default_queue, app.conf.task_always_eager = name, False
    yield name
    app.conf.task_default_queue, app.conf.task_always_eager = saved


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """The static files as production serves them (hashed and compressed by collectstatic, once a session):
    pages and PDFs of a process under production settings need the manifest."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=production_env(STATIC_ROOT=str(root)),
        check=True,
        timeout=300,
    )
    return root


@pytest.fixture(autouse=True)
def production_static(collected_static, monkeypatch):
    monkeypatch.setenv("STATIC_ROOT", str(collected_static))


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a deployed process: billing.settings (not the test settings), no HTTPS redirect
    (the test speaks plain HTTP), the test process's secret key so the sessions it creates are valid."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="billing.settings",
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        CELERY_BROKER_URL="",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., str]]:
    """Starts gunicorn (one process, four threads: connections kept per thread) with production settings
    and the given environment; returns its base URL. Stopped after the test."""
    servers: list[subprocess.Popen] = []

    def start(**env: str) -> str:
        port = free_port()
        log = tmp_path / f"gunicorn-{port}.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "billing.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                    "--graceful-timeout",
                    "5",
                    "--no-control-socket",
                ],
                cwd=ROOT,
                env=production_env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        servers.append(server)

        def listening():
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False

        wait_for(listening, timeout=30, what="gunicorn to listen")
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        stop(server)


class Workers:
    """Celery worker processes (solo pool, production settings) on one queue; the test may SIGKILL them."""

    def __init__(self, tmp_path: Path, queue: str):
        self.tmp_path, self.queue = tmp_path, queue
        self.processes: list[subprocess.Popen] = []

    def start(self, *, broker_url: str, **env: str) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = self.tmp_path / f"worker-{number}.log"
        with log.open("w") as out:
            worker = subprocess.Popen(
                celery_worker_command(
                    queue=self.queue, node=f"{self.queue}-{number}@localhost", extra=("--without-heartbeat",)
                ),
                cwd=ROOT,
                env=production_env(
                    DATABASE_URL=direct_database_url(),
                    CONN_MAX_AGE="0",
                    CELERY_BROKER_URL=broker_url,
                    CELERY_QUEUE=self.queue,
                    MEDIA_ROOT=str(self.tmp_path / "media"),
                    **env,
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(worker)

        def ready():
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited:\n{log.read_text()}")
            return " ready." in log.read_text()

        wait_for(ready, timeout=30, what="the Celery worker to be ready")
        return worker

    def log(self, worker: subprocess.Popen) -> str:
        return (self.tmp_path / f"worker-{self.processes.index(worker) + 1}.log").read_text()

    def stop_all(self) -> None:
        for worker in self.processes:
            stop(worker)


@pytest.fixture
def workers(tmp_path, queue) -> Iterator[Workers]:
    started = Workers(tmp_path, queue)
    yield started
    started.stop_all()
