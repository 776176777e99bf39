"""A use counts in the contract year it happens in; closed years and the future are not drawn in."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from catalog.models import ServiceItem
from contracts.models import ConsumptionEntry
from contracts.quotas import person_day_quota, training_quota
from contracts.services import consume, consumption_correct
from invoices.models import Charge, ChargeSource, SetAside, WorkLog
from invoices.services import charges_collect, work_log_record
from tests.contracts.conftest import at
from tests.factories import PersonDayBundleFactory

D = datetime.date
pytestmark = pytest.mark.django_db

# The customer fixture's period runs 2025-01-01..2027-12-31: contract years are the calendar years.


def use(customer, code, *, when, key="k", quantity=1, **kwargs):
    return consume(
        customer=customer,
        service=ServiceItem.objects.get(code=code),
        quantity=quantity,
        ticket_ref="T",
        idempotency_key=key,
        at=when,
        **kwargs,
    )


@pytest.fixture
def bundle(customer):
    return PersonDayBundleFactory(contract=customer.contracts.first(), days=10)


def test_a_training_is_drawn_from_the_allowance_of_the_current_contract_year(customer, time_machine):
    time_machine.move_to(at(2026, 6, 1, 10))
    [entry] = use(customer, "customer-training", when=None)
    assert entry.used_on == D(2026, 6, 1)
    quota = training_quota(entry.period, D(2026, 6, 1))
    assert (quota.valid_from, quota.valid_until, quota.used) == (D(2026, 1, 1), D(2026, 12, 31), 1)
    assert training_quota(entry.period, D(2025, 6, 1)).used == 0


def test_each_contract_year_has_its_own_trainings(customer, time_machine):
    time_machine.move_to(at(2025, 6, 1, 10))
    use(customer, "customer-training", when=None, key="a", quantity=2)
    with pytest.raises(BillingError) as exhausted:
        use(customer, "customer-training", when=None, key="b")
    assert exhausted.value.code == "quota_exhausted"
    time_machine.move_to(at(2026, 2, 1, 10))
    assert len(use(customer, "customer-training", when=None, key="c", quantity=2)) == 1


def test_person_days_are_drawn_in_the_current_contract_year(customer, bundle, time_machine):
    time_machine.move_to(at(2026, 6, 1, 10))
    [entry] = use(customer, "custom-development", when=at(2026, 5, 4, 10), quantity=3)
    assert (entry.bundle_id, entry.used_on) == (bundle.pk, D(2026, 5, 4))
    assert person_day_quota(customer, D(2026, 5, 4)).left == 7


@pytest.mark.parametrize("code", ["customer-training", "custom-development"])
def test_a_use_dated_in_a_closed_contract_year_is_refused(customer, bundle, time_machine, code):
    time_machine.move_to(at(2026, 6, 1, 10))
    with pytest.raises(BillingError) as refused:
        use(customer, code, when=at(2025, 11, 3, 10))
    assert refused.value.code == "closed_contract_year"
    assert "2025-01-01" in str(refused.value)
    assert "2025-12-31" in str(refused.value)
    assert not ConsumptionEntry.objects.exists()


@pytest.mark.parametrize("code", ["customer-training", "custom-development"])
def test_the_previous_contract_year_stays_open_on_its_last_day(customer, bundle, time_machine, code):
    time_machine.move_to(at(2025, 12, 31, 23, 50))
    assert use(customer, code, when=at(2025, 12, 31, 10), key="last-day")[0].used_on == D(2025, 12, 31)
    time_machine.move_to(at(2026, 1, 1, 0, 10))
    with pytest.raises(BillingError) as refused:
        use(customer, code, when=at(2025, 12, 31, 11), key="next-day")
    assert refused.value.code == "closed_contract_year"


def test_a_use_ahead_of_the_clock_within_the_margin_is_accepted(customer, time_machine):
    time_machine.move_to(at(2026, 6, 1, 10), tick=False)
    [entry] = use(customer, "customer-training", when=at(2026, 6, 1, 10, 4))
    assert entry.used_on == D(2026, 6, 1)


@pytest.mark.parametrize("code", ["customer-training", "custom-development"])
def test_a_use_ahead_of_the_clock_beyond_the_margin_is_refused(customer, bundle, time_machine, code):
    time_machine.move_to(at(2026, 6, 1, 10), tick=False)
    with pytest.raises(BillingError) as refused:
        use(customer, code, when=at(2026, 6, 1, 10, 6))
    assert refused.value.code == "consumption_in_future"
    assert not ConsumptionEntry.objects.exists()


def test_the_future_margin_is_a_setting(customer, time_machine, settings):
    settings.CONSUMPTION_FUTURE_MARGIN_SECONDS = 3600
    time_machine.move_to(at(2026, 6, 1, 10), tick=False)
    assert use(customer, "customer-training", when=at(2026, 6, 1, 10, 59))


def test_a_use_in_a_closed_year_may_be_corrected_but_frees_nothing_to_draw(
    customer, admin_user, time_machine
):
    time_machine.move_to(at(2025, 6, 1, 10))
    [entry] = use(customer, "customer-training", when=None, quantity=2)
    time_machine.move_to(at(2026, 6, 1, 10))
    correction = consumption_correct(
        entry=entry, quantity=Decimal(1), reason="one was a demo", idempotency_key="fix", by=admin_user
    )
    assert correction.used_on == D(2025, 6, 1)
    assert training_quota(entry.period, D(2025, 6, 1)).left == 1
    with pytest.raises(BillingError) as refused:
        use(customer, "customer-training", when=at(2025, 6, 2, 10), key="again")
    assert refused.value.code == "closed_contract_year"
    assert training_quota(entry.period, D(2026, 6, 1)).left == 2


# --- through the API ------------------------------------------------------------------------------------

CONSUME = "/api/v1/entitlements/consume"


def api(*scopes):
    _key, raw = create_api_key(name="Zendesk", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize(
    ("moment", "code"),
    [
        ("2025-11-03T10:00:00+08:00", "closed_contract_year"),
        ("2026-06-01T11:00:00+08:00", "consumption_in_future"),
    ],
)
def test_the_api_refuses_a_closed_year_or_the_future_as_a_422_problem(customer, time_machine, moment, code):
    time_machine.move_to(at(2026, 6, 1, 10))
    body = {"customer": "ACME", "service": "customer-training", "quantity": 1, "ticket": "TK", "at": moment}
    response = api("consumption:write").post(CONSUME, body, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["type"].endswith("/" + code.replace("_", "-"))
    assert not ConsumptionEntry.objects.exists()


def test_the_api_draws_a_back_dated_use_in_the_open_year(customer, time_machine):
    time_machine.move_to(at(2026, 6, 1, 10))
    body = {
        "customer": "ACME",
        "service": "customer-training",
        "quantity": 1,
        "ticket": "TK",
        "at": "2026-01-05T10:00:00+08:00",
    }
    response = api("consumption:write").post(CONSUME, body, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 201
    assert response.json()["quota"]["valid_until"] == "2026-12-31"


# --- work logs: recorded by API or import, drawn by the invoice run --------------------------------------


def log(customer, day, *, key="w", bundle=None):
    return work_log_record(
        customer=customer,
        engineer="李雷",
        work_date=day,
        ticket_ref="TK",
        idempotency_key=key,
        days=Decimal(2),
        bundle=bundle,
    )[0]


def test_a_work_log_recorded_in_an_open_year_is_drawn_by_a_run_after_the_year_closed(
    customer, bundle, time_machine
):
    time_machine.move_to(at(2025, 12, 31, 17))
    log(customer, D(2025, 12, 31))
    time_machine.move_to(at(2026, 1, 5, 10))
    charges_collect(up_to=D(2026, 1, 5))
    assert person_day_quota(customer, D(2025, 12, 31)).used == 2
    assert not Charge.objects.filter(source=ChargeSource.WORK_LOG).exists()


def test_a_work_log_recorded_after_its_year_closed_draws_nothing_and_is_billed(
    customer, bundle, time_machine
):
    time_machine.move_to(at(2026, 1, 5, 10))
    log(customer, D(2025, 12, 30))
    charges_collect(up_to=D(2026, 1, 5))
    assert person_day_quota(customer, D(2025, 12, 30)).used == 0
    assert Charge.objects.get(source=ChargeSource.WORK_LOG).quantity == 2
    assert not SetAside.objects.exists()


def test_a_work_log_naming_a_bundle_in_a_closed_year_is_refused(customer, bundle, time_machine):
    time_machine.move_to(at(2026, 1, 5, 10))
    with pytest.raises(BillingError) as refused:
        log(customer, D(2025, 12, 30), bundle=bundle)
    assert refused.value.code == "closed_contract_year"
    response = api("work:write").post(
        "/api/v1/work-logs",
        {
            "customer": "ACME",
            "engineer": "李雷",
            "date": "2025-12-30",
            "days": "1",
            "ticket": "TK",
            "bundle": bundle.pk,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="w",
    )
    assert (response.status_code, response.json()["code"]) == (422, "closed_contract_year")
    assert not WorkLog.objects.exists()


def test_the_work_log_import_reports_a_bundle_in_a_closed_year_on_its_row(
    customer, bundle, time_machine, tmp_path
):
    time_machine.move_to(at(2026, 1, 5, 10))
    path = tmp_path / "logs.csv"
    path.write_text(
        "customer,engineer,role,date,days,on_site,ticket,service,description,bundle,key\n"
        f"ACME,李雷,engineer,2026-01-02,1,0,TK-1,custom-development,ok,{bundle.pk},k1\n"
        f"ACME,李雷,engineer,2025-12-30,1,0,TK-2,custom-development,late,{bundle.pk},k2\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_work_logs", str(path), stdout=StringIO(), stderr=err)
    assert "2025-01-01" in err.getvalue()
    assert "2025-12-31" in err.getvalue()
    assert not WorkLog.objects.exists()
