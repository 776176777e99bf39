"""Finance's pages: unbilled charges, drafts to issue, one invoice with its actions, payments, overdue
ageing and exports; each action goes through its service."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.roles import sync_roles
from catalog.models import PersonDayRate
from invoices.models import Charge, Invoice, InvoiceKind, InvoiceRun, InvoiceStatus, Payment, WorkLog
from invoices.services import (
    charges_collect,
    invoice_issue,
    invoice_run_execute,
    payment_record,
    work_log_record,
)
from invoices.tasks import dispatch_pending_work
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(django_user_model):
    from django.contrib.auth.models import Group

    sync_roles()
    user = django_user_model.objects.create_user(username="fin", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="finance"))
    return user


@pytest.fixture
def draft(catalogue):
    customer = CustomerFactory(code="ACME", legal_name="示例科技有限公司")
    ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=10600)
    ServicePeriodFactory(
        contract__customer=customer,
        start=datetime.date(2029, 1, 1),
        end=datetime.date(2029, 12, 31),
        fee=5300,
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2026, 1, 31)))
    return Invoice.objects.get()


def test_the_unbilled_list_only_reads_and_says_what_waits_to_be_collected(client, finance, catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=1000)
    client.force_login(finance)
    page = client.get(reverse("invoices:charges"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert not Charge.objects.exists()  # a page view writes nothing
    assert "1 billable record is not collected yet" in page  # never a silent zero
    client.post(reverse("invoices:collect-charges"))
    page = client.get(reverse("invoices:charges"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ACME" in page
    assert "1,000.00" in page
    assert "not collected yet" not in page
    client.post(reverse("invoices:collect-charges"))
    assert Charge.objects.count() == 1  # collecting is idempotent


def test_collecting_says_what_could_not_be_priced_and_why(client, finance, catalogue):
    customer = CustomerFactory(code="NORATE")
    unpriced = WorkLog.objects.create(  # recorded before recording checked prices (or by hand)
        customer=customer,
        engineer="x",
        work_date=datetime.date(2024, 6, 1),
        days=1,
        ticket_ref="T",
        idempotency_key="old",
    )
    client.force_login(finance)
    page = client.post(reverse("invoices:collect-charges"), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert f"Set aside: delivered person-days #{unpriced.pk} of NORATE" in page.content.decode()


def test_the_dispatch_task_collects_what_became_billable(catalogue):
    ServicePeriodFactory(contract__customer=CustomerFactory(code="BEAT"), start=datetime.date(2026, 1, 1))
    dispatch_pending_work()
    assert Charge.objects.get().customer.code == "BEAT"


def test_drafts_issued_and_credit_notes_each_have_their_tab(client, finance, draft):
    client.force_login(finance)
    drafts = client.get(reverse("invoices:invoices")).content.decode()
    assert reverse("invoices:invoice", args=[draft.pk]) in drafts
    assert (
        reverse("invoices:invoice", args=[draft.pk])
        not in client.get(reverse("invoices:invoices") + "?tab=issued").content.decode()
    )


def test_finance_issues_a_draft_and_downloads_its_pdf(
    client, finance, draft, django_capture_on_commit_callbacks
):
    client.force_login(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invoices:issue", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.ISSUED
    assert draft.number.startswith("INV")
    assert draft.number in response.content.decode()
    again = client.post(reverse("invoices:issue", args=[draft.pk]), follow=True)
    assert "message error" in again.content.decode()
    pdf = client.get(reverse("invoices:pdf", args=[draft.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert draft.number in pdf["Content-Disposition"]


def test_the_pdf_of_an_issue_whose_task_has_not_run_is_rendered_on_demand(client, finance, draft):
    invoice_issue(invoice=draft)  # on_commit callbacks are not run here: no PDF yet
    draft.refresh_from_db()
    assert not draft.pdf_sha256
    client.force_login(finance)
    assert client.get(reverse("invoices:pdf", args=[draft.pk])).content.startswith(b"%PDF")
    draft.refresh_from_db()
    assert draft.pdf_sha256


def test_a_draft_has_no_pdf_and_removing_its_line_unbills_the_charge(client, finance, draft):
    client.force_login(finance)
    assert client.get(reverse("invoices:pdf", args=[draft.pk])).status_code == 404
    line = draft.lines.get()
    client.post(reverse("invoices:remove-line", args=[draft.pk, line.pk]))
    assert Charge.objects.get().invoice_line is None
    client.post(reverse("invoices:delete", args=[draft.pk]))
    assert not Invoice.objects.exists()


def test_an_issued_invoice_is_never_deleted(client, finance, draft):
    invoice_issue(invoice=draft)
    client.force_login(finance)
    response = client.post(reverse("invoices:delete", args=[draft.pk]), follow=True)
    assert Invoice.objects.filter(pk=draft.pk).exists()
    assert "message error" in response.content.decode()


def test_finance_records_a_payment_and_an_overpayment_is_refused(client, finance, draft):
    invoice_issue(invoice=draft)
    client.force_login(finance)
    url = reverse("invoices:record-payment", args=[draft.pk])
    client.post(url, {"amount": "6000", "received_on": "2026-02-10", "reference": "BANK-1"})
    client.post(url, {"amount": "6000", "received_on": "2026-02-10", "reference": "BANK-1"})  # the same
    response = client.post(
        url, {"amount": "5000", "received_on": "2026-02-11", "reference": "BANK-2"}, follow=True
    )
    assert list(Payment.objects.values_list("reference", flat=True)) == ["BANK-1"]
    page = response.content.decode()
    assert "message error" in page
    assert "4,600.00" in page  # what is still open
    assert "BANK-1" in client.get(reverse("invoices:payments")).content.decode()


def test_finance_credits_part_of_an_invoice_and_cannot_credit_more_than_was_billed(client, finance, draft):
    draft = invoice_issue(invoice=draft)
    line = draft.lines.get()
    client.force_login(finance)
    url = reverse("invoices:credit", args=[draft.pk])
    response = client.post(url, {"reason": "服务期缩短", f"line_{line.pk}": "0.5"}, follow=True)
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.status == InvoiceStatus.ISSUED
    assert note.number.startswith("CN")
    assert response.redirect_chain[-1][0] == reverse("invoices:invoice", args=[note.pk])
    assert note.lines.get().gross == Money(Decimal("-5300.00"), "CNY")
    too_much = client.post(url, {"reason": "again", f"line_{line.pk}": "0.6"}, follow=True)
    assert "message error" in too_much.content.decode()
    nothing = client.post(url, {"reason": "again"}, follow=True)
    assert "message error" in nothing.content.decode()
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    page = client.get(reverse("invoices:invoice", args=[draft.pk])).content.decode()
    assert note.number in page
    assert "5,300.00" in page


def test_overdue_invoices_are_shown_by_age(client, finance, draft):
    draft = invoice_issue(invoice=draft, issue_date=timezone.localdate() - datetime.timedelta(days=75))
    client.force_login(finance)
    page = client.get(reverse("invoices:overdue")).content.decode()
    assert draft.number in page
    bucket = page.index("31-60")
    assert page.index(draft.number) > bucket  # 45 days past the 30-day terms


def test_exports_download_issued_invoices_as_csv_and_xlsx(client, finance, draft):
    draft = invoice_issue(invoice=draft, issue_date=datetime.date(2026, 2, 3))
    client.force_login(finance)
    params = {"start": "2026-02-01", "end": "2026-02-28", "what": "invoices", "format": "csv"}
    csv = client.get(reverse("invoices:exports"), params)
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert draft.number in text
    assert "示例科技有限公司" in text
    xlsx = client.get(reverse("invoices:exports"), {**params, "format": "xlsx", "what": "lines"})
    assert xlsx.content.startswith(b"PK")
    wrong = client.get(reverse("invoices:exports"), {**params, "start": "2026-03-01"})
    assert wrong["Content-Type"].startswith("text/html")
    assert "warning" in wrong.content.decode()


@pytest.mark.parametrize(
    "page",
    ["invoices:charges", "invoices:invoices", "invoices:payments", "invoices:overdue", "invoices:exports"],
)
def test_finance_pages_are_refused_to_sales(client, django_user_model, page):
    from django.contrib.auth.models import Group

    sync_roles()
    user = django_user_model.objects.create_user(username="s", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="sales"))
    client.force_login(user)
    assert client.get(reverse(page)).status_code == 403


def test_the_issued_tab_costs_the_same_queries_for_three_invoices_as_for_one(client, finance, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_issued_tab() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("invoices:invoices"), {"tab": "issued"}).status_code == 200
        return len(captured)

    client.force_login(finance)
    counts = []
    for new_customers in (1, 2):
        for _ in range(new_customers):
            customer = CustomerFactory()
            ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=1000)
        invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2026, 1, 31)))
        for draft in Invoice.objects.filter(status=InvoiceStatus.DRAFT):
            issued = invoice_issue(invoice=draft)
            payment_record(
                invoice=issued, amount=Money(100, "CNY"), received_on=issued.issue_date, reference="P"
            )
        counts.append(queries_for_issued_tab())
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 3
    assert counts[0] == counts[1]


def test_finance_credits_an_agreed_amount_and_a_credit_of_0_00_is_refused(client, finance, draft):
    draft = invoice_issue(invoice=draft)
    line = draft.lines.get()
    client.force_login(finance)
    url = reverse("invoices:credit", args=[draft.pk])
    english = {"follow": True, "HTTP_ACCEPT_LANGUAGE": "en"}
    zero = client.post(url, {"reason": "协商", f"amount_{line.pk}": "0.00"}, **english)
    assert "a credit of 0.00 is refused" in zero.content.decode()
    both = client.post(url, {"reason": "协商", f"line_{line.pk}": "1", f"amount_{line.pk}": "10"}, **english)
    assert "not both" in both.content.decode()
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    client.post(url, {"reason": "协商", f"amount_{line.pk}": "150.00"})
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.lines.get().gross == Money("-150.00", "CNY")


def test_the_unbilled_total_is_with_vat_whatever_the_price_terms(catalogue, client, django_user_model):
    """A rate card priced without VAT: the page's total is what the invoice will bill, VAT included."""
    PersonDayRate.objects.filter(role="engineer", delivery_mode="remote").update(
        price=1000, tax_inclusive=False
    )
    customer = CustomerFactory(code="NETCO")
    ServicePeriodFactory(contract__customer=customer, fee=0)
    work_log_record(
        customer=customer,
        engineer="李工",
        work_date=datetime.date(2026, 3, 10),
        ticket_ref="T",
        idempotency_key="net-1",
        days=Decimal(1),
    )
    charges_collect(up_to=timezone.localdate())
    client.force_login(user_with(django_user_model, "finance-net", "view_charge"))
    page = client.get(reverse("invoices:charges")).content.decode()
    assert "1,060.00" in page  # 1,000.00 and 6% VAT
