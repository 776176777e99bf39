import datetime
import os
import subprocess
import sys
import uuid
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from billing.apikeys import forget_api_keys
from catalog import snapshot
from catalog.services import load_catalog

ROOT = Path(__file__).resolve().parent.parent


def celery_worker_command(*, queue: str, node: str, extra: tuple[str, ...] = ()) -> list[str]:
    """A Celery worker of this project on one queue: the solo pool, no chatter with other workers."""
    return [
        sys.executable, "-m", "celery", "-A", "billing", "worker", "--pool=solo", "-Q", queue, "-n", node,
        "--without-gossip", "--without-mingle", *extra, "-l", "INFO",
    ]  # fmt: skip


TODAY_TRAVEL = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser):
    parser.addoption(
        "--today",
        default=os.environ.get("TESTS_TODAY") or None,
        help="run the tests as on this day (YYYY-MM-DD, from 10:00 Asia/Shanghai, the clock running): shows "
        "which tests hang on the real date. Also TESTS_TODAY. Tests marked `today` keep their own day.",
    )


def _morning(day: str) -> datetime.datetime:
    return datetime.datetime.combine(
        datetime.date.fromisoformat(day), datetime.time(10), tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")
    )


def pytest_configure(config):
    day = config.getoption("--today")
    if day:
        config.stash[TODAY_TRAVEL] = traveller = time_machine.travel(_morning(day), tick=True)
        traveller.start()


def pytest_unconfigure(config):
    traveller = config.stash.get(TODAY_TRAVEL, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    day = config.getoption("--today")
    return f"today: {day} (time-machine)" if day else None


@pytest.fixture(autouse=True)
def today_of_the_test(request):
    """A test (or module) marked ``@pytest.mark.today("2026-06-01")`` runs as on that day from 10:00
    Shanghai time, the clock running: its fixed dates stay in an open contract year whatever the real
    date (or --today) is."""
    marker = request.node.get_closest_marker("today")
    if marker is None:
        yield
        return
    with time_machine.travel(_morning(marker.args[0]), tick=True):
        yield


@pytest.fixture(autouse=True)
def fresh_catalogue_snapshot():
    """Each test starts like a new process: rows cached by an earlier test were rolled back with it."""
    snapshot.clear()
    forget_api_keys()
    cache.clear()  # the charts' month sums (invoices.selectors._month_sums), keyed by rolled-back rows


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request asking for English (Accept-Language) leaves
    it active in the thread, which would make a later test's documents English."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def catalogue(db):
    """The vendor's catalogue as `manage.py load_catalog` loads it."""
    return load_catalog()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the configured broker, consuming a queue of its own and reading
    the test database. Tests using it must be `django_db(transaction=True)` so the worker sees their rows."""
    from billing.celery import app

    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs CELERY_BROKER_URL (run by .ci/run)")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a worker process cannot share an SQLite test database")
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    node = f"{queue}@localhost"
    with log.open("w") as out:
        worker = subprocess.Popen(
            celery_worker_command(queue=queue, node=node),
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "CONN_MAX_AGE": "0"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _attempt in range(60):
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited:\n{log.read_text()}")
            if app.control.ping(destination=[node], timeout=1):
                break
        else:
            pytest.fail(f"the Celery worker did not answer:\n{log.read_text()}")
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.fixture
def real_celery_worker(celery_worker_process):
    """Sends this test's tasks to the real worker; every other test runs tasks eagerly."""
    from billing.celery import app

    app.conf.task_always_eager = False
    yield celery_worker_process
    app.conf.task_always_eager = True
