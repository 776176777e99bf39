"""Finance's lists (workspace.finance_lists on workspace.lists): search, filters in the URL, sorting,
paging with the total, an export of exactly the filtered rows, and a page costs the same queries whatever
the data."""

import csv
import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from djmoney.money import Money

from billing.roles import sync_roles
from invoices.models import Invoice, InvoiceRun, InvoiceStatus
from invoices.services import invoice_issue, invoice_run_execute, payment_record, work_log_record
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def finance(django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user(username="fin", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="finance"))
    return user


def issued_invoices(count: int, *, start: int = 0, issued_on=datetime.date(2025, 3, 1), fee=1000, **customer):
    """``count`` customers, each with one issued invoice of its period fee (``fee`` + n yuan)."""
    for n in range(start, start + count):
        fields = {"code": f"C{n:03d}", "legal_name": f"Customer {n}"} | customer
        holder = CustomerFactory(**fields)
        ServicePeriodFactory(
            contract__customer=holder,
            start=datetime.date(2025, 1, 1),
            end=datetime.date(2025, 12, 31),
            fee=fee + n,
        )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2025, 1, 31)))
    invoices = list(Invoice.objects.filter(status=InvoiceStatus.DRAFT).order_by("customer__code"))
    return [invoice_issue(invoice=invoice, issue_date=issued_on) for invoice in invoices]


def listed(client, name, **query):
    response = client.get(reverse(name), query, **ENGLISH)
    assert response.status_code == 200
    return response.content.decode()


def test_invoices_are_found_by_customer_code_and_by_number(client, finance, catalogue):
    first, second, third = issued_invoices(3)
    client.force_login(finance)
    page = listed(client, "invoices:invoices", tab="issued", q="C001")
    assert second.number in page
    assert first.number not in page
    assert third.number not in page
    page = listed(client, "invoices:invoices", tab="issued", q=third.number)
    assert third.number in page
    assert first.number not in page
    assert "1 row" in page


def test_a_filter_is_in_the_url_and_narrows_the_list(client, finance, catalogue, django_user_model):
    manager = django_user_model.objects.create_user(username="am", is_staff=True)
    old = issued_invoices(2, issued_on=datetime.date(2025, 2, 1))
    new = issued_invoices(2, start=2, issued_on=datetime.date(2026, 2, 1))
    new[0].customer.account_manager = manager
    new[0].customer.save()
    client.force_login(finance)
    last_year = listed(
        client, "invoices:invoices", tab="issued", issued_after="2025-01-01", issued_before="2025-12-31"
    )
    assert all(invoice.number in last_year for invoice in old)
    assert not any(invoice.number in last_year for invoice in new)
    managed = listed(client, "invoices:invoices", tab="issued", account_manager=manager.pk)
    assert new[0].number in managed
    assert new[1].number not in managed
    assert old[0].number not in listed(client, "invoices:invoices", tab="issued", currency="USD")


def test_a_bad_filter_value_is_shown_as_an_error_not_a_failure(client, finance, catalogue):
    issued_invoices(1)
    client.force_login(finance)
    page = listed(client, "invoices:invoices", tab="issued", issued_after="yesterday", currency="XXX")
    assert 'class="error"' in page


def test_sorting_by_the_open_amount_puts_the_largest_first(client, finance, catalogue):
    small, large, middle = issued_invoices(3)
    payment_record(
        invoice=large,
        amount=Money(Decimal("1.00"), "CNY"),
        received_on=datetime.date(2025, 3, 2),
        reference="P1",
    )
    payment_record(
        invoice=small,
        amount=Money(Decimal("500.00"), "CNY"),
        received_on=datetime.date(2025, 3, 2),
        reference="P2",
    )
    client.force_login(finance)
    page = listed(client, "invoices:invoices", tab="issued", sort="-open_total")
    assert page.index(middle.number) < page.index(large.number) < page.index(small.number)
    assert "¥500.00" in page  # small: ¥1,000.00 less ¥500.00 paid


def test_paging_shows_the_total_and_the_next_page(client, finance, catalogue):
    invoices = issued_invoices(5)
    client.force_login(finance)
    first = listed(client, "invoices:invoices", tab="issued", per_page=2, sort="number")
    assert "1–2 of 5 rows" in first
    assert invoices[0].number in first
    assert invoices[2].number not in first
    second = listed(client, "invoices:invoices", tab="issued", per_page=2, sort="number", page=2)
    assert "3–4 of 5 rows" in second
    assert invoices[2].number in second
    assert invoices[0].number not in second
    beyond = listed(client, "invoices:invoices", tab="issued", per_page=2, sort="number", page=99)
    assert "5–5 of 5 rows" in beyond


def test_the_export_holds_exactly_the_filtered_rows_of_every_page_with_formulas_escaped(
    client, finance, catalogue
):
    issued_invoices(3, legal_name='=HYPERLINK("http://x")')
    others = issued_invoices(2, start=3, issued_on=datetime.date(2026, 3, 1))
    client.force_login(finance)
    query = {"tab": "issued", "issued_before": "2025-12-31", "per_page": 1}
    shown = listed(client, "invoices:invoices", **query, page=2)
    links = re.findall(r'href="(\?[^"]*export=(?:csv|xlsx)[^"]*)"', shown)
    assert len(links) == 2  # the page's own filters, without its page number
    assert all(
        "issued_before=2025-12-31" in link and "page=" not in link.replace("per_page", "") for link in links
    )
    response = client.get(reverse("invoices:invoices"), query | {"export": "csv"}, **ENGLISH)
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Invoice", "Customer", "Customer name"]
    assert len(rows) == 1 + 3  # every page, only the filtered rows
    assert sorted(row[1] for row in rows[1:]) == ["C000", "C001", "C002"]
    assert all(row[2] == '\'=HYPERLINK("http://x")' for row in rows[1:])
    assert not any(other.number in cell for other in others for row in rows for cell in row)
    assert {row[rows[0].index("Total")] for row in rows[1:]} == {"1000.00", "1001.00", "1002.00"}

    response = client.get(reverse("invoices:invoices"), query | {"export": "xlsx"}, **ENGLISH)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 1 + 3
    assert all(row[2] == '\'=HYPERLINK("http://x")' for row in values[1:])


