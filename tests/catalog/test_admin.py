"""The admin covers the whole catalogue; holiday schedules and prices import all or nothing."""

import datetime

import pytest
import tablib
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from djmoney.money import Money

from billing.roles import sync_roles
from catalog.models import HolidayScheduleDay, PersonDayRate, RateCard
from catalog.resources import HolidayScheduleDayResource, PersonDayRateResource

pytestmark = pytest.mark.django_db

CATALOG_MODELS = [m for m in admin.site._registry if m._meta.app_label == "catalog"]


@pytest.fixture
def staff(client, admin_user, catalogue):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", CATALOG_MODELS, ids=lambda m: m._meta.model_name)
def test_every_catalogue_model_has_working_admin_pages(staff, model):
    opts = model._meta
    changelist = staff.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    assert staff.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200
    first = model.objects.first()
    if first is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert staff.get(change).status_code == 200


def test_the_admin_lists_the_whole_catalogue(staff):
    page = staff.get(reverse("admin:catalog_serviceitem_changelist") + "?all=")
    assert page.context["cl"].result_count == 24


def test_the_admin_refuses_anonymous_users(client):
    response = client.get(reverse("admin:catalog_serviceitem_changelist"))
    assert response.status_code == 302


def schedule_csv(*rows: str) -> bytes:
    return ("date,kind,name_zh,name_en\n" + "\n".join(rows) + "\n").encode()


def test_a_years_schedule_imports_from_csv(catalogue):
    dataset = tablib.Dataset().load(
        schedule_csv(
            "2027-01-01,holiday,元旦,New Year's Day", "2027-02-06,workday,春节,Spring Festival"
        ).decode(),
        format="csv",
    )
    result = HolidayScheduleDayResource().import_data(dataset, rollback_on_validation_errors=True)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert HolidayScheduleDay.objects.filter(date__year=2027).count() == 2


def test_a_schedule_with_one_bad_row_imports_nothing_and_names_the_row(catalogue):
    dataset = tablib.Dataset().load(
        schedule_csv(
            "2027-01-01,holiday,元旦,New Year's Day", "2027-02-06,weekend,春节,Spring Festival"
        ).decode(),
        format="csv",
    )
    result = HolidayScheduleDayResource().import_data(
        dataset, use_transactions=True, rollback_on_validation_errors=True
    )
    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert "kind" in result.invalid_rows[0].field_specific_errors
    assert not HolidayScheduleDay.objects.filter(date__year=2027).exists()


