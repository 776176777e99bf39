import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory
from tests.workspace.lists_helpers import exported, listed, total

_numbers = itertools.count(1)


@pytest.fixture
def staff_client(admin_client):
    """A superuser (every permission, every customer) reading the pages in English."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


@pytest.fixture
def managers(django_user_model):
    return [
        django_user_model.objects.create_user(username=name, is_staff=True) for name in ("am-one", "am-two")
    ]


def customer(**fields):
    """A customer with a code and name no other search term contains."""
    n = next(_numbers)
    fields.setdefault("code", f"LC-{n:05d}")
    fields.setdefault("legal_name", f"列表客户{n:05d}有限公司")
    return CustomerFactory(**fields)


@dataclass
class ListCase:
    """One staff list for the tests every list passes: ``make(customer, i)`` adds a row for the customer,
    ``number`` is the row's document number as searched, ``code`` the customer code of a listed record."""

    url_name: str
    view: type
    make: Callable[[Any, int], Any]
    number: Callable[[Any], str]
    code: Callable[[Any], str]
    params: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def rows(self, count: int, **customer_fields) -> list:
        return [self.make(customer(**customer_fields), i) for i in range(count)]


def check_search(client, case: ListCase):
    first, second, _third = case.rows(3)
    by_code = listed(client.get(case.url, {**case.params, "q": case.code(first)}))
    assert [case.code(record) for record in by_code] == [case.code(first)]
    by_number = listed(client.get(case.url, {**case.params, "q": case.number(second)}))
    assert [case.number(record) for record in by_number] == [case.number(second)]


def check_sort_by_customer(client, case: ListCase):
    case.rows(3)
    ascending = [case.code(r) for r in listed(client.get(case.url, {**case.params, "sort": "customer"}))]
    descending = [case.code(r) for r in listed(client.get(case.url, {**case.params, "sort": "-customer"}))]
    assert len(ascending) == 3
    assert ascending == sorted(ascending)
    assert descending == ascending[::-1]


def check_paging(client, case: ListCase, monkeypatch):
    monkeypatch.setattr(case.view, "per_page", 2)
    case.rows(3)
    first = client.get(case.url, case.params)
    assert (len(listed(first)), total(first)) == (2, 3)
    assert "1–2 of 3 rows" in first.content.decode()
    second = client.get(case.url, {**case.params, "page": 2})
    assert (len(listed(second)), total(second)) == (1, 3)
    shown = {case.code(r) for r in listed(first)} | {case.code(r) for r in listed(second)}
    assert len(shown) == 3


def check_export(client, case: ListCase, monkeypatch, managers, format: str):
    """The export holds the filtered rows of every page, not one more, a formula-looking name escaped."""
    monkeypatch.setattr(case.view, "per_page", 2)
    managed = case.rows(2, account_manager=managers[0])
    managed.append(case.make(customer(account_manager=managers[0], legal_name="=cmd|' /C calc'!A0"), 9))
    case.rows(2, account_manager=managers[1])
    rows = exported(client, case.url, {**case.params, "account_manager": managers[0].pk}, format)
    codes = {case.code(record) for record in managed}
    assert len(rows) == 3
    assert {row["Customer"] for row in rows} == codes
    names = {row["Customer name"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in names
    assert not any(str(value).startswith("=") for row in rows for value in row.values() if value)


def check_query_count(client, case: ListCase, managers, django_assert_max_num_queries):
    """The same number of queries for 3 rows as for 30 (each customer with its account manager)."""
    for i in range(3):
        case.make(customer(account_manager=managers[i % 2]), i)
    client.get(case.url, case.params)  # sessions, permissions and content types read once
    with CaptureQueriesContext(connection) as three:
        assert len(listed(client.get(case.url, case.params))) == 3
    for i in range(27):
        case.make(customer(account_manager=managers[i % 2]), i)
    with django_assert_max_num_queries(len(three.captured_queries)):
        assert len(listed(client.get(case.url, case.params))) == 30
