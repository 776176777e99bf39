"""Finance's fapiao pages: the invoices needing a fapiao, their export as the platform's batch workbook (or
the full list of problems), and the batches sent, downloaded again."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from contracts.models import FapiaoType
from invoices.models import Fapiao, FapiaoBatch, Invoice, InvoiceLine
from invoices.services import credit_note_issue, invoice_issue
from tests.factories import CustomerFactory, user_with
from tests.invoices.fapiao_helpers import (
    add_line,
    customer_with_details,
    issued,
    platform_invoices,
    workbooks,
)
from tests.workspace.lists_helpers import listed

pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]

TODAY = datetime.date(2026, 12, 1)


@pytest.fixture
def invoices(catalogue):
    """Two customers' invoices needing a fapiao (one of 5 days, one of 45), and invoices that need none."""
    first = customer_with_details(FapiaoType.SPECIAL, title="甲方科技有限公司")
    second = customer_with_details(FapiaoType.ORDINARY, title="乙方软件有限公司")
    recent = issued(first, issue_date=TODAY - datetime.timedelta(days=5))
    older = issued(second, issue_date=TODAY - datetime.timedelta(days=45))
    with_fapiao = issued(first, issue_date=TODAY - datetime.timedelta(days=10))
    Fapiao.objects.create(
        invoice=with_fapiao,
        number="00260000000000000001",
        fapiao_type=FapiaoType.SPECIAL,
        issued_on=TODAY,
        gross=Money(Decimal("1000.00"), "CNY"),
    )
    credited = issued(first, issue_date=TODAY - datetime.timedelta(days=20))
    note = credit_note_issue(invoice=credited, reason="退回", lines={credited.lines.get().pk: Decimal("1")})
    draft = Invoice.objects.create(customer=first, currency="CNY")
    add_line(draft)
    dollars = Invoice.objects.create(customer=first, currency="USD")
    InvoiceLine.objects.create(
        invoice=dollars, description="support", quantity=1, unit_price=Money(100, "USD"),
        list_amount=Money(100, "USD"), vat_rate=Decimal("0.06"), net=Money("94.34", "USD"),
        vat=Money("5.66", "USD"), gross=Money(100, "USD"), service_code="remote-maintenance",
    )  # fmt: skip
    invoice_issue(invoice=dollars)
    return {"recent": recent, "older": older, "credited": credited, "note": note, "draft": draft}


def test_the_list_shows_issued_invoices_in_yuan_without_a_fapiao_by_customer(staff_client, invoices):
    response = staff_client.get(reverse("invoices:fapiao"))
    # the fully credited invoice is open for nothing; with a fapiao, a draft, a credit note, dollars: no
    assert listed(response) == [invoices["recent"], invoices["older"]]
    content = response.content.decode()
    assert "Export batch workbook" in content
    assert reverse("invoices:fapiao-batches") in content  # the finance menu


def test_the_list_filters_by_customer_age_state_and_search(staff_client, invoices):
    url = reverse("invoices:fapiao")
    recent, older = invoices["recent"], invoices["older"]
    assert listed(staff_client.get(url, {"customer": recent.customer.code})) == [recent]
    assert listed(staff_client.get(url, {"age": "31-60"})) == [older]
    assert listed(staff_client.get(url, {"age": "0-30"})) == [recent]
    assert listed(staff_client.get(url, {"q": "乙方软件"})) == [older]
    assert listed(staff_client.get(url, {"fapiao_type": FapiaoType.SPECIAL})) == [recent]
    FapiaoBatch.objects.create().invoices.add(older)
    assert listed(staff_client.get(url, {"state": "requested"})) == [older]
    assert listed(staff_client.get(url, {"state": "none"})) == [recent]
    assert "fapiao requested" in staff_client.get(url).content.decode()


def test_exporting_the_selection_downloads_the_workbook_and_records_the_batch(
    staff_client, invoices, admin_user
):
    recent, older = invoices["recent"], invoices["older"]
    response = staff_client.post(reverse("invoices:fapiao-export"), {"selected": [recent.pk, older.pk]})

    assert response.status_code == 200
    batch = FapiaoBatch.objects.get()
    assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}.xlsx"'
    (book,) = workbooks(response.content)
    assert set(platform_invoices(book)) == {recent.number, older.number}
    assert (batch.created_by, set(batch.invoices.all())) == (admin_user, {recent, older})
    invoice_page = staff_client.get(reverse("invoices:invoice", args=[recent.pk])).content.decode()
    assert '<span class="badge fapiao-state fapiao-requested">fapiao requested</span>' in invoice_page

    batches = staff_client.get(reverse("invoices:fapiao-batches"))
    assert listed(batches) == [batch]
    download = reverse("invoices:fapiao-batch-download", args=[batch.pk])
    assert download in batches.content.decode()
    again = staff_client.get(download)
    assert again.status_code == 200
    assert set(platform_invoices(workbooks(again.content)[0])) == {recent.number, older.number}


def test_a_bad_selection_shows_every_problem_and_records_nothing(staff_client, invoices):
    bare = issued(CustomerFactory())  # no fapiao details
    selected = [invoices["recent"].pk, invoices["note"].pk, bare.pk]
    response = staff_client.post(reverse("invoices:fapiao-export"), {"selected": selected})

    assert response.status_code == 400
    problems = response.context["problems"]
    assert {problem.invoice for problem in problems} == {invoices["note"].number, bare.number}
    content = response.content.decode()
    assert "The batch is refused: 2 problems, nothing was exported." in content
    assert "The customer has no fapiao details" in content
    assert not FapiaoBatch.objects.exists()


def test_an_empty_selection_is_refused(staff_client, invoices):
    response = staff_client.post(reverse("invoices:fapiao-export"), {})
    assert response.status_code == 400
    assert not FapiaoBatch.objects.exists()


def test_a_batch_is_not_downloaded_again_once_an_invoice_has_its_fapiao(staff_client, invoices):
    batch = FapiaoBatch.objects.create()
    batch.invoices.add(invoices["recent"])
    Fapiao.objects.create(
        invoice=invoices["recent"],
        number="00260000000000000002",
        fapiao_type=FapiaoType.SPECIAL,
        issued_on=TODAY,
        gross=Money(Decimal("1000.00"), "CNY"),
    )
    response = staff_client.get(reverse("invoices:fapiao-batch-download", args=[batch.pk]))
    assert response.status_code == 409
    assert "A fapiao is recorded for this invoice already." in response.content.decode()


def test_the_pages_need_the_fapiao_permissions(client, django_user_model, invoices):
    reader = user_with(django_user_model, "reader", "view_invoice")
    client.force_login(reader)
    assert client.get(reverse("invoices:fapiao")).status_code == 403
    assert (
        client.post(reverse("invoices:fapiao-export"), {"selected": [invoices["recent"].pk]}).status_code
        == 403
    )
    assert client.get(reverse("invoices:fapiao-batches")).status_code == 403
    assert not FapiaoBatch.objects.exists()
    batches = user_with(django_user_model, "batches", "view_fapiaobatch")
    client.force_login(batches)
    assert client.get(reverse("invoices:fapiao-batches")).status_code == 200
    assert client.get(reverse("invoices:fapiao")).status_code == 403
