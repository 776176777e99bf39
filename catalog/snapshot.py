"""An in-process cache of the catalogue rows read on every entitlement check (calendars, response targets,
arrival commitments, services), so a check queries only the customer's own rows.

An entry is reloaded after CATALOG_CACHE_SECONDS, and at once when this process saves or deletes any
catalogue row (signals wired in CatalogConfig.ready). Other processes (more web workers, Celery) see an
admin's change within CATALOG_CACHE_SECONDS.
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction

T = TypeVar("T")
_entries: dict[tuple, tuple[float, object]] = {}
_lock = threading.Lock()


_generation = 0  # moved on by every clear: a value read across a clear is not kept


def cached(key: tuple, load: Callable[[], T]) -> T:
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < settings.CATALOG_CACHE_SECONDS:
        return entry[1]
    generation = _generation
    value = load()
    with _lock:
        if generation == _generation:
            _entries[key] = (now, value)
    return value


def clear(**_signal_kwargs) -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def changed(**_signal_kwargs) -> None:
    """A catalogue row was saved or deleted: clear now, and again when the transaction commits (another
    thread may have read the rows as they were before in between)."""
    clear()
    transaction.on_commit(clear)


def cached_row(key: tuple, load: Callable[[], dict], row_key) -> object | None:
    """One row of a cached mapping; a row missing from it (added by another process since this one read
    the mapping) makes the mapping read again once."""
    row = cached(key, load).get(row_key)
    if row is None:
        with _lock:
            _entries.pop(key, None)
        row = cached(key, load).get(row_key)
    return row
