"""The three-level response (三级响应机制, terms 1.7) and the strategic tier's services (terms 1.3): the
level that owns a ticket now and when the next one takes it over, counted in working time from the
ticket's opening; the times and the strategic figures are the vendor's to confirm."""

import datetime

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from catalog.calendar import load_calendar
from catalog.models import EscalationLevel, ServiceTier, Severity
from contracts.entitlements import decide
from contracts.escalation import escalation_at
from tests.contracts.conftest import at
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/entitlements/check"


def codes(decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def ticket(customer, *, opened_at, moment, severity="1"):
    return decide(
        customer=customer, service="fault-diagnosis", severity=severity, opened_at=opened_at, at=moment
    )


@pytest.fixture
def strategic(catalogue):
    customer = CustomerFactory(code="BIGCO")
    ServicePeriodFactory(contract__customer=customer, tier=ServiceTier.objects.get(code="strategic"))
    return customer


def api() -> APIClient:
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# Standard tier, level 1 (seeded): the maintenance team after 2 working hours, the experts after 4, on the
# 5x8 calendar (08:30-12:00, 13:00-17:30).
@pytest.mark.parametrize(
    ("moment", "level", "next_level", "escalate_by"),
    [
        (at(2026, 3, 4, 9), 1, 2, at(2026, 3, 4, 11)),  # just opened
        (at(2026, 3, 4, 10, 59), 1, 2, at(2026, 3, 4, 11)),
        (at(2026, 3, 4, 11), 2, 3, at(2026, 3, 4, 14)),  # the team's time has come; the lunch break is off
        (at(2026, 3, 4, 13, 59), 2, 3, at(2026, 3, 4, 14)),
        (at(2026, 3, 4, 14), 3, None, None),  # the experts: the last level
        (at(2026, 3, 20, 10), 3, None, None),
    ],
)
def test_the_level_that_owns_a_ticket_is_the_highest_whose_working_time_has_passed(
    customer, moment, level, next_level, escalate_by
):
    escalation = ticket(customer, opened_at=at(2026, 3, 4, 9), moment=moment).escalation
    assert (escalation.level, escalation.next_level, escalation.escalate_by) == (
        level,
        next_level,
        escalate_by,
    )


def test_the_last_level_has_no_next_level_and_no_escalate_by(customer):
    escalation = ticket(customer, opened_at=at(2026, 3, 2, 9), moment=at(2026, 3, 6, 9)).escalation
    assert escalation.level == 3
    assert escalation.current.name_zh == "产品和技术专家"
    assert escalation.next is None
    assert escalation.escalate_by is None


def test_escalation_counts_no_time_over_a_weekend(customer):
    opened = at(2026, 3, 6, 16, 30)  # a Friday: one working hour left
    saturday = ticket(customer, opened_at=opened, moment=at(2026, 3, 7, 12)).escalation
    assert (saturday.level, saturday.escalate_by) == (1, at(2026, 3, 9, 9, 30))  # Monday
    monday = ticket(customer, opened_at=opened, moment=at(2026, 3, 9, 10)).escalation
    assert (monday.level, monday.escalate_by) == (2, at(2026, 3, 9, 11, 30))


def test_escalation_counts_no_time_over_the_national_day_holidays(customer):
    # level 2: the team after 12 working hours; 1 hour on 30 September, then nothing until 8 October
    opened = at(2026, 9, 30, 16, 30)
    during = ticket(customer, opened_at=opened, moment=at(2026, 10, 5, 10), severity="2")
    assert during.escalation.level == 1
    assert during.escalation.escalate_by == at(2026, 10, 9, 11, 30)
    assert during.provisional is False  # the 2026 schedule is published


def test_a_ticket_opened_when_asked_belongs_to_the_first_level(customer):
    moment = at(2026, 3, 4, 9)
    escalation = decide(customer=customer, service="fault-diagnosis", severity="1", at=moment).escalation
    assert escalation.level == 1
    assert escalation.current.name_en == "Local service specialist"
    assert escalation.next.name_zh == "专职维护团队"
    assert escalation.escalate_by == at(2026, 3, 4, 11)


def test_the_strategic_tier_escalates_sooner(strategic, customer):
    opened, moment = at(2026, 3, 4, 9), at(2026, 3, 4, 10, 30)
    assert ticket(customer, opened_at=opened, moment=moment).escalation.level == 1
    faster = ticket(strategic, opened_at=opened, moment=moment).escalation
    assert (faster.level, faster.escalate_by) == (2, at(2026, 3, 4, 11))


def test_a_ticket_opened_after_the_moment_asked_about_is_refused(customer):
    with pytest.raises(BillingError) as error:
        ticket(customer, opened_at=at(2026, 3, 4, 11), moment=at(2026, 3, 4, 10))
    assert error.value.code == "opened_after_at"


def test_a_naive_opening_time_is_refused(customer):
    with pytest.raises(BillingError) as error:
        ticket(customer, opened_at=datetime.datetime(2026, 3, 4, 9), moment=at(2026, 3, 4, 10))
    assert error.value.code == "naive_datetime"


def test_seeded_escalation_times_are_provisional_and_say_the_vendor_is_to_confirm_them(customer):
    decision = ticket(customer, opened_at=at(2026, 3, 4, 9), moment=at(2026, 3, 4, 10))
    assert decision.escalation.provisional is True
    assert "escalation_to_confirm" in codes(decision)
    assert decision.provisional is False  # the top-level flag still means an unpublished holiday schedule


def test_escalation_times_the_vendor_confirmed_are_not_provisional(customer):
    EscalationLevel.objects.filter(tier__code="standard", severity="1").update(vendor_to_confirm=False)
    decision = ticket(customer, opened_at=at(2026, 3, 4, 9), moment=at(2026, 3, 4, 10))
    assert decision.escalation.provisional is False
    assert "escalation_to_confirm" not in codes(decision)


def test_an_escalation_counted_in_a_year_without_a_holiday_schedule_is_provisional(customer):
    decision = ticket(customer, opened_at=at(2027, 3, 3, 9), moment=at(2027, 3, 3, 10))
    assert decision.escalation.calendar_provisional is True
    assert decision.provisional is True
    assert codes(decision).count("provisional_calendar") == 1


def test_without_a_severity_or_escalation_levels_there_is_no_escalation(customer):
    assert decide(customer=customer, service="fault-diagnosis", at=at(2026, 3, 4, 10)).escalation is None
    EscalationLevel.objects.filter(severity="4").delete()
    assert (
        ticket(customer, opened_at=at(2026, 3, 4, 9), moment=at(2026, 3, 4, 10), severity="4").escalation
        is None
    )


def test_the_strategic_tier_names_its_services_and_flags_its_figures_as_the_vendors_to_confirm(strategic):
    decision = ticket(strategic, opened_at=at(2026, 3, 4, 9), moment=at(2026, 3, 4, 10))
    assert [benefit.code for benefit in decision.tier_benefits] == [
        "expert-resources",
        "escalated-response",
        "resource-priority",
    ]
    assert [benefit.name_zh for benefit in decision.tier_benefits] == [
        "专家资源",
        "升级响应服务",
        "服务资源优先",
    ]
    assert "response_time_to_confirm" in codes(decision)


def test_the_standard_tier_brings_no_named_services_and_its_response_times_stand(customer):
    decision = ticket(customer, opened_at=at(2026, 3, 4, 9), moment=at(2026, 3, 4, 10))
    assert decision.tier_benefits == ()
    assert "response_time_to_confirm" not in codes(decision)


def test_the_api_answers_the_escalation_and_the_tiers_services(strategic):
    body = (
        api()
        .post(
            CHECK,
            {
                "customer": "BIGCO",
                "service": "fault-diagnosis",
                "severity": 1,
                "opened_at": "2026-03-04T09:00:00+08:00",
                "at": "2026-03-04T10:30:00+08:00",
            },
            format="json",
        )
        .json()
    )
    assert body["escalation"] == {
        "level": 2,
        "name": {"zh-hans": "专职维护团队", "en": "Dedicated maintenance team"},
        "next_level": 3,
        "next_name": {"zh-hans": "产品和技术专家", "en": "Product and technical experts"},
        "escalate_by": "2026-03-04T11:00:00+08:00",
        "provisional": True,
    }
    assert body["tier_benefits"][0] == {
        "code": "expert-resources",
        "zh-hans": "专家资源",
        "en": "Expert resources",
        "vendor_to_confirm": True,
    }
    reasons = {reason["code"]: reason for reason in body["reasons"]}
    assert {"escalation_to_confirm", "response_time_to_confirm"} <= set(reasons)
    assert "vendor" in reasons["escalation_to_confirm"]["en"]


def test_the_api_answers_the_last_level_with_nulls_and_no_severity_with_no_escalation(customer):
    client = api()
    question = {"customer": "ACME", "service": "fault-diagnosis", "at": "2026-03-06T10:00:00+08:00"}
    last = client.post(
        CHECK, {**question, "severity": "1", "opened_at": "2026-03-04T09:00:00+08:00"}, format="json"
    ).json()
    assert (last["escalation"]["level"], last["escalation"]["next_level"]) == (3, None)
    assert (last["escalation"]["next_name"], last["escalation"]["escalate_by"]) == (None, None)
    assert last["tier_benefits"] == []
    assert client.post(CHECK, question, format="json").json()["escalation"] is None


def test_the_api_refuses_a_ticket_opened_after_the_moment_asked_about(customer):
    refused = api().post(
        CHECK,
        {
            "customer": "ACME",
            "service": "fault-diagnosis",
            "severity": 1,
            "opened_at": "2026-03-04T11:00:00+08:00",
            "at": "2026-03-04T10:00:00+08:00",
        },
        format="json",
    )
    assert refused.status_code == 422
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["code"] == "opened_after_at"


def test_the_schema_documents_the_escalation(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    assert "opened_at" in components["CheckInputRequest"]["properties"]
    decision = components["Decision"]["properties"]
    assert {"escalation", "tier_benefits"} <= set(decision)
    assert components["Escalation"]["properties"]["escalate_by"]["description"]


PAGE_QUESTION = {
    "service": "fault-diagnosis",
    "severity": "1",
    "opened_at": "2026-03-04 09:00",
    "at": "2026-03-04 10:30",
    "quantity": 1,
}


def test_the_entitlement_page_shows_the_escalation_and_the_tiers_services(admin_client, strategic):
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"), {**PAGE_QUESTION, "customer": "BIGCO"}
    ).content.decode()
    assert 'id="escalation"' in page
    assert "专职维护团队" in page
    assert "产品和技术专家" in page
    assert '<span id="escalate-by">2026-03-04 11:00</span>' in page
    assert "专家资源" in page
    assert "服务资源优先" in page
    english = admin_client.get(
        reverse("contracts:entitlement-lookup"),
        {**PAGE_QUESTION, "customer": "BIGCO"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Dedicated maintenance team" in english
    assert "Escalation level" in english
    assert "Expert resources" in english


def test_the_entitlement_page_refuses_a_ticket_opened_after_the_moment_asked_about(admin_client, customer):
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"),
        {**PAGE_QUESTION, "customer": "ACME", "opened_at": "2026-03-04 11:00"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert 'class="warning"' in page
    assert 'id="escalation"' not in page


def test_the_admin_lists_the_escalation_times_to_confirm_and_keeps_their_history(admin_client, catalogue):
    url = reverse("admin:catalog_escalationlevel_changelist")
    listed = admin_client.get(url, {"vendor_to_confirm__exact": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert listed.status_code == 200
    assert "vendor to confirm" in listed.content.decode().lower()
    level = EscalationLevel.objects.get(tier__code="standard", severity="1", level=2)
    changed = admin_client.post(
        reverse("admin:catalog_escalationlevel_change", args=[level.pk]),
        {
            "tier": level.tier_id,
            "severity": "1",
            "level": 2,
            "name_zh": level.name_zh,
            "name_en": level.name_en,
            "after_hours": "3",
        },
    )
    assert changed.status_code == 302
    level.refresh_from_db()
    assert (level.after_hours, level.vendor_to_confirm) == (3, False)
    assert level.history.count() == 2


def test_the_admin_refuses_an_escalation_level_that_takes_over_before_a_lower_one(admin_client, catalogue):
    level = EscalationLevel.objects.get(tier__code="standard", severity="1", level=3)
    answer = admin_client.post(
        reverse("admin:catalog_escalationlevel_change", args=[level.pk]),
        {
            "tier": level.tier_id,
            "severity": "1",
            "level": 3,
            "name_zh": level.name_zh,
            "name_en": level.name_en,
            "after_hours": "1",
            "vendor_to_confirm": "on",
        },
    )
    assert answer.status_code == 200  # the form again, with the error
    level.refresh_from_db()
    assert level.after_hours == 4


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    opened=st.datetimes(min_value=datetime.datetime(2025, 1, 1), max_value=datetime.datetime(2026, 12, 20)),
    waits=st.lists(
        st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=9)), max_size=4
    ),
    severity=st.sampled_from(Severity.values),
    tier=st.sampled_from(["standard", "strategic"]),
)
def test_a_ticket_only_ever_moves_up_and_passes_to_the_next_level_at_escalate_by(
    catalogue, opened, waits, severity, tier
):
    tier_id = ServiceTier.objects.get(code=tier).pk
    calendar = load_calendar("5x8")
    opened_at = opened.replace(tzinfo=at(2026, 1, 1).tzinfo)
    moment, level = opened_at, 1
    for wait in sorted(waits):
        moment = opened_at + wait
        escalation = escalation_at(
            tier_id=tier_id, severity=severity, calendar=calendar, opened_at=opened_at, at=moment
        )
        assert escalation.level >= level
        level = escalation.level
        if escalation.escalate_by is None:
            assert escalation.level == 3
            continue
        assert escalation.escalate_by > moment
        then = escalation_at(
            tier_id=tier_id,
            severity=severity,
            calendar=calendar,
            opened_at=opened_at,
            at=escalation.escalate_by,
        )
        assert then.level == escalation.next_level
