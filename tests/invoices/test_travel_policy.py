"""The travel policy's caps (lodging per night, allowance per day) applied when an expense is recorded, four
eyes above a cap, and what is billed: up to the cap."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import override
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import RateCard
from catalog.services import rate_card_new_version
from invoices.models import Charge, ChargeSource, TravelExpense
from invoices.services import charges_collect, travel_expense_approve, travel_expense_record
from tests.factories import CustomerFactory, user_with

D = datetime.date
pytestmark = pytest.mark.django_db
PDF_RECEIPT = b"%PDF-1.4\n% receipt\n"


@pytest.fixture
def customer(catalogue):
    return CustomerFactory(code="ACME")


@pytest.fixture
def recorder(django_user_model):
    return user_with(
        django_user_model, "recorder", "view_travelexpense", "add_travelexpense", "change_travelexpense"
    )


@pytest.fixture
def approver(django_user_model):
    return user_with(django_user_model, "approver", "view_travelexpense", "change_travelexpense")


MARCH_5 = D(2026, 3, 5)


def record(customer, by, *, category="lodging", amount="1234.50", quantity=2, spent_on=MARCH_5):
    return travel_expense_record(
        customer=customer,
        category=category,
        spent_on=spent_on,
        amount=Money(amount, "CNY"),
        quantity=quantity,
        description="南昌",
        receipt=SimpleUploadedFile("r.pdf", PDF_RECEIPT),
        by=by,
    )


def test_lodging_above_the_nightly_cap_is_flagged_with_its_cap_and_excess(customer, recorder):
    expense = record(customer, recorder, amount="1234.50", quantity=2)  # the seed's cap: 500.00 a night
    assert expense.above_cap
    assert expense.cap == Money("1000.00", "CNY")
    assert expense.excess == Money("234.50", "CNY")
    assert expense.recorded_by == recorder


def test_lodging_counts_one_night_unless_told(customer, recorder):
    expense = travel_expense_record(
        customer=customer,
        category="lodging",
        spent_on=D(2026, 3, 5),
        amount=Money("500.01", "CNY"),
        description="一晚",
        receipt=SimpleUploadedFile("r.pdf", PDF_RECEIPT),
        by=recorder,
    )
    assert (expense.quantity, expense.cap, expense.excess) == (1, Money(500, "CNY"), Money("0.01", "CNY"))


def test_travel_over_the_lodging_cap_needs_another_persons_approval(customer, recorder, approver):
    expense = record(customer, recorder)
    with pytest.raises(BillingError) as refused:
        travel_expense_approve(expense=expense, by=recorder)
    assert refused.value.code == "own_request"
    with override("en"):
        assert "someone other than who recorded it" in str(refused.value)
    expense.refresh_from_db()
    assert (expense.approved_at, expense.approved_by) == (None, None)
    assert expense.history.count() == 1  # nothing written on refusal

    approved = travel_expense_approve(expense=expense, by=approver)
    assert approved.approved_by == approver
    assert approved.approved_at is not None


def test_travel_over_the_cap_is_approved_only_with_finances_travel_permission(
    customer, recorder, django_user_model
):
    expense = record(customer, recorder)
    sales = user_with(django_user_model, "sales", "view_travelexpense")
    for somebody in (sales, None):
        with pytest.raises(BillingError) as refused:
            travel_expense_approve(expense=expense, by=somebody)
        assert refused.value.code == "forbidden_approval"
    expense.refresh_from_db()
    assert expense.approved_at is None


def test_travel_within_caps_is_approved_as_before_even_by_its_recorder(customer, recorder):
    expense = record(customer, recorder, amount="1000.00", quantity=2)
    assert not expense.above_cap
    assert expense.excess == Money(0, "CNY")
    assert travel_expense_approve(expense=expense, by=recorder).approved_by == recorder
    transport = record(customer, recorder, category="transport", amount="8800.00", quantity=1)
    assert transport.cap is None
    assert not transport.above_cap


def test_allowance_is_capped_per_day(customer, recorder, approver):
    within = record(customer, recorder, category="allowance", amount="300.00", quantity=3)
    above = record(customer, recorder, category="allowance", amount="300.01", quantity=3)
    assert (within.cap, within.above_cap) == (Money(300, "CNY"), False)
    assert (above.cap, above.excess, above.above_cap) == (Money(300, "CNY"), Money("0.01", "CNY"), True)
    with pytest.raises(BillingError):
        travel_expense_approve(expense=above, by=recorder)
    travel_expense_approve(expense=above, by=approver)


def test_the_policy_of_the_rate_card_in_force_on_the_expense_date_applies(customer, recorder):
    card = rate_card_new_version(rate_card=RateCard.objects.get(code="list"), effective_from=D(2026, 6, 1))
    card.travel_policy.lodging_cap_per_night = Money(600, "CNY")
    card.travel_policy.save()
    before = record(customer, recorder, amount="600.00", quantity=1, spent_on=D(2026, 5, 31))
    after = record(customer, recorder, amount="600.00", quantity=1, spent_on=D(2026, 6, 1))
    assert (before.cap, before.excess) == (Money(500, "CNY"), Money(100, "CNY"))
    assert (after.cap, after.excess) == (Money(600, "CNY"), Money(0, "CNY"))


def test_an_expense_of_no_night_or_in_another_currency_than_the_cap_is_refused(customer, recorder):
    with pytest.raises(BillingError) as no_night:
        record(customer, recorder, quantity=0)
    assert no_night.value.code == "invalid_quantity"
    with pytest.raises(BillingError) as currency:
        travel_expense_record(
            customer=customer,
            category="lodging",
            spent_on=D(2026, 3, 5),
            amount=Money("100.00", "USD"),
            description="Boston",
            receipt=SimpleUploadedFile("r.pdf", PDF_RECEIPT),
            by=recorder,
        )
    assert currency.value.code == "travel_currency"
    assert not TravelExpense.objects.exists()


def test_an_approved_expense_above_the_cap_is_billed_up_to_the_cap_to_the_fen(customer, recorder, approver):
    above = record(customer, recorder, amount="1234.56", quantity=2)
    within = record(customer, recorder, category="transport", amount="880.05", quantity=1)
    travel_expense_approve(expense=above, by=approver)
    travel_expense_approve(expense=within, by=recorder)
    charges_collect(up_to=D(2026, 3, 31))
    charges = {c.source_id: c for c in Charge.objects.filter(source=ChargeSource.TRAVEL)}
    assert charges[above.pk].amount == Money("1000.00", "CNY")
    assert charges[above.pk].unit_price == Money("1000.00", "CNY")
    assert charges[within.pk].amount == Money("880.05", "CNY")
    above.refresh_from_db()
    assert above.amount == Money("1234.56", "CNY")  # the claim stays as recorded, with its excess
    assert above.billed_amount + above.excess == above.amount


def test_the_admin_records_who_recorded_and_refuses_the_recorders_own_approval(client, customer, recorder):
    client.force_login(recorder)
    data = {"customer": customer.pk, "category": "lodging", "spent_on": "2026-03-05", "amount_0": "1234.50",
            "amount_1": "CNY", "quantity": 2, "description": "南昌", "ticket_ref": "TK-1"}  # fmt: skip
    client.post(
        reverse("admin:invoices_travelexpense_add"),
        {**data, "receipt": SimpleUploadedFile("r.pdf", PDF_RECEIPT)},
    )
    expense = TravelExpense.objects.get()
    assert (expense.recorded_by, expense.cap, expense.excess) == (
        recorder,
        Money(1000, "CNY"),
        Money("234.50", "CNY"),
    )
    page = client.post(
        reverse("admin:invoices_travelexpense_changelist"),
        {"action": "approve", "_selected_action": [expense.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "someone other than who recorded it" in page.content.decode()
    expense.refresh_from_db()
    assert expense.approved_at is None


def test_the_admin_approval_page_shows_the_claim_and_what_is_billed(client, customer, recorder, approver):
    expense = record(customer, recorder, amount="1234.50", quantity=2)
    client.force_login(approver)
    page = client.get(reverse("admin:invoices_travelexpense_change", args=[expense.pk])).content.decode()

    def shown(field):
        return re.search(rf'field-{field}".*?class="readonly">([^<]*)<', page, re.DOTALL).group(1)

    assert (shown("amount"), shown("cap"), shown("excess"), shown("billed_amount")) == (
        "¥1,234.50",
        "¥1,000.00",
        "¥234.50",
        "¥1,000.00",
    )


def test_the_travel_page_shows_claim_cap_and_billed_and_approves_only_with_four_eyes(
    client, customer, recorder, approver
):
    expense = record(customer, recorder, amount="1234.50", quantity=2)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    client.force_login(recorder)
    page = client.get(reverse("invoices:travel"), **english).content.decode()
    row = page[page.index("expense above-cap") :]
    row = row[: row.index("</tr>")]
    for figure in ("1,234.50", "1,000.00", "234.50"):
        assert figure in row
    assert "someone other than who recorded it" in row
    assert reverse("invoices:approve-travel", args=[expense.pk]) not in row
    refused = client.post(reverse("invoices:approve-travel", args=[expense.pk]), follow=True, **english)
    assert "someone other than who recorded it" in refused.content.decode()
    expense.refresh_from_db()
    assert expense.approved_at is None

    client.force_login(approver)
    page = client.get(reverse("invoices:travel"), **english).content.decode()
    assert reverse("invoices:approve-travel", args=[expense.pk]) in page
    client.post(reverse("invoices:approve-travel", args=[expense.pk]))
    expense.refresh_from_db()
    assert expense.approved_by == approver
