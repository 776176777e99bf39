"""Corrections of the consumption ledger: a use (a training, person-days of a bundle) given back in whole or
in part, through the service, the API and the customer page, with its audit history."""

import datetime
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from catalog.models import ServiceItem
from catalog.services import load_catalog
from contracts.entitlements import decide
from contracts.models import ConsumptionEntry
from contracts.quotas import person_day_quota, training_quota
from contracts.selectors import consumption_left
from contracts.services import consume, consumption_correct
from invoices.models import Charge, ChargeSource
from invoices.services import charges_collect, work_log_record
from tests.contracts.conftest import at
from tests.contracts.test_api import api
from tests.factories import CustomerFactory, PersonDayBundleFactory, ServicePeriodFactory, user_with

D = datetime.date
# Uses dated in 2026 must fall in an open contract year, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
DAY = at(2026, 3, 4, 10)


@pytest.fixture
def manager(customer, django_user_model):
    user = user_with(django_user_model, "am", "add_consumptionentry", "view_customer")
    customer.account_manager = user
    customer.save()
    return user


def use_trainings(customer, quantity=1, key="t1") -> ConsumptionEntry:
    training = ServiceItem.objects.get(code="customer-training")
    return consume(
        customer=customer, service=training, quantity=quantity, ticket_ref="T-1", idempotency_key=key, at=DAY
    )[0]


def use_days(customer, quantity, key="d1") -> list[ConsumptionEntry]:
    service = ServiceItem.objects.get(code="custom-development")
    return consume(
        customer=customer, service=service, quantity=quantity, ticket_ref="T-2", idempotency_key=key, at=DAY
    )


def correct(entry, quantity, *, by, key="c1", reason="recorded by mistake") -> ConsumptionEntry:
    return consumption_correct(entry=entry, quantity=quantity, reason=reason, idempotency_key=key, by=by)


# --- the service -----------------------------------------------------------------------------------------


def test_a_training_used_then_corrected_is_free_again_in_the_quota_and_the_decision(customer, manager):
    use_trainings(customer, key="first")
    second = use_trainings(customer, key="second")
    assert decide(customer=customer, service="customer-training", at=DAY).outcome == "billable"

    correction = correct(second, 1, by=manager)

    assert correction.quantity == Decimal("-1.00")
    assert correction.corrects == second
    assert correction.period == second.period
    assert correction.used_on == second.used_on
    quota = training_quota(second.period, D(2026, 3, 4))
    assert (quota.used, quota.left) == (Decimal(1), Decimal(1))
    decision = decide(customer=customer, service="customer-training", at=DAY)
    assert decision.outcome == "included"
    assert decision.quota.left == Decimal(1)


def test_a_partial_correction_gives_back_part_of_the_bundle_days(customer, manager):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=5)
    (entry,) = use_days(customer, Decimal("3.5"))
    assert person_day_quota(customer, D(2026, 3, 4)).left == Decimal("1.5")

    correct(entry, Decimal("1.25"), by=manager)

    quota = person_day_quota(customer, D(2026, 3, 4))
    assert quota.used == Decimal("2.25")
    assert quota.left == Decimal("2.75")
    assert consumption_left(entry) == Decimal("2.25")
    decision = decide(customer=customer, service="custom-development", at=DAY, quantity=Decimal("2.75"))
    assert decision.outcome == "included"


def test_a_correction_larger_than_the_entry_is_refused_and_writes_nothing(customer, manager):
    entry = use_trainings(customer)
    with pytest.raises(BillingError) as error:
        correct(entry, 2, by=manager)
    assert error.value.code == "correction_exceeds_entry"
    assert error.value.status == 409
    assert ConsumptionEntry.objects.count() == 1
    assert ConsumptionEntry.history.filter(corrects__isnull=False).count() == 0


def test_a_second_correction_may_give_back_the_rest_and_no_more(customer, manager):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=5)
    (entry,) = use_days(customer, 3)
    correct(entry, 2, by=manager, key="c1")

    with pytest.raises(BillingError) as error:
        correct(entry, Decimal("1.01"), by=manager, key="c2")
    assert error.value.code == "correction_exceeds_entry"
    assert "1.00" in str(error.value)

    correct(entry, 1, by=manager, key="c3")
    assert consumption_left(entry) == 0
    assert person_day_quota(customer, D(2026, 3, 4)).used == 0
    with pytest.raises(BillingError) as error:
        correct(entry, Decimal("0.01"), by=manager, key="c4")
    assert error.value.code == "correction_exceeds_entry"
    assert ConsumptionEntry.objects.filter(corrects=entry).count() == 2


