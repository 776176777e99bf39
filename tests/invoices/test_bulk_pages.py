"""The bulk actions' endpoints (workspace.bulk_views): the lists' checkboxes post ``selected`` pks; each
answers with a report of every item, done or refused with the service's reason, and links back to the list
it came from."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from djmoney.money import Money

from billing.roles import sync_roles
from contracts.models import Contact
from invoices.models import Invoice, InvoiceReminder, InvoiceRun, InvoiceStatus, TravelExpense, WorkLog
from invoices.services import (
    charges_collect,
    invoice_draft_remove_line,
    invoice_issue,
    invoice_run_execute,
    travel_expense_record,
    work_log_record,
)
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db
BULK_URLS = ["invoices:bulk-issue", "invoices:bulk-remind", "invoices:bulk-travel", "invoices:bulk-work-logs"]


def role_user(django_user_model, username: str, role: str):
    user = django_user_model.objects.create_user(username=username, password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name=role))
    return user


@pytest.fixture
def finance(django_user_model):
    sync_roles()
    return role_user(django_user_model, "fin", "finance")


@pytest.fixture
def english(client, finance):
    client.force_login(finance)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def drafts(catalogue):
    for code in ("ACME", "BETA", "GAMMA"):
        customer = CustomerFactory(code=code, legal_name=f"{code} Ltd")
        ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), fee=1000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31)))
    return list(Invoice.objects.order_by("customer__code"))


def test_issuing_the_selected_drafts_reports_each_one_and_links_back_to_the_filtered_list(english, drafts):
    acme, beta, gamma = drafts
    invoice_draft_remove_line(line=beta.lines.get())
    back = reverse("invoices:invoices") + "?tab=drafts&q=Ltd"
    response = english.post(
        reverse("invoices:bulk-issue"), {"selected": [acme.pk, beta.pk, gamma.pk], "next": back}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 done · 1 refused" in page
    assert page.count('<tr class="done">') == 2
    assert page.count('<tr class="refused">') == 1
    assert "Issued as INV2026-000001." in page
    assert "Issued as INV2026-000002." in page
    assert "An invoice needs at least one line." in page
    assert "BETA Ltd" in page
    assert f'href="{back.replace("&", "&amp;")}"' in page
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 2


def test_the_report_speaks_chinese_too(client, finance, drafts):
    invoice_draft_remove_line(line=drafts[0].lines.get())
    client.force_login(finance)
    page = client.post(reverse("invoices:bulk-issue"), {"selected": [drafts[0].pk]}).content.decode()
    assert "发票至少需要一行明细。" in page


def test_a_next_address_of_another_site_is_not_followed(english, drafts):
    response = english.post(
        reverse("invoices:bulk-issue"), {"selected": [drafts[0].pk], "next": "https://evil.example/staff/"}
    )
    assert "evil.example" not in response.content.decode()
    assert f'href="{reverse("invoices:invoices")}"' in response.content.decode()


@override_settings(BULK_ACTION_MAX=2)
def test_a_selection_over_the_limit_is_refused_as_a_whole(english, drafts):
    response = english.post(reverse("invoices:bulk-issue"), {"selected": [draft.pk for draft in drafts]})
    assert response.status_code == 400
    assert "3 rows are selected; at most 2 are done at once" in response.content.decode()
    assert not Invoice.objects.filter(status=InvoiceStatus.ISSUED).exists()


@pytest.mark.parametrize("name", BULK_URLS)
def test_sales_may_not_act_in_bulk(client, django_user_model, drafts, name):
    sync_roles()
    client.force_login(role_user(django_user_model, "sales", "sales"))
    response = client.post(reverse(name), {"selected": [drafts[0].pk], "decision": "approve"})
    assert response.status_code == 403
    assert not Invoice.objects.filter(status=InvoiceStatus.ISSUED).exists()


@pytest.mark.parametrize("name", BULK_URLS)
def test_a_bulk_action_needs_the_csrf_token(finance, drafts, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance)
    response = client.post(reverse(name), {"selected": [drafts[0].pk], "decision": "approve"})
    assert response.status_code == 403
    assert not Invoice.objects.filter(status=InvoiceStatus.ISSUED).exists()


def test_a_bulk_action_answers_post_only(english):
    assert english.get(reverse("invoices:bulk-issue")).status_code == 405


def test_reminders_for_the_selected_overdue_invoices(english, finance, drafts, mailoutbox):
    acme, beta, _gamma = drafts
    Contact.objects.create(customer=acme.customer, name="王芳", email="ap@acme.example.com")
    for invoice in (acme, beta):
        invoice_issue(invoice=invoice, issue_date=D(2026, 2, 1))  # due 2026-03-03: overdue today
    page = english.post(reverse("invoices:bulk-remind"), {"selected": [acme.pk, beta.pk]}).content.decode()
    assert "1 done · 1 refused" in page
    assert "Reminder sent to the customer&#x27;s contacts." in page
    assert "BETA Ltd has no contact with an e-mail address to remind." in page
    assert [message.to for message in mailoutbox] == [["ap@acme.example.com"]]
    assert InvoiceReminder.objects.get().sent_by == finance
    again = english.post(reverse("invoices:bulk-remind"), {"selected": [acme.pk]}).content.decode()
    assert "was reminded of today already" in again
    english.post(reverse("invoices:bulk-remind"), {"selected": [acme.pk], "again": "1"})
    assert len(mailoutbox) == 2


def travel(customer, by, amount: str) -> TravelExpense:
    return travel_expense_record(
        customer=customer,
        category="lodging",
        spent_on=D(2026, 3, 5),
        amount=Money(amount, "CNY"),
        description="南昌",
        receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n% receipt\n"),
        by=by,
    )


def test_approving_travel_refuses_the_approvers_own_expense_above_the_cap(english, finance, catalogue):
    customer = CustomerFactory(code="ACME", legal_name="ACME Ltd")
    above, within = travel(customer, finance, "900.00"), travel(customer, finance, "400.00")
    response = english.post(
        reverse("invoices:bulk-travel"), {"selected": [above.pk, within.pk], "decision": "approve"}
    )
    page = response.content.decode()
    assert "1 done · 1 refused" in page
    assert "needs the approval of someone other than who recorded it" in page
    assert list(TravelExpense.objects.filter(approved_at__isnull=False)) == [within]


def test_rejecting_travel_needs_a_reason_and_a_decision(english, finance, catalogue):
    expense = travel(CustomerFactory(code="ACME"), None, "400.00")
    url = reverse("invoices:bulk-travel")
    assert english.post(url, {"selected": [expense.pk], "decision": "reject"}).status_code == 400
    assert english.post(url, {"selected": [expense.pk], "decision": "maybe"}).status_code == 400
    done = english.post(url, {"selected": [expense.pk], "decision": "reject", "reason": "无发票原件"})
    assert "Rejected." in done.content.decode()
    assert TravelExpense.objects.get().rejection_reason == "无发票原件"


def test_rejecting_work_logs_refuses_a_charged_one(english, finance, catalogue):
    customer = CustomerFactory(code="ACME", legal_name="ACME Ltd")
    logs = [
        work_log_record(
            customer=customer,
            engineer="李工",
            work_date=D(2026, 3, day),
            ticket_ref="T-1",
            idempotency_key=f"page-{day}",
            days=Decimal(1),
        )[0]
        for day in (5, 6)
    ]
    charges_collect(up_to=D(2026, 3, 5))  # charges the first
    response = english.post(
        reverse("invoices:bulk-work-logs"),
        {"selected": [log.pk for log in logs], "decision": "reject", "reason": "重复", "next": "/staff/"},
    )
    page = response.content.decode()
    assert "1 done · 1 refused" in page
    assert "This work log is charged already: credit what it billed instead." in page
    assert WorkLog.objects.get(pk=logs[1].pk).review == "rejected"


def test_a_rejected_expense_is_listed_as_rejected_not_waiting(english, finance, catalogue):
    expense = travel(CustomerFactory(code="ACME"), None, "400.00")
    english.post(
        reverse("invoices:bulk-travel"),
        {"selected": [expense.pk], "decision": "reject", "reason": "无发票原件"},
    )
    travel_list = reverse("invoices:travel")
    assert "无发票原件" in english.get(travel_list + "?state=rejected").content.decode()
    assert "南昌" not in english.get(travel_list + "?state=waiting").content.decode()
