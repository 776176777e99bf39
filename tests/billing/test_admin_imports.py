"""Imports and exports in the admin need the model's own permissions from the role matrix (billing.roles):
an import its add and change permissions, an export its view permission. Each attack goes the whole way a
browser goes (the upload, then the confirmation with the preview's hidden fields) and nothing is written."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from catalog.models import HolidayScheduleDay, PersonDayRate
from invoices.models import WorkLog
from tests.demo_roles import load_demo, log_in

pytestmark = pytest.mark.django_db

RATES = "rate_card,role,delivery_mode,price,price_currency,tax_inclusive\nlist:1,engineer,remote,1.00,CNY,1\n"
HOLIDAY = "date,kind,name_zh,name_en\n2026-10-01,workday,国庆节,National Day\n"
WORK_LOGS = (
    "customer,engineer,role,date,days,on_site,ticket,service,description,key\n"
    "DEMO-ACTIVE,王工,engineer,2026-03-04,15,0,TK-9,custom-development,数据迁移,attack-1\n"
)


@pytest.fixture
def users(catalogue, django_user_model):
    return load_demo(django_user_model)


def upload(name: str, text: str) -> io.BytesIO:
    handle = io.BytesIO(text.encode())
    handle.name = name
    return handle


def import_through_the_admin(client, model: str, text: str) -> tuple[int, int]:
    """Uploads ``text`` to the import of ``model`` (``app_label_modelname``) and, when a preview comes
    back, confirms it as the preview's form would; returns both answers' status codes."""
    preview = client.post(
        reverse(f"admin:{model}_import"),
        {"format": 0, "import_file": upload("attack.csv", text), "resource": 0},
    )
    confirm = preview.context.get("confirm_form") if preview.context else None
    # a refused preview gives no form: the confirmation is forged from what a preview would have sent
    data = confirm.initial if confirm is not None else {"format": 0, "resource": 0, "import_file_name": "x"}
    confirmed = client.post(reverse(f"admin:{model}_process_import"), data)
    return preview.status_code, confirmed.status_code


def test_sales_cannot_import_person_day_rates(client, users):
    rate = PersonDayRate.objects.get(rate_card__version=1, role="engineer", delivery_mode="remote")
    log_in(client, users["sales"])
    statuses = import_through_the_admin(client, "catalog_persondayrate", RATES)
    assert statuses == (403, 403)
    rate.refresh_from_db()
    assert rate.price != Money(Decimal("1.00"), "CNY")


def test_sales_cannot_import_billable_work_logs(client, users):
    before = WorkLog.objects.count()
    log_in(client, users["sales"])
    statuses = import_through_the_admin(client, "invoices_worklog", WORK_LOGS)
    assert statuses == (403, 403)
    assert WorkLog.objects.count() == before
    assert not WorkLog.objects.filter(ticket_ref="TK-9").exists()


def test_sales_cannot_import_a_holiday_into_the_business_calendar(client, users):
    before = list(HolidayScheduleDay.objects.values_list("date", "kind"))
    log_in(client, users["sales"])
    statuses = import_through_the_admin(client, "catalog_holidayscheduleday", HOLIDAY)
    assert statuses == (403, 403)
    assert list(HolidayScheduleDay.objects.values_list("date", "kind")) == before


def test_sales_cannot_export_finances_work_logs(client, users):
    assert WorkLog.objects.exists()
    log_in(client, users["sales"])
    assert client.get(reverse("admin:invoices_worklog_export")).status_code == 403
    response = client.post(reverse("admin:invoices_worklog_export"), {"format": 0, "resource": 0})
    assert response.status_code == 403
    assert "张伟" not in response.content.decode()


def test_finance_who_views_the_rates_cannot_import_them(client, users):
    """Viewing the catalogue is not changing it: finance sees the rates and exports them, never imports."""
    rate = PersonDayRate.objects.get(rate_card__version=1, role="engineer", delivery_mode="remote")
    log_in(client, users["finance"])
    assert client.get(reverse("admin:catalog_persondayrate_export")).status_code == 200
    assert import_through_the_admin(client, "catalog_persondayrate", RATES) == (403, 403)
    rate.refresh_from_db()
    assert rate.price != Money(Decimal("1.00"), "CNY")


def test_finance_imports_and_exports_work_logs(client, users):
    log_in(client, users["finance"])
    assert client.get(reverse("admin:invoices_worklog_export")).status_code == 200
    statuses = import_through_the_admin(client, "invoices_worklog", WORK_LOGS)
    assert statuses == (200, 302)
    assert WorkLog.objects.filter(ticket_ref="TK-9", engineer="王工").exists()


def test_the_administrator_imports_person_day_rates(client, users):
    log_in(client, users["administrator"])
    assert import_through_the_admin(client, "catalog_persondayrate", RATES) == (200, 302)
    rate = PersonDayRate.objects.get(rate_card__version=1, role="engineer", delivery_mode="remote")
    assert rate.price == Money(Decimal("1.00"), "CNY")
