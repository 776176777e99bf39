"""Bulk actions (invoices.bulk): each selected item goes through its one-item service in its own
transaction; one refusal leaves the others done. Also the rules the bulk actions brought: rejecting travel,
finance's review of work logs, and a reminder asked for by someone."""

import datetime
from decimal import Decimal
from itertools import count

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils.translation import override
from djmoney.money import Money

from billing.errors import BillingError
from contracts.models import Contact
from invoices import bulk
from invoices.models import (
    Charge,
    ChargeSource,
    Invoice,
    InvoiceReminder,
    InvoiceRun,
    InvoiceStatus,
    TravelExpense,
    WorkLog,
    WorkLogReview,
)
from invoices.services import (
    charges_collect,
    invoice_draft_remove_line,
    invoice_issue,
    invoice_run_execute,
    overdue_reminders_send,
    travel_expense_approve,
    travel_expense_record,
    work_log_record,
)
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

D = datetime.date
pytestmark = pytest.mark.django_db
KEYS = count()


@pytest.fixture(autouse=True)
def in_english():
    with override("en"):
        yield


@pytest.fixture
def finance(django_user_model):
    return user_with(
        django_user_model, "fin", "change_invoice", "change_travelexpense", "add_worklog", "change_worklog"
    )


@pytest.fixture
def colleague(django_user_model):
    return user_with(django_user_model, "fin2", "change_invoice", "change_travelexpense", "change_worklog")


def drafts(number: int) -> list[Invoice]:
    """``number`` drafts, one per customer (D0, D1, ...), each billing a January period fee."""
    for index in range(number):
        customer = CustomerFactory(code=f"D{index}")
        ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), fee=1000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31)))
    return list(Invoice.objects.filter(status=InvoiceStatus.DRAFT).order_by("customer__code"))


def emptied(draft: Invoice) -> Invoice:
    """A draft whose lines were all taken off: invoice_issue refuses it."""
    for line in draft.lines.all():
        invoice_draft_remove_line(line=line)
    return draft


def test_issuing_drafts_in_bulk_issues_each_and_reports_the_refused_with_the_services_reason(
    catalogue, finance
):
    first, empty, third, issued = drafts(4)
    emptied(empty)
    invoice_issue(invoice=issued)
    report = bulk.invoices_issue(pks=[first.pk, empty.pk, third.pk, issued.pk, 999999], by=finance)
    assert [(outcome.pk, outcome.done) for outcome in report.outcomes] == [
        (first.pk, True),
        (empty.pk, False),
        (third.pk, True),
        (issued.pk, False),
        (999999, False),
    ]
    assert [outcome.error.code for outcome in report.refused] == [
        "invoice_empty",
        "invoice_issued",
        "not_found",
    ]
    assert str(report.refused[0].error) == "An invoice needs at least one line."
    with override("zh-hans"):
        assert str(report.refused[0].error) == "发票至少需要一行明细。"
    assert Invoice.objects.get(pk=empty.pk).status == InvoiceStatus.DRAFT
    assert Invoice.objects.get(pk=third.pk).issued_by == finance


def test_numbers_stay_gapless_when_some_drafts_are_refused(catalogue, finance):
    selected = drafts(6)
    emptied(selected[1])
    emptied(selected[4])
    bulk.invoices_issue(pks=[draft.pk for draft in selected], by=finance)
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("sequence")
    assert [invoice.sequence for invoice in issued] == [1, 2, 3, 4]
    assert [invoice.customer.code for invoice in issued] == ["D0", "D2", "D3", "D5"]  # in the order selected
    # the next draft issued one at a time takes the next number: none was lost to the refusals
    customer = CustomerFactory(code="LATE")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), fee=1000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31), customer=customer))
    assert invoice_issue(invoice=Invoice.objects.get(customer=customer)).sequence == 5


@override_settings(BULK_ACTION_MAX=3)
def test_a_selection_over_the_limit_is_refused_as_a_whole(catalogue, finance):
    selected = drafts(4)
    with pytest.raises(BillingError) as refused:
        bulk.invoices_issue(pks=[draft.pk for draft in selected], by=finance)
    assert refused.value.code == "selection_too_large"
    assert "at most 3" in str(refused.value)
    assert not Invoice.objects.filter(status=InvoiceStatus.ISSUED).exists()


def test_an_empty_selection_is_refused(catalogue, finance):
    with pytest.raises(BillingError, match="Select at least one row"):
        bulk.invoices_issue(pks=[], by=finance)