def test_the_admin_import_preview_reports_bad_rows_and_writes_nothing(staff):
    upload = SimpleUploadedFile(
        "2027.csv",
        schedule_csv("2027-01-01,holiday,元旦,New Year's Day", "not-a-date,holiday,x,x"),
        "text/csv",
    )
    response = staff.post(
        reverse("admin:catalog_holidayscheduleday_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    assert response.context["result"].has_errors() or response.context["result"].has_validation_errors()
    assert b"confirm_form" not in response.content
    assert not HolidayScheduleDay.objects.filter(date__year=2027).exists()


def test_person_day_rates_round_trip_through_export_and_import(catalogue):
    exported = PersonDayRateResource().export()
    assert exported.headers == [
        "rate_card",
        "role",
        "delivery_mode",
        "price",
        "price_currency",
        "tax_inclusive",
    ]
    assert exported.dict[0]["rate_card"] == "list:1"
    rows = exported.dict
    for row in rows:
        if row["role"] == "architect" and row["delivery_mode"] == "on_site":
            row["price"] = "4800.00"
    dataset = tablib.Dataset(*[list(r.values()) for r in rows], headers=exported.headers)
    result = PersonDayRateResource().import_data(dataset, rollback_on_validation_errors=True)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert PersonDayRate.objects.count() == 10
    rate = PersonDayRate.objects.get(rate_card__version=1, role="architect", delivery_mode="on_site")
    assert rate.price == Money(4800, "CNY")


def test_a_price_row_for_an_unknown_rate_card_is_reported(catalogue):
    dataset = tablib.Dataset(
        ["list:9", "engineer", "remote", "100.00", "CNY", "1"],
        headers=["rate_card", "role", "delivery_mode", "price", "price_currency", "tax_inclusive"],
    )
    result = PersonDayRateResource().import_data(dataset, rollback_on_validation_errors=True)
    assert result.has_errors() or result.has_validation_errors()
    assert PersonDayRate.objects.count() == 10


def test_the_admin_copies_a_rate_card_as_a_new_version(staff):
    from catalog.models import RateCard

    card = RateCard.objects.get(version=1)
    response = staff.post(
        reverse("admin:catalog_ratecard_changelist"),
        {"action": "new_version", "_selected_action": [card.pk]},
        follow=True,
    )
    assert response.status_code == 200
    new = RateCard.objects.get(version=2)
    assert new.effective_from > datetime.date.today() - datetime.timedelta(days=2)
    assert new.persondayrates.count() == 10


def test_sales_with_view_only_rate_cards_cannot_create_a_rate_card_version_in_the_admin(
    client, catalogue, django_user_model
):
    sync_roles()
    sales = django_user_model.objects.create_user(username="sales", is_staff=True)
    sales.groups.set(Group.objects.filter(name="sales"))
    client.force_login(sales)
    cards = RateCard.objects.count()
    card = RateCard.objects.first()
    client.post(
        reverse("admin:catalog_ratecard_changelist"), {"action": "new_version", "_selected_action": [card.pk]}
    )
    assert RateCard.objects.count() == cards


# Trust: what a holiday-schedule import may change


def bad_rows(result) -> dict[int, str]:
    """The rows an import refused, by number, with what it said of them (a bad key is a row error)."""
    rows = {row.number: str(row.error_dict) for row in result.invalid_rows}
    for number, errors in result.row_errors():
        rows[number] = rows.get(number, "") + " ".join(str(error.error) for error in errors)
    return rows


def preview_schedule(staff, *rows: str):
    upload = SimpleUploadedFile("schedule.csv", schedule_csv(*rows), "text/csv")
    return staff.post(
        reverse("admin:catalog_holidayscheduleday_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def national_day(staff):
    HolidayScheduleDay.objects.update_or_create(
        date=datetime.date(2027, 10, 1),
        defaults={"kind": "holiday", "name_zh": "国庆节", "name_en": "National Day"},
    )
    return preview_schedule(
        staff, "2027-10-01,workday,国庆节,National Day", "2027-10-09,workday,调休,Make-up day"
    )


def test_a_holiday_import_that_changes_an_existing_day_says_so_and_needs_confirmation(staff):
    preview = national_day(staff)
    page = preview.content.decode()
    assert (
        "Changes an existing day: 2027-10-01 from statutory holiday “国庆节 / National Day” "
        "to make-up working day “国庆节 / National Day”"
    ) in page
    changed = [row for row in preview.context["result"].valid_rows() if row.import_type == "update"]
    assert len(changed) == 1
    confirm = preview.context["confirm_form"]
    assert "confirm_changes" in confirm.fields
    url = reverse("admin:catalog_holidayscheduleday_process_import")
    unconfirmed = staff.post(url, confirm.initial, HTTP_ACCEPT_LANGUAGE="en")
    assert unconfirmed.status_code == 400
    assert "confirm the changes to existing days" in unconfirmed.content.decode()
    assert HolidayScheduleDay.objects.get(date=datetime.date(2027, 10, 1)).kind == "holiday"
    assert not HolidayScheduleDay.objects.filter(date=datetime.date(2027, 10, 9)).exists()  # all or nothing

    confirm = national_day(staff).context["confirm_form"]
    assert staff.post(url, {**confirm.initial, "confirm_changes": "on"}).status_code == 302
    assert HolidayScheduleDay.objects.get(date=datetime.date(2027, 10, 1)).kind == "workday"
    assert HolidayScheduleDay.objects.filter(date=datetime.date(2027, 10, 9)).exists()


def test_a_holiday_import_of_new_days_asks_no_confirmation(staff):
    preview = preview_schedule(staff, "2027-01-01,holiday,元旦,New Year's Day")
    confirm = preview.context["confirm_form"]
    assert "confirm_changes" not in confirm.fields
    assert (
        staff.post(reverse("admin:catalog_holidayscheduleday_process_import"), confirm.initial).status_code
        == 302
    )
    assert HolidayScheduleDay.objects.filter(date__year=2027).count() == 1


def test_formula_like_text_is_refused_in_the_holiday_import(staff):
    preview = preview_schedule(
        staff, "2027-01-01,holiday,元旦,New Year's Day", '2027-01-02,holiday,"=HYPERLINK(""http://evil"")",x'
    )
    result = preview.context["result"]
    assert [row.number for row in result.invalid_rows] == [2]
    assert "Looks like a spreadsheet formula" in str(result.invalid_rows[0].field_specific_errors["name_zh"])
    assert "confirm_form" not in preview.context
    assert not HolidayScheduleDay.objects.filter(date__year=2027).exists()


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_dates_outside_the_import_window_are_refused_in_the_holiday_import(staff, date):
    preview = preview_schedule(staff, "2027-01-01,holiday,元旦,New Year's Day", f"{date},holiday,x,x")
    assert list(bad_rows(preview.context["result"])) == [2]
    assert "outside the dates an import accepts" in bad_rows(preview.context["result"])[2]
    assert "confirm_form" not in preview.context
    assert not HolidayScheduleDay.objects.filter(date__year=2027).exists()


def test_a_rate_import_refuses_a_flag_it_cannot_read(catalogue):
    dataset = tablib.Dataset(
        ["list:1", "engineer", "remote", "1.00", "CNY", "maybe"],
        headers=["rate_card", "role", "delivery_mode", "price", "price_currency", "tax_inclusive"],
    )
    result = PersonDayRateResource().import_data(
        dataset, use_transactions=True, rollback_on_validation_errors=True
    )
    assert [row.number for row in result.invalid_rows] == [1]
    assert not PersonDayRate.objects.filter(price=Money(1, "CNY")).exists()