def test_a_correction_of_a_correction_is_refused(customer, manager):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=5)
    (entry,) = use_days(customer, 3)
    correction = correct(entry, 1, by=manager)
    with pytest.raises(BillingError) as error:
        correct(correction, 1, by=manager, key="c2")
    assert error.value.code == "correction_of_correction"
    assert ConsumptionEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("quantity", "reason", "code"),
    [
        (0, "mistake", "invalid_quantity"),
        (-1, "mistake", "invalid_quantity"),
        (Decimal("0.0005"), "mistake", "invalid_quantity"),
        (1, "", "reason_required"),
        (1, "   ", "reason_required"),
        (1, "x" * 501, "reason_too_long"),
    ],
)
def test_a_zero_or_negative_quantity_or_an_empty_reason_is_refused(customer, manager, quantity, reason, code):
    entry = use_trainings(customer)
    with pytest.raises(BillingError) as error:
        correct(entry, quantity, by=manager, reason=reason)
    assert error.value.code == code
    assert ConsumptionEntry.objects.count() == 1


def test_a_retry_with_the_same_key_returns_the_first_correction(customer, manager):
    entry = use_trainings(customer, quantity=2)
    first = correct(entry, 1, by=manager, key="retry")
    again = correct(entry, 1, by=manager, key="retry")
    assert again.pk == first.pk
    assert ConsumptionEntry.objects.filter(corrects=entry).count() == 1
    assert consumption_left(entry) == 1


@pytest.mark.parametrize(
    "other",
    [{"quantity": Decimal("0.5")}, {"reason": "another reason"}, {"target": "other use"}, {"key": "t1"}],
    ids=["other quantity", "other reason", "other use", "the key of a use"],
)
def test_the_same_key_for_another_correction_is_a_conflict(customer, manager, other):
    entry = use_trainings(customer, key="t1")
    other_use = use_trainings(customer, key="t2")
    first = correct(entry, 1, by=manager, key="k")
    with pytest.raises(BillingError) as error:
        correct(
            other_use if other.get("target") else entry,
            other.get("quantity", 1),
            by=manager,
            key=other.get("key", "k"),
            reason=other.get("reason", "recorded by mistake"),
        )
    assert error.value.code == "idempotency_key_reused"
    assert error.value.status == 409
    assert list(ConsumptionEntry.objects.filter(corrects__isnull=False)) == [first]


def test_only_the_customers_account_manager_corrects(customer, manager, django_user_model):
    entry = use_trainings(customer)
    other_manager = user_with(django_user_model, "other", "add_consumptionentry")
    without_permission = user_with(django_user_model, "viewer", "view_customer")
    for user in (other_manager, without_permission):
        with pytest.raises(BillingError) as error:
            correct(entry, 1, by=user)
        assert error.value.code == "correction_forbidden"
        assert error.value.status == 403
    assert ConsumptionEntry.objects.count() == 1


def test_a_correction_is_in_the_audit_history_with_the_staff_user(customer, manager):
    entry = use_trainings(customer)
    correction = correct(entry, 1, by=manager, reason="wrong customer")
    record = correction.history.get()
    assert record.history_type == "+"
    assert record.history_user == manager
    assert record.reason == "wrong customer"
    assert record.quantity == Decimal("-1.00")
    assert record.corrects_id == entry.pk
    assert correction.recorded_by == "am"


def test_a_correction_by_an_api_key_names_the_key_in_the_audit_history(customer):
    key, _raw = create_api_key(name="Zendesk", scopes=["consumption:write"])
    entry = use_trainings(customer)
    correction = correct(entry, 1, by=key)
    record = correction.history.get()
    assert record.history_user is None
    assert key.prefix in record.history_change_reason
    assert "Zendesk" in record.history_change_reason
    assert correction.recorded_by == "Zendesk"


