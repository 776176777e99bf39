"""Holiday emergency cover (国家法定节假日: 提供紧急服务电话支持): on a statutory holiday a level with
emergency cover reported on the hotline is answered on the tier's emergency clock (7x24); other levels and
channels wait for the next working time, and a check naming no channel says the emergency line answers
sooner."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from catalog.models import ServiceTier
from contracts.entitlements import decide
from tests.contracts.conftest import at
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def codes(decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def fault(customer, moment, severity="1", channel=None):
    return decide(customer=customer, service="fault-diagnosis", at=moment, severity=severity, channel=channel)


@pytest.mark.parametrize(
    "moment",
    [
        at(2026, 10, 1, 10),  # National Day 2026
        at(2026, 10, 3, 22, 15),  # a holiday night
        at(2025, 10, 6, 9),  # National Day week 2025 (with the Mid-autumn Festival)
        at(2025, 1, 29, 3),  # Spring Festival 2025
        at(2026, 2, 17, 14),  # Spring Festival 2026
    ],
)
def test_a_level_1_outage_reported_by_phone_on_a_statutory_holiday_is_answered_on_the_emergency_clock(
    customer, moment
):
    decision = fault(customer, moment, channel="hotline")
    assert decision.emergency is True
    assert decision.respond_by == moment + HOUR  # level 1: one hour, around the clock
    assert "holiday_emergency" in codes(decision)
    assert decision.outcome == "included"


def test_the_strategic_tier_answers_the_emergency_line_within_its_own_hours(catalogue):
    customer = CustomerFactory()
    ServicePeriodFactory(contract__customer=customer, tier=ServiceTier.objects.get(code="strategic"))
    moment = at(2026, 10, 2, 16)
    assert fault(customer, moment, channel="hotline").respond_by == moment + HOUR / 2


@pytest.mark.parametrize(("severity", "channel"), [("2", "hotline"), ("1", "email"), ("1", "community")])
def test_other_levels_and_channels_wait_for_the_next_working_time_on_a_holiday(customer, severity, channel):
    moment = at(2026, 10, 1, 10)
    decision = fault(customer, moment, severity=severity, channel=channel)
    assert decision.emergency is False
    assert decision.respond_by >= at(2026, 10, 8, 9)  # National Day 2026 runs to 7 October
    assert "holiday_emergency" not in codes(decision)
    assert "emergency_line" not in codes(decision)


def test_a_check_naming_no_channel_keeps_the_working_deadline_and_says_the_emergency_line_answers_sooner(
    customer,
):
    decision = fault(customer, at(2026, 10, 1, 10))
    assert decision.emergency is False
    assert decision.respond_by >= at(2026, 10, 8, 9)
    assert "emergency_line" in codes(decision)


@pytest.mark.parametrize(
    "moment",
    [
        at(2025, 1, 26, 10),  # a make-up Saturday (调休) for the 2025 Spring Festival: a working day
        at(2026, 3, 4, 10),  # an ordinary Wednesday
        at(2026, 3, 7, 10),  # an ordinary Saturday: no statutory holiday, no emergency line
    ],
)
def test_outside_statutory_holidays_the_hotline_gets_no_emergency_clock(customer, moment):
    by_phone, unnamed = fault(customer, moment, channel="hotline"), fault(customer, moment)
    assert by_phone.emergency is False
    assert by_phone.respond_by == unnamed.respond_by
    assert "emergency_line" not in codes(unnamed)


def test_a_tier_without_emergency_cover_for_the_level_answers_on_its_working_clock(customer):
    target = ServiceTier.objects.get(code="standard").response_targets.get(severity="1")
    target.emergency_cover = False
    target.save()
    decision = fault(customer, at(2026, 10, 1, 10), channel="hotline")
    assert decision.emergency is False
    assert decision.respond_by >= at(2026, 10, 8, 9)


def test_an_unknown_channel_is_refused(customer):
    with pytest.raises(BillingError) as error:
        fault(customer, at(2026, 10, 1, 10), channel="fax")
    assert error.value.code == "invalid_channel"


def test_the_check_answers_the_holiday_emergency_line_through_the_api(customer):
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    question = {
        "customer": "ACME",
        "service": "fault-diagnosis",
        "at": "2026-10-01T10:00:00+08:00",
        "severity": 1,
    }
    by_phone = client.post("/api/v1/entitlements/check", {**question, "channel": "hotline"}, format="json")
    assert by_phone.status_code == 200
    body = by_phone.json()
    assert (body["emergency"], body["respond_by"]) == (True, "2026-10-01T11:00:00+08:00")
    # the hotline's regular hours are closed for the holiday; the emergency line answers meanwhile
    assert body["channel"] == {"code": "hotline", "open": False, "opens_next": "2026-10-08T09:00:00+08:00"}
    unnamed = client.post("/api/v1/entitlements/check", question, format="json").json()
    assert (unnamed["emergency"], unnamed["channel"]) == (False, None)
    assert "emergency_line" in [reason["code"] for reason in unnamed["reasons"]]
    refused = client.post("/api/v1/entitlements/check", {**question, "channel": "fax"}, format="json")
    assert refused.status_code == 422  # as every invalid field of the check
    assert refused["Content-Type"].startswith("application/problem+json")


def test_the_entitlement_page_shows_the_holiday_emergency_line(admin_client, customer):
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"),
        {
            "customer": "ACME",
            "service": "fault-diagnosis",
            "severity": "1",
            "channel": "hotline",
            "at": "2026-10-01 10:00",
            "quantity": 1,
        },
    ).content.decode()
    assert 'data-outcome="included"' in page
    assert 'id="emergency"' in page
    assert "2026-10-01 11:00" in page


def test_the_administrator_gives_a_level_emergency_cover_with_history(admin_client, customer):
    tier = ServiceTier.objects.get(code="standard")
    page = admin_client.get(reverse("admin:catalog_servicetier_change", args=[tier.pk])).content.decode()
    assert "emergency_cover" in page  # edited per level on the tier's page
    holiday = at(2026, 10, 1, 10)
    assert fault(customer, holiday, severity="2", channel="hotline").emergency is False
    target = tier.response_targets.get(severity="2")
    target.emergency_cover = True
    target.save()
    assert fault(customer, holiday, severity="2", channel="hotline").emergency is True
    assert target.history.latest("history_date").emergency_cover is True
    assert admin_client.get(reverse("admin:catalog_servicetier_history", args=[tier.pk])).status_code == 200
