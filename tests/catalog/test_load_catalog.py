from io import StringIO

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command

from catalog.models import (
    ArrivalCommitment,
    HolidayScheduleDay,
    PricingBasis,
    ResponseTarget,
    ServiceItem,
    ServiceKind,
    ServiceTier,
)
from catalog.selectors import published_holiday_years

STANDARD = [
    "site-support", "hotline", "remote-maintenance", "online-support", "standard-response", "install-config",
    "upgrade", "fault-diagnosis", "defect-fix", "media-replacement", "holiday-theme", "customer-training",
]  # fmt: skip
VALUE_ADDED = [
    "health-check", "data-migration", "architecture-optimisation", "kms-course", "product-training",
    "kms-certification", "org-restructure", "requirements-analysis", "custom-development", "system-rollout",
    "upgrade-contract",
]  # fmt: skip

pytestmark = pytest.mark.django_db


def catalogue_dump() -> str:
    models = apps.get_app_config("catalog").get_models()
    return "".join(serializers.serialize("json", m.objects.order_by("pk")) for m in models)


def test_load_catalog_loads_every_service_of_the_terms_with_its_code(catalogue):
    items = ServiceItem.objects.in_bulk(field_name="code")
    assert sorted(c for c, i in items.items() if i.kind == ServiceKind.STANDARD) == sorted(STANDARD)
    assert sorted(c for c, i in items.items() if i.kind == ServiceKind.VALUE_ADDED) == sorted(VALUE_ADDED)
    assert [c for c, i in items.items() if i.kind == ServiceKind.ON_SITE] == ["on-site-service"]
    assert len(items) == 24
    assert all(i.name_zh and i.name_en and i.description_zh and i.description_en for i in items.values())


def test_services_carry_the_pricing_basis_of_the_terms(catalogue):
    items = ServiceItem.objects.in_bulk(field_name="code")
    assert all(items[c].pricing_basis == PricingBasis.INCLUDED for c in STANDARD)
    assert items["data-migration"].pricing_bases == [
        PricingBasis.PER_DATA_VOLUME,
        PricingBasis.PER_PERSON_DAY,
    ]
    assert items["health-check"].pricing_bases == [PricingBasis.FIXED, PricingBasis.PER_PERSON_DAY]
    assert items["kms-course"].pricing_bases == [PricingBasis.PER_COURSE, PricingBasis.PER_PERSON]
    assert items["kms-certification"].pricing_bases == [PricingBasis.PER_PERSON]
    assert items["custom-development"].pricing_basis == PricingBasis.PER_PERSON_DAY
    assert items["on-site-service"].pricing_basis == PricingBasis.PER_PERSON_DAY
    assert items["health-check"].note_zh == "免费送AGP一年使用许可"


def test_the_standard_tier_takes_the_upper_bounds_of_the_terms(catalogue):
    hours = dict(
        ResponseTarget.objects.filter(tier__code="standard").values_list("severity", "response_hours")
    )
    assert hours == {"1": 1, "2": 8, "3": 12, "4": 16, "non-fault": 24}
    assert ResponseTarget.objects.get(tier__code="standard", severity="1").on_site_hours == 24
    arrival = {a.area: (a.amount, a.unit) for a in ArrivalCommitment.objects.filter(tier__code="standard")}
    assert arrival == {"same_city": (48, "hours"), "elsewhere": (3, "working_days")}


def test_the_strategic_tier_is_tighter_at_every_level(catalogue):
    standard = dict(
        ResponseTarget.objects.filter(tier__code="standard").values_list("severity", "response_hours")
    )
    strategic = dict(
        ResponseTarget.objects.filter(tier__code="strategic").values_list("severity", "response_hours")
    )
    assert standard.keys() == strategic.keys()
    assert all(strategic[level] < standard[level] for level in standard)
    assert ServiceTier.objects.get(code="strategic").calendar.code == "5x8"


def test_holiday_schedules_of_2025_and_2026_are_seeded(catalogue):
    assert published_holiday_years() == {2025, 2026}
    assert HolidayScheduleDay.objects.get(date="2026-02-14").kind == "workday"
    assert HolidayScheduleDay.objects.get(date="2026-02-17").name_zh == "春节"
    assert HolidayScheduleDay.objects.get(date="2026-10-01").name_zh == "国庆节"


def test_a_second_load_changes_nothing():
    call_command("load_catalog", stdout=StringIO())
    before = catalogue_dump()
    out = StringIO()
    call_command("load_catalog", stdout=out)
    assert "0 rows created" in out.getvalue()
    assert catalogue_dump() == before


def test_a_reload_keeps_what_was_edited_in_the_admin(catalogue):
    target = ResponseTarget.objects.get(tier__code="strategic", severity="2")
    target.response_hours = 3
    target.save()
    call_command("load_catalog", stdout=StringIO())
    target.refresh_from_db()
    assert target.response_hours == 3
