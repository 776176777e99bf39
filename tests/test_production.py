"""`make serve-prod` as production runs it: collectstatic, migrate, then the Procfile's gunicorn, Celery
worker and beat under honcho with production settings, against PostgreSQL and the broker (run by .ci/run)."""

import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from billing.apikeys import create_api_key
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.test_deploy import production_env

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgresql, pytest.mark.celery, pytest.mark.django_db(transaction=True)]
# Through the proxy production runs behind: HTTPS ends there (plain HTTP is redirected to it).
PROXIED = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    """Status, headers and body, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def serve_prod(tmp_path):
    """`make serve-prod` on a free port with the test database; stopped, with all its processes, after."""
    assert connection.vendor == "postgresql", "run with DATABASE_URL=postgres://... (bash .ci/run does)"
    assert settings.CELERY_BROKER_URL, "run with CELERY_BROKER_URL (bash .ci/run does)"
    db = connection.settings_dict
    port = free_port()
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = production_env(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        SITE_URL=f"http://127.0.0.1:{port}",  # production names its public address (billing.W002)
        PORT=str(port),
        STATIC_ROOT=str(tmp_path / "static"),
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        GUNICORN_CONTROL_SOCKET=str(tmp_path / "gunicorn.ctl"),
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="1",
        CONN_MAX_AGE="0",
        MAKEFLAGS="",
    )
    log = tmp_path / "serve-prod.log"
    with log.open("w") as out:
        # Its own session: honcho, gunicorn and Celery with their children are stopped together.
        process = subprocess.Popen(
            ["make", "--no-print-directory", "serve-prod"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # collectstatic compresses every file first
        while True:
            if process.poll() is not None:
                pytest.fail(f"make serve-prod exited ({process.returncode}):\n{log.read_text()}")
            try:
                get(f"{base}/admin/login/", **PROXIED)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer:\n{log.read_text()}")
                time.sleep(0.5)
        yield base, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        time.sleep(1)
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            pass  # nothing of the group is left
        else:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("processes of make serve-prod outlived it")


def test_serve_prod_serves_pages_hashed_static_files_and_the_api(catalogue, serve_prod):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    _key, raw_key = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    base, log = serve_prod

    status, headers, _body = get(f"{base}/admin/login/")
    assert status == 301, "plain HTTP goes to HTTPS"
    assert headers["Location"].startswith("https://")

    status, _headers, body = get(f"{base}/admin/login/", **PROXIED, **{"Accept-Language": "en"})
    assert status == 200
    page = body.decode()
    assert "Log in" in page
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "static files are linked by their hashed names"

    status, headers, body = get(f"{base}{stylesheet[1]}", **PROXIED, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert headers.get("Content-Encoding") == "gzip"  # compressed by collectstatic
    assert "immutable" in headers["Cache-Control"]  # a hashed name never changes
    assert get(f"{base}/static/admin/css/base.css", **PROXIED)[0] == 200  # the unhashed name still works

    status, _headers, body = get(
        f"{base}/api/v1/customers/ACME/coverage", **PROXIED, Authorization=f"Bearer {raw_key}"
    )
    assert status == 200, body
    assert b"ACME" in body
    assert get(f"{base}/api/v1/customers/ACME/coverage", **PROXIED)[0] == 401

    deadline = time.monotonic() + 60
    while not all(mark in log.read_text() for mark in ("celery@", "ready.", "beat: Starting...")):
        assert time.monotonic() < deadline, f"the worker or beat did not start:\n{log.read_text()}"
        time.sleep(0.5)