# travel


def expense(customer, by, *, amount="1234.50", quantity=2) -> TravelExpense:
    """Lodging in Nanchang; the seed's cap is 500.00 a night, so the default is above it."""
    return travel_expense_record(
        customer=customer,
        category="lodging",
        spent_on=D(2026, 3, 5),
        amount=Money(amount, "CNY"),
        quantity=quantity,
        description="南昌",
        receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n% receipt\n"),
        by=by,
    )


def test_approving_travel_in_bulk_refuses_the_approvers_own_expense_above_the_cap(
    catalogue, finance, colleague
):
    customer = CustomerFactory(code="ACME")
    own_above_cap = expense(customer, finance)
    own_within_cap = expense(customer, finance, amount="400.00", quantity=1)
    colleagues = expense(customer, colleague)
    report = bulk.travel_expenses_decide(
        pks=[own_above_cap.pk, own_within_cap.pk, colleagues.pk], by=finance, approve=True
    )
    assert [outcome.done for outcome in report.outcomes] == [False, True, True]
    assert report.refused[0].error.code == "own_request"
    assert TravelExpense.objects.filter(approved_at__isnull=False).count() == 2
    assert TravelExpense.objects.get(pk=own_above_cap.pk).approved_at is None


def test_a_rejected_expense_is_never_billed_nor_approved(catalogue, finance, colleague):
    customer = CustomerFactory(code="ACME")
    rejected = expense(customer, colleague)
    report = bulk.travel_expenses_decide(pks=[rejected.pk], by=finance, approve=False, reason="无发票原件")
    assert report.outcomes[0].done
    rejected.refresh_from_db()
    assert (rejected.rejected_by, rejected.rejection_reason) == (finance, "无发票原件")
    with pytest.raises(BillingError, match="rejected"):
        travel_expense_approve(expense=rejected, by=finance)
    charges_collect(up_to=D(2026, 3, 31))
    assert not Charge.objects.filter(source=ChargeSource.TRAVEL).exists()
    assert rejected.history.count() == 2  # recorded, then rejected


def test_an_approved_expense_not_on_an_invoice_yet_is_rejected_and_its_charge_dropped(
    catalogue, finance, colleague
):
    customer = CustomerFactory(code="ACME")
    approved = travel_expense_approve(expense=expense(customer, colleague), by=finance)
    charges_collect(up_to=D(2026, 3, 31))
    assert Charge.objects.filter(source=ChargeSource.TRAVEL, source_id=approved.pk).exists()
    bulk.travel_expenses_decide(pks=[approved.pk], by=finance, approve=False, reason="重复报销")
    assert not Charge.objects.filter(source=ChargeSource.TRAVEL).exists()
    charges_collect(up_to=D(2026, 3, 31))
    assert not Charge.objects.filter(source=ChargeSource.TRAVEL).exists()


def test_rejecting_a_billed_expense_is_refused(catalogue, finance, colleague):
    customer = CustomerFactory(code="ACME")
    billed = travel_expense_approve(expense=expense(customer, colleague), by=finance)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)))
    report = bulk.travel_expenses_decide(pks=[billed.pk], by=finance, approve=False, reason="重复报销")
    assert report.refused[0].error.code == "travel_billed"
    assert TravelExpense.objects.get(pk=billed.pk).rejected_at is None


def test_rejecting_in_bulk_needs_a_reason(catalogue, finance, colleague):
    customer = CustomerFactory(code="ACME")
    waiting = expense(customer, colleague)
    with pytest.raises(BillingError, match="Say why"):
        bulk.travel_expenses_decide(pks=[waiting.pk], by=finance, approve=False, reason="  ")


# work logs


def log(customer, by=None) -> WorkLog:
    work_log, _new = work_log_record(
        customer=customer,
        engineer="李工",
        work_date=D(2026, 3, 5),
        ticket_ref="T-1",
        idempotency_key=f"bulk-test-{next(KEYS)}",
        days=Decimal(1),
        by=by,
    )
    return work_log


