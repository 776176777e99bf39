"""Fees and cover: when the invoice billing the covering paid period's fee is overdue past the grace days
(FEE_OVERDUE_GRACE_DAYS) with money open, the decision follows the tier's policy: ``warn`` keeps the
outcome and names the invoice, ``suspend`` makes included and billable work need approval."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from catalog.models import FeeOverduePolicy, ServiceTier
from contracts.entitlements import decide
from contracts.fees import overdue_fee_reader
from invoices.models import Invoice, InvoiceRun
from invoices.selectors import invoice_balance, period_fee_overdue
from invoices.services import (
    LineCredit,
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    payment_record,
)
from tests.contracts.conftest import SHANGHAI, at
from tests.contracts.test_api import CHECK, api
from tests.factories import CustomerFactory, LicensedProductFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
D = datetime.date
ISSUED = D(2026, 1, 5)  # due 2026-02-04 (30 days' terms); overdue past 30 days' grace from 2026-03-07
LAST_DAY_OF_GRACE = at(2026, 3, 6, 10)  # 30 days overdue
FIRST_DAY_PAST_GRACE = at(2026, 3, 7, 10)  # 31 days overdue
FEE = Money(Decimal("50000.00"), "CNY")


@pytest.fixture
def clock(monkeypatch):
    """Moves the project's clock (timezone.now, which services read) to 10:00 of a day in Shanghai."""

    @contextlib.contextmanager
    def on(day: datetime.date):
        moment = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda: moment)
            yield moment

    return on


def covered(tier: str = "standard", policy: str | None = None):
    """ACME's paid 2026 period of ``tier`` (fee 50,000.00; KMS 8.5.2), the tier's policy set when given."""
    if policy:
        ServiceTier.objects.filter(code=tier).update(fee_overdue_policy=policy)
    customer = CustomerFactory(code="ACME")
    period = ServicePeriodFactory(
        contract__customer=customer,
        start=D(2026, 1, 1),
        end=D(2026, 12, 31),
        fee=50000,
        tier=ServiceTier.objects.get(code=tier),
    )
    LicensedProductFactory(contract=period.contract, version="8.5.2")
    return period


def bill_fee(period, *, issued_on: datetime.date | None = ISSUED) -> Invoice:
    """The invoice run that bills the period's fee; the draft issued on ``issued_on`` (None: left a draft)."""
    run = invoice_run_execute(run=InvoiceRun.objects.create(up_to=period.start))
    draft = Invoice.objects.get(run=run)
    return draft if issued_on is None else invoice_issue(invoice=draft, issue_date=issued_on)


def codes(decision) -> list[str]:
    """The reasons' codes, less the catalogue's figures flagged as the vendor's to confirm (escalation)."""
    return [reason.code for reason in decision.reasons if not reason.code.endswith("_to_confirm")]


def fee_reason(decision):
    return next(reason for reason in decision.reasons if reason.code == "fee_overdue")


def fault(moment, **question):
    return decide(customer="ACME", service="defect-fix", at=moment, severity="2", **question)


def test_the_invoices_app_registers_its_reader_in_the_running_project():
    assert apps.is_installed("invoices")
    assert overdue_fee_reader() is period_fee_overdue


def test_the_seeded_standard_tier_suspends_and_the_strategic_tier_warns(catalogue):
    policies = dict(ServiceTier.objects.values_list("code", "fee_overdue_policy"))
    assert policies == {"standard": FeeOverduePolicy.SUSPEND, "strategic": FeeOverduePolicy.WARN}


def test_warn_keeps_the_outcome_and_names_the_invoice_the_open_amount_and_the_days(catalogue):
    period = covered("strategic")
    invoice = bill_fee(period)
    decision = fault(FIRST_DAY_PAST_GRACE)
    assert decision.outcome == "included"
    assert codes(decision) == ["standard_service", "fee_overdue"]
    overdue = decision.fee_overdue
    assert (overdue.invoice, overdue.open_amount, overdue.due_date, overdue.days_overdue, overdue.policy) == (
        invoice.number,
        FEE,
        D(2026, 2, 4),
        31,
        "warn",
    )
    reason = fee_reason(decision)
    assert reason.text("en") == (
        f"Invoice {invoice.number} for this period's fee is 31 days overdue (due 2026-02-04): CN¥50,000.00 "
        "open. Ask the customer to pay."
    )
    assert "¥50,000.00" in reason.text("zh-hans")
    assert invoice.number in reason.text("zh-hans")