class TestUsedNeverBelowZero(HypothesisTestCase):
    """Random sequences of uses and corrections: each quota's used amount is the sum of its entries, never
    below zero and never above the allowance; refused steps change nothing."""

    @classmethod
    def setUpTestData(cls):
        load_catalog()

    @settings(max_examples=30, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.just("use"), st.sampled_from(["training", "days"]), st.integers(1, 4)),
                st.tuples(
                    st.just("correct"),
                    st.integers(0, 20),
                    st.decimals(min_value=Decimal("-1"), max_value=Decimal("4"), places=2),
                ),
            ),
            max_size=14,
        )
    )
    def test_used_is_the_sum_of_the_entries_and_stays_between_zero_and_the_allowance(self, steps):
        customer = CustomerFactory()
        period = ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
        PersonDayBundleFactory(contract=period.contract, days=6)
        key, _raw = create_api_key(name="hypothesis", scopes=["consumption:write"])
        services = {
            "training": ServiceItem.objects.get(code="customer-training"),
            "days": ServiceItem.objects.get(code="custom-development"),
        }
        refusals = set()
        for n, step in enumerate(steps):
            try:
                if step[0] == "use":
                    consume(
                        customer=customer,
                        service=services[step[1]],
                        quantity=step[2],
                        ticket_ref="T",
                        idempotency_key=f"{customer.pk}-use-{n}",
                        at=at(2026, 5, 1 + n, 10),
                    )
                else:
                    entries = list(ConsumptionEntry.objects.filter(customer=customer).order_by("pk"))
                    if not entries:
                        continue
                    consumption_correct(
                        entry=entries[step[1] % len(entries)],
                        quantity=step[2],
                        reason="random",
                        idempotency_key=f"{customer.pk}-correct-{n}",
                        by=key,
                    )
            except BillingError as error:
                refusals.add(error.code)
            for kind, allowance, quota in (
                ("training", 2, training_quota(period, D(2026, 6, 1))),
                ("person_days", 6, person_day_quota(customer, D(2026, 6, 1))),
            ):
                entries = ConsumptionEntry.objects.filter(customer=customer, kind=kind)
                assert quota.used == sum((e.quantity for e in entries), Decimal(0))
                assert 0 <= quota.used <= allowance
                assert quota.left == allowance - quota.used
        assert refusals <= {
            "quota_exhausted",
            "correction_exceeds_entry",
            "correction_of_correction",
            "invalid_quantity",
        }
        for use in ConsumptionEntry.objects.filter(customer=customer, corrects__isnull=True):
            assert 0 <= consumption_left(use) <= use.quantity


# --- the API ---------------------------------------------------------------------------------------------


def corrections_url(entry) -> str:
    return f"/api/v1/consumption/{entry.pk}/corrections"


def post_correction(client, entry, body, key="k-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(corrections_url(entry), body, format="json", headers=headers)


BODY = {"customer": "ACME", "quantity": "1", "reason": "recorded on the wrong ticket"}


def test_the_api_corrects_a_training_and_answers_the_quota_freed(customer):
    use_trainings(customer, key="t1")
    entry = use_trainings(customer, key="t2")
    response = post_correction(api(), entry, BODY)
    assert response.status_code == 201
    body = response.json()
    assert body["correction"]["corrects"] == entry.pk
    assert body["correction"]["quantity"] == "-1.00"
    assert body["correction"]["reason"] == "recorded on the wrong ticket"
    assert body["correction"]["recorded_by"] == "Zendesk"
    assert body["left"] == "0.00"
    assert (body["quota"]["used"], body["quota"]["left"]) == ("1.00", "1.00")
    check = api("entitlements:read").post(
        "/api/v1/entitlements/check",
        {"customer": "ACME", "service": "customer-training", "at": DAY.isoformat()},
        format="json",
    )
    assert check.json()["outcome"] == "included"


def test_the_api_corrects_part_of_the_bundle_days(customer):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=5)
    (entry,) = use_days(customer, 3)
    response = post_correction(api(), entry, {**BODY, "quantity": 1.5})
    assert response.status_code == 201
    assert response.json()["left"] == "1.50"
    assert response.json()["quota"]["left"] == "3.50"