def test_reviewing_work_logs_in_bulk_refuses_the_recorders_own_and_a_charged_one(
    catalogue, finance, colleague
):
    customer = CustomerFactory(code="ACME")
    own, tools, colleagues = log(customer, finance), log(customer), log(customer, colleague)
    approved = bulk.work_logs_decide(pks=[own.pk, tools.pk, colleagues.pk], by=finance, approve=True)
    assert [outcome.done for outcome in approved.outcomes] == [False, True, True]
    assert approved.refused[0].error.code == "own_request"
    tools.refresh_from_db()
    assert (tools.review, tools.reviewed_by) == (WorkLogReview.APPROVED, finance)
    assert tools.reviewed_at is not None

    charges_collect(up_to=D(2026, 3, 31))  # billing does not wait for a review: all three are charged
    assert WorkLog.objects.filter(processed_at__isnull=False).count() == 3
    rejected = bulk.work_logs_decide(pks=[own.pk], by=colleague, approve=False, reason="重复")
    assert rejected.refused[0].error.code == "work_log_charged"
    assert "credit" in str(rejected.refused[0].error)


def test_a_rejected_work_log_is_never_charged(catalogue, finance):
    customer = CustomerFactory(code="ACME")
    rejected, kept = log(customer), log(customer)
    report = bulk.work_logs_decide(pks=[rejected.pk], by=finance, approve=False, reason="工单不属于该客户")
    assert report.outcomes[0].done
    charges_collect(up_to=D(2026, 3, 31))
    charged = Charge.objects.filter(source=ChargeSource.WORK_LOG).values_list("source_id", flat=True)
    assert list(charged) == [kept.pk]
    rejected.refresh_from_db()
    assert (rejected.review, rejected.review_reason, rejected.processed_at) == (
        WorkLogReview.REJECTED,
        "工单不属于该客户",
        None,
    )
    assert bulk.work_logs_decide(pks=[rejected.pk], by=finance, approve=True).refused[0].error.code == (
        "work_log_rejected"
    )
    assert rejected.history.count() == 2


def test_work_log_record_keeps_who_recorded_it(catalogue, finance):
    assert log(CustomerFactory(code="ACME"), finance).recorded_by == finance


# reminders


def overdue_invoice(code: str, *, email: str | None = "ap@example.com") -> Invoice:
    """An invoice of 2026-02-01, due 2026-03-03, unpaid."""
    customer = CustomerFactory(code=code)
    if email is not None:
        Contact.objects.create(customer=customer, name="王芳", email=email)
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), fee=1000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31), customer=customer))
    return invoice_issue(invoice=Invoice.objects.get(customer=customer), issue_date=D(2026, 2, 1))


def test_reminding_in_bulk_refuses_a_customer_without_e_mail_and_an_invoice_not_overdue(catalogue, finance):
    reachable, unreachable = overdue_invoice("A"), overdue_invoice("B", email=None)
    report = bulk.overdue_remind(pks=[reachable.pk, unreachable.pk], by=finance, today=D(2026, 3, 20))
    assert [outcome.done for outcome in report.outcomes] == [True, False]
    assert report.refused[0].error.code == "no_contact_email"
    assert [message.to for message in mail.outbox] == [["ap@example.com"]]
    [reminder] = InvoiceReminder.objects.all()
    assert (reminder.days_overdue, reminder.sent_on, reminder.sent_by) == (17, D(2026, 3, 20), finance)
    early = bulk.overdue_remind(pks=[reachable.pk], by=finance, today=D(2026, 3, 3))
    assert early.refused[0].error.code == "not_overdue"


def test_an_invoice_is_reminded_once_a_day_unless_asked_again(catalogue, finance):
    invoice = overdue_invoice("A")
    today = D(2026, 4, 2)  # 30 days overdue: the daily task's step too
    assert bulk.overdue_remind(pks=[invoice.pk], by=finance, today=today).outcomes[0].done
    second = bulk.overdue_remind(pks=[invoice.pk], by=finance, today=today)
    assert second.refused[0].error.code == "reminded_today"
    assert overdue_reminders_send(today=today) != []  # the steps are recorded, without a second e-mail
    assert len(mail.outbox) == 1
    assert bulk.overdue_remind(pks=[invoice.pk], by=finance, today=today, again=True).outcomes[0].done
    assert len(mail.outbox) == 2
    assert overdue_reminders_send(today=D(2026, 4, 20)) == []  # steps 1 and 30 are used up; 60 not reached


def test_the_daily_task_uses_no_step_of_a_customer_without_e_mail(catalogue):
    invoice = overdue_invoice("B", email=None)
    assert overdue_reminders_send(today=D(2026, 3, 4)) == []
    Contact.objects.create(customer=invoice.customer, name="王芳", email="ap@example.com")
    assert [reminder.days_overdue for reminder in overdue_reminders_send(today=D(2026, 3, 5))] == [1]