def test_suspend_makes_included_work_need_approval(catalogue):
    period = covered("standard", FeeOverduePolicy.SUSPEND)
    invoice = bill_fee(period)
    decision = fault(FIRST_DAY_PAST_GRACE)
    assert decision.outcome == "needs_approval"
    assert codes(decision) == ["standard_service", "fee_overdue"]
    assert fee_reason(decision).params["suspended"] is True
    assert decision.fee_overdue.policy == "suspend"
    assert "Cover is suspended" in fee_reason(decision).text("en")
    assert invoice.number in fee_reason(decision).text("en")
    assert decision.respond_by is not None  # the clock still runs: approval decides the work, not the answer


def test_suspend_makes_billable_work_need_approval_and_keeps_its_price(catalogue):
    bill_fee(covered("standard", FeeOverduePolicy.SUSPEND))
    decision = decide(customer="ACME", service="custom-development", at=FIRST_DAY_PAST_GRACE, quantity=2)
    assert decision.outcome == "needs_approval"
    assert decision.price is not None
    assert codes(decision)[-1] == "fee_overdue"


def test_suspend_leaves_a_not_covered_answer_not_covered(catalogue):
    period = covered("standard", FeeOverduePolicy.SUSPEND)
    bill_fee(period)
    unreleased = decide(
        customer="ACME", service="upgrade", at=FIRST_DAY_PAST_GRACE, product="KMS", to_version="8.99.0"
    )
    assert unreleased.outcome == "not_covered"
    assert codes(unreleased) == ["unreleased_version", "fee_overdue"]


@pytest.mark.parametrize("policy", [FeeOverduePolicy.WARN, FeeOverduePolicy.SUSPEND])
@pytest.mark.parametrize(
    ("moment", "overdue"),
    [
        (at(2026, 2, 4, 10), False),  # the due date
        (at(2026, 2, 20, 10), False),  # overdue, within grace
        (LAST_DAY_OF_GRACE, False),  # 30 days overdue: the last day of grace
        (FIRST_DAY_PAST_GRACE, True),  # 31 days overdue
    ],
)
def test_the_policy_applies_only_past_the_grace_days(catalogue, policy, moment, overdue):
    bill_fee(covered("standard", policy))
    decision = fault(moment)
    assert (decision.fee_overdue is not None) is overdue
    assert ("fee_overdue" in codes(decision)) is overdue
    assert decision.outcome == ("needs_approval" if overdue and policy == "suspend" else "included")


def test_the_grace_days_are_a_setting(catalogue, settings):
    settings.FEE_OVERDUE_GRACE_DAYS = 0
    bill_fee(covered("standard", FeeOverduePolicy.WARN))
    assert fault(at(2026, 2, 4, 10)).fee_overdue is None  # due today
    assert fault(at(2026, 2, 5, 10)).fee_overdue.days_overdue == 1


def test_a_fee_not_invoiced_or_invoiced_in_a_draft_has_no_effect(catalogue):
    period = covered("standard", FeeOverduePolicy.SUSPEND)
    assert fault(FIRST_DAY_PAST_GRACE).outcome == "included"
    bill_fee(period, issued_on=None)
    decision = fault(FIRST_DAY_PAST_GRACE)
    assert (decision.outcome, decision.fee_overdue) == ("included", None)


def test_a_partly_paid_invoice_is_still_overdue_with_the_rest_open(catalogue):
    invoice = bill_fee(covered("standard", FeeOverduePolicy.WARN))
    payment_record(
        invoice=invoice, amount=Money("20000.01", "CNY"), received_on=D(2026, 2, 1), reference="B1"
    )
    decision = fault(FIRST_DAY_PAST_GRACE)
    assert decision.fee_overdue.open_amount == Money("29999.99", "CNY")
    assert "CN¥29,999.99" in fee_reason(decision).text("en")
    assert decision.fee_overdue.open_amount == invoice_balance(invoice, on=FIRST_DAY_PAST_GRACE.date())


def test_a_paid_invoice_has_no_effect_from_the_day_the_money_is_received(catalogue):
    invoice = bill_fee(covered("standard", FeeOverduePolicy.SUSPEND))
    payment_record(invoice=invoice, amount=FEE, received_on=D(2026, 3, 10), reference="B2")
    assert fault(at(2026, 3, 9, 10)).outcome == "needs_approval"  # as it stood that day
    paid = fault(at(2026, 3, 10, 10))
    assert (paid.outcome, paid.fee_overdue, codes(paid)) == ("included", None, ["standard_service"])