def test_an_api_retry_returns_the_same_correction_and_another_body_with_the_key_is_a_409(customer):
    entry = use_trainings(customer, quantity=2)
    client = api()
    first = post_correction(client, entry, BODY)
    again = post_correction(client, entry, BODY)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["correction"]["id"] == first.json()["correction"]["id"]

    other = post_correction(client, entry, {**BODY, "quantity": "0.5"})
    assert other.status_code == 409
    assert other.headers["Content-Type"] == "application/problem+json"
    assert other.json()["type"] == "/api/problems/idempotency-key-reused"
    assert ConsumptionEntry.objects.filter(corrects=entry).count() == 1


@pytest.mark.parametrize(
    ("change", "status", "problem"),
    [
        ({"quantity": "2"}, 409, "correction-exceeds-entry"),
        ({"quantity": "0"}, 422, "validation-error"),
        ({"quantity": "-1"}, 422, "validation-error"),
        ({"reason": ""}, 422, "validation-error"),
        ({"reason": "   "}, 422, "validation-error"),
    ],
)
def test_bad_corrections_through_the_api_are_problems_and_change_nothing(customer, change, status, problem):
    entry = use_trainings(customer)
    response = post_correction(api(), entry, {**BODY, **change})
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == f"/api/problems/{problem}"
    assert ConsumptionEntry.objects.count() == 1


def test_a_correction_of_a_correction_through_the_api_is_a_422(customer):
    entry = use_trainings(customer)
    client = api()
    correction_id = post_correction(client, entry, BODY).json()["correction"]["id"]
    response = post_correction(client, ConsumptionEntry.objects.get(pk=correction_id), BODY, key="k-2")
    assert response.status_code == 422
    assert response.json()["type"] == "/api/problems/correction-of-correction"


def test_a_correction_without_an_idempotency_key_is_a_400(customer):
    entry = use_trainings(customer)
    response = post_correction(api(), entry, BODY, key=None)
    assert response.status_code == 400
    assert response.json()["type"] == "/api/problems/idempotency-key-missing"
    assert ConsumptionEntry.objects.count() == 1


def test_a_key_without_the_consumption_scope_cannot_correct(customer):
    entry = use_trainings(customer)
    response = post_correction(api("entitlements:read", "charges:write"), entry, BODY)
    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/forbidden"
    assert ConsumptionEntry.objects.count() == 1


def test_another_customers_entry_or_an_unknown_one_is_not_found(customer):
    other = CustomerFactory(code="OTHER")
    ServicePeriodFactory(contract__customer=other)
    others_entry = use_trainings(other, key="o1")
    client = api()
    assert post_correction(client, others_entry, BODY).status_code == 404
    missing = ConsumptionEntry(pk=others_entry.pk + 1000)
    response = post_correction(client, missing, BODY, key="k-2")
    assert response.status_code == 404
    assert response.json()["type"] == "/api/problems/not-found"
    assert not ConsumptionEntry.objects.filter(corrects__isnull=False).exists()