def test_an_export_larger_than_the_limit_is_refused_with_a_message(client, finance, catalogue, settings):
    settings.LIST_EXPORT_MAX_ROWS = 2
    issued_invoices(3)
    client.force_login(finance)
    response = client.get(
        reverse("invoices:invoices"), {"tab": "issued", "export": "csv"}, follow=True, **ENGLISH
    )
    assert "narrow the filters" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_a_page_costs_the_same_queries_for_three_and_thirty_invoices(
    client, finance, catalogue, django_assert_max_num_queries
):
    client.force_login(finance)
    issued_invoices(3)
    with django_assert_max_num_queries(14) as few:
        listed(client, "invoices:invoices", tab="issued")
    issued_invoices(27, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed(client, "invoices:invoices", tab="issued")


def test_drafts_carry_a_check_box_each_for_the_bulk_issue(client, finance, catalogue):
    issued_invoices(1)
    ServicePeriodFactory(
        contract__customer=CustomerFactory(code="DRAFTY"), start=datetime.date(2025, 1, 1), fee=10
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2025, 1, 31)))
    draft = Invoice.objects.get(status=InvoiceStatus.DRAFT)
    client.force_login(finance)
    page = listed(client, "invoices:invoices", tab="drafts")
    assert f'name="selected" value="{draft.pk}"' in page


def test_overdue_invoices_are_filtered_by_age_and_show_what_is_open(client, finance, catalogue):
    old = issued_invoices(1, issued_on=datetime.date(2025, 1, 1))[0]
    paid = issued_invoices(1, start=1, issued_on=datetime.date(2025, 1, 1))[0]
    payment_record(
        invoice=paid,
        amount=Money(Decimal("1001.00"), "CNY"),
        received_on=datetime.date(2025, 1, 2),
        reference="ALL",
    )
    client.force_login(finance)
    page = listed(client, "invoices:overdue")
    assert old.number in page
    assert paid.number not in page
    assert old.number in listed(client, "invoices:overdue", age="90+")
    assert old.number not in listed(client, "invoices:overdue", age="1-30")


def test_the_overdue_page_costs_the_same_queries_for_three_and_thirty_invoices(
    client, finance, catalogue, django_assert_max_num_queries
):
    client.force_login(finance)
    issued_invoices(3, issued_on=datetime.date(2025, 1, 1))
    with django_assert_max_num_queries(14) as few:
        page = listed(client, "invoices:overdue")
    assert "C002" in page
    issued_invoices(27, start=3, issued_on=datetime.date(2025, 1, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "C029" in listed(client, "invoices:overdue")


def test_the_overdue_total_adds_up_what_is_open_on_the_open_invoices_only(client, finance, catalogue):
    _untouched, part_paid, paid = issued_invoices(3, issued_on=datetime.date(2025, 1, 1))
    for invoice, amount in ((part_paid, "1.00"), (paid, "1002.00")):
        payment_record(
            invoice=invoice,
            amount=Money(Decimal(amount), "CNY"),
            received_on=datetime.date(2025, 1, 2),
            reference=invoice.number,
        )
    Invoice.objects.filter(pk=paid.pk).update(settled=False)  # as if written outside the services: read
    client.force_login(finance)
    response = client.get(reverse("invoices:overdue"), **ENGLISH)
    assert response.context["open_sums"] == [Money(Decimal("2000.00"), "CNY")]  # 1,000 + 1,001 - 1
    assert client.get(reverse("invoices:overdue"), {"q": "C002"}, **ENGLISH).context["open_sums"] == []


def test_payments_are_found_by_reference_and_filtered_by_date(client, finance, catalogue):
    first, second = issued_invoices(2)
    payment_record(
        invoice=first,
        amount=Money(Decimal("10.00"), "CNY"),
        received_on=datetime.date(2025, 4, 1),
        reference="BANK-0001",
    )
    payment_record(
        invoice=second,
        amount=Money(Decimal("20.00"), "CNY"),
        received_on=datetime.date(2026, 4, 1),
        reference="BANK-0002",
    )
    client.force_login(finance)
    page = listed(client, "invoices:payments", q="bank-0002")
    assert "BANK-0002" in page
    assert "BANK-0001" not in page
    page = listed(client, "invoices:payments", received_before="2025-12-31")
    assert "BANK-0001" in page
    assert "BANK-0002" not in page


def test_work_logs_are_found_by_engineer_and_ticket(client, finance, catalogue):
    customer = CustomerFactory(code="WL")
    ServicePeriodFactory(contract__customer=customer)
    for engineer, ticket in (("王工", "T-100"), ("李工", "T-200")):
        work_log_record(
            customer=customer,
            engineer=engineer,
            work_date=datetime.date(2025, 5, 6),
            days=Decimal("0.5"),
            ticket_ref=ticket,
            service_code="custom-development",
            idempotency_key=f"{engineer}{ticket}",
        )
    client.force_login(finance)
    page = listed(client, "invoices:work-logs", q="王工")
    assert "T-100" in page
    assert "T-200" not in page
    page = listed(client, "invoices:work-logs", q="T-200")
    assert "李工" in page
    assert "王工" not in page