def test_a_fully_credited_invoice_has_no_effect_a_partly_credited_one_keeps_the_rest_open(catalogue, clock):
    invoice = bill_fee(covered("standard", FeeOverduePolicy.SUSPEND))
    line = invoice.lines.get()
    with clock(D(2026, 2, 10)):
        credit_note_issue(
            invoice=invoice, reason="折让", lines={line.pk: LineCredit(amount=Decimal("10000"))}
        )
    partly = fault(FIRST_DAY_PAST_GRACE)
    assert partly.fee_overdue.open_amount == Money("40000.00", "CNY")
    with clock(D(2026, 2, 11)):
        credit_note_issue(invoice=invoice, reason="合同取消")
    credited = fault(FIRST_DAY_PAST_GRACE)
    assert (credited.outcome, credited.fee_overdue) == ("included", None)


def test_a_free_period_costs_no_extra_query_a_paid_one_one(catalogue, django_assert_num_queries):
    period = covered("standard")
    fault(at(2026, 3, 7, 10))
    with django_assert_num_queries(2):  # the customer's periods, the fee invoice
        fault(at(2026, 3, 7, 10))
    period.kind, period.fee = "free", Money(0, "CNY")
    period.save()
    fault(at(2026, 3, 7, 10))
    with django_assert_num_queries(1):
        fault(at(2026, 3, 7, 10))


def test_the_api_answers_the_overdue_fee_in_both_languages(catalogue):
    invoice = bill_fee(covered("standard", FeeOverduePolicy.SUSPEND))
    body = {"customer": "ACME", "service": "defect-fix", "at": "2026-03-07T10:00:00+08:00", "severity": 2}
    answer = api("entitlements:read").post(CHECK, body, format="json").json()
    assert answer["outcome"] == "needs_approval"
    assert answer["fee_overdue"] == {
        "invoice": invoice.number,
        "open_amount": {"amount": "50000.00", "currency": "CNY"},
        "due_date": "2026-02-04",
        "days_overdue": 31,
        "policy": "suspend",
    }
    reason = next(r for r in answer["reasons"] if r["code"] == "fee_overdue")
    assert reason["code"] == "fee_overdue"
    assert "CN¥50,000.00" in reason["en"]
    assert "¥50,000.00" in reason["zh-hans"]
    assert "CN¥" not in reason["zh-hans"]
    within_grace = {**body, "at": "2026-03-06T10:00:00+08:00"}
    answer = api("entitlements:read").post(CHECK, within_grace, format="json").json()
    assert (answer["outcome"], answer["fee_overdue"]) == ("included", None)


def test_the_schema_documents_the_overdue_fee(client):
    schema = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en").json()
    decision = schema["components"]["schemas"]["Decision"]["properties"]["fee_overdue"]
    assert decision["nullable"] is True
    assert "grace" in decision["description"]
    overdue = schema["components"]["schemas"]["FeeOverdue"]["properties"]
    assert set(overdue) == {"invoice", "open_amount", "due_date", "days_overdue", "policy"}


@pytest.mark.parametrize(("language", "amount"), [("en", "CN¥50,000.00"), ("zh-hans", "¥50,000.00")])
def test_the_staff_page_shows_the_overdue_fee(admin_client, catalogue, language, amount):
    invoice = bill_fee(covered("strategic", FeeOverduePolicy.WARN))
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"),
        {"customer": "ACME", "service": "defect-fix", "at": "2026-03-07 10:00", "quantity": 1},
    ).content.decode()
    assert 'data-outcome="included"' in page
    assert 'id="fee-overdue"' in page
    assert invoice.number in page
    assert amount in page
    assert "31" in page
    if language == "en":
        assert "warning only" in page
        assert "CN¥" in page
    else:
        assert "CN¥" not in page


def test_the_administrator_edits_a_tiers_policy_with_history(admin_client, catalogue):
    tier = ServiceTier.objects.get(code="strategic")
    page = admin_client.get(reverse("admin:catalog_servicetier_change", args=[tier.pk])).content.decode()
    assert 'name="fee_overdue_policy"' in page
    tier.fee_overdue_policy = FeeOverduePolicy.SUSPEND
    tier.save()
    assert tier.history.first().fee_overdue_policy == FeeOverduePolicy.SUSPEND
    history = admin_client.get(reverse("admin:catalog_servicetier_history", args=[tier.pk]))
    assert history.status_code == 200