def test_an_api_correction_names_the_key_in_the_audit_history(customer):
    entry = use_trainings(customer)
    key, raw = create_api_key(name="Jira", scopes=["consumption:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    correction_id = post_correction(client, entry, BODY).json()["correction"]["id"]
    record = ConsumptionEntry.history.get(id=correction_id)
    assert record.history_user is None
    assert key.prefix in record.history_change_reason
    assert "Jira" in record.history_change_reason


# --- the customer page -----------------------------------------------------------------------------------


def correct_on_page(client, entry, **data):
    url = reverse("invoices:correct-consumption", args=[entry.customer.code, entry.pk])
    form = {"quantity": "1", "reason": "wrong ticket", "idempotency_key": str(uuid.uuid4()), **data}
    return client.post(url, form)


def test_the_customer_page_shows_each_use_with_a_correct_form_for_its_account_manager(
    client, customer, manager, django_user_model
):
    use_trainings(customer)
    client.force_login(manager)
    page = client.get(reverse("invoices:customer", args=["ACME"]))
    assert page.status_code == 200
    assert b"T-1" in page.content
    assert b'name="reason"' in page.content

    viewer = user_with(django_user_model, "viewer", "view_customer", "add_consumptionentry")
    client.force_login(viewer)
    page = client.get(reverse("invoices:customer", args=["ACME"]))
    assert b"T-1" in page.content
    assert b'name="reason"' not in page.content


def test_the_account_manager_corrects_a_use_on_the_customer_page(client, customer, manager):
    entry = use_trainings(customer, quantity=2)
    client.force_login(manager)
    key = str(uuid.uuid4())
    response = correct_on_page(client, entry, idempotency_key=key)
    assert response.status_code == 302
    assert response["Location"] == reverse("invoices:customer", args=["ACME"])
    correct_on_page(client, entry, idempotency_key=key)  # the form sent twice
    correction = ConsumptionEntry.objects.get(corrects=entry)
    assert correction.quantity == Decimal("-1.00")
    assert correction.history.get().history_user == manager
    assert training_quota(entry.period, D(2026, 3, 4)).left == 1
    page = client.get(reverse("invoices:customer", args=["ACME"]))
    assert b"wrong ticket" in page.content


def test_a_correction_refused_on_the_page_says_why_and_changes_nothing(client, customer, manager):
    entry = use_trainings(customer)
    client.force_login(manager)
    response = correct_on_page(client, entry, quantity="2")
    assert response.status_code == 302
    page = client.get(response["Location"])
    (message,) = [str(m) for m in page.context["messages"]]
    assert "1.00" in message
    assert not ConsumptionEntry.objects.filter(corrects=entry).exists()


def test_another_account_manager_cannot_correct_on_the_page(client, customer, manager, django_user_model):
    entry = use_trainings(customer)
    other_manager = user_with(django_user_model, "other", "view_customer", "add_consumptionentry")
    without_permission = user_with(django_user_model, "viewer", "view_customer")
    for user in (other_manager, without_permission):
        client.force_login(user)
        assert correct_on_page(client, entry).status_code == 403
    assert not ConsumptionEntry.objects.filter(corrects=entry).exists()


def test_a_use_of_another_customer_is_not_found_under_this_customers_page(
    client, customer, manager, django_user_model
):
    other = CustomerFactory(code="OTHER", account_manager=user_with(django_user_model, "x", "view_customer"))
    ServicePeriodFactory(contract__customer=other)
    others_entry = use_trainings(other, key="o1")
    client.force_login(manager)
    url = reverse("invoices:correct-consumption", args=["ACME", others_entry.pk])
    response = client.post(url, {"quantity": "1", "reason": "x", "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 404
    assert not ConsumptionEntry.objects.filter(corrects__isnull=False).exists()


# --- where corrections meet work logs and concurrency ----------------------------------------------------


def test_correcting_days_a_work_log_drew_frees_them_and_leaves_the_charges_alone(customer, manager):
    bundle = PersonDayBundleFactory(contract=customer.contracts.first(), days=2)
    work_log_record(
        customer=customer,
        engineer="李雷",
        work_date=D(2026, 3, 4),
        ticket_ref="TK-7",
        idempotency_key="w1",
        days=Decimal(3),
    )
    charges_collect(up_to=D(2026, 3, 31))
    charge = Charge.objects.get(source=ChargeSource.WORK_LOG)
    drawn = ConsumptionEntry.objects.get(bundle=bundle)
    assert (drawn.quantity, charge.quantity) == (Decimal(2), Decimal(1))

    correct(drawn, Decimal("0.5"), by=manager)
    charges_collect(up_to=D(2026, 3, 31))

    assert person_day_quota(customer, D(2026, 3, 4)).left == Decimal("0.5")
    work_charges = Charge.objects.filter(source=ChargeSource.WORK_LOG)
    assert list(work_charges.values_list("pk", "quantity", "amount")) == [
        (charge.pk, charge.quantity, charge.amount.amount)
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_corrections_never_give_back_more_than_the_use():
    load_catalog()
    customer = CustomerFactory()
    PersonDayBundleFactory(contract=ServicePeriodFactory(contract__customer=customer).contract, days=5)
    (entry,) = use_days(customer, 3)
    key, _raw = create_api_key(name="race", scopes=["consumption:write"])
    outcomes = []

    def worker(n: int) -> None:
        try:
            correct(entry, 1, by=key, key=f"race-{n}")
            outcomes.append("ok")
        except BillingError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 3
    assert outcomes.count("correction_exceeds_entry") == 3
    assert consumption_left(entry) == 0
    assert person_day_quota(customer, D(2026, 3, 4)).used == 0
