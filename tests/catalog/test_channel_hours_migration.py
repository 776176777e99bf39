"""A catalogue loaded before channel hours existed gets them, as load_catalog seeds them, when migrated."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("catalog", "0003_emergency_cover")], [("catalog", "0004_channel_hours")]


@pytest.fixture
def migrated_back():
    """The test migrates the database back; afterwards it is brought forward to every app's latest
    migration again, as the tests after it expect."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migrating_a_loaded_catalogue_seeds_the_terms_channel_hours(migrated_back):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    calendar = old.get_model("catalog", "BusinessCalendar")
    for code in ("5x8", "7x24"):
        calendar.objects.create(code=code, name_zh=code, name_en=code)
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    hours = dict(new.get_model("catalog", "ChannelHours").objects.values_list("channel", "calendar__code"))
    assert hours == {
        "community": "7x24",
        "hotline": "hotline",
        "email": "5x8",
        "im": "5x8",
        "remote": "5x8",
        "on-site": "on-site",
    }
    windows = new.get_model("catalog", "WorkingWindow").objects.filter(calendar__code="hotline")
    assert sorted(windows.values_list("weekday", "start", "end"))[:2] == [
        (0, datetime.time(9), datetime.time(12)),
        (0, datetime.time(13), datetime.time(18)),
    ]
