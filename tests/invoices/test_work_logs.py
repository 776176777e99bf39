"""Delivered person-days: API, imports (all or nothing), prepaid days drawn first, the rest billed."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from djmoney.money import Money
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from contracts.quotas import person_day_quota
from invoices.models import Charge, ChargeSource, WorkLog
from invoices.services import charges_collect
from tests.factories import CustomerFactory, PersonDayBundleFactory, ServicePeriodFactory

D = datetime.date
# Uses dated in 2026 must fall in an open contract year, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    return customer


def client_with(*scopes):
    _key, raw = create_api_key(name="Zendesk", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


LOG = {
    "customer": "ACME",
    "engineer": "李雷",
    "date": "2026-03-04",
    "hours": "12",
    "ticket": "TK-7",
    "on_site": True,
}


def test_a_work_log_by_api_is_recorded_once_per_idempotency_key(customer):
    client = client_with("work:write")
    first = client.post("/api/v1/work-logs", LOG, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    assert first.status_code == 201
    assert first.json()["days"] == "1.500"
    assert (
        client.post("/api/v1/work-logs", LOG, format="json", HTTP_IDEMPOTENCY_KEY="w1").json() == first.json()
    )
    assert WorkLog.objects.count() == 1
    assert (
        client.post(
            "/api/v1/work-logs", {**LOG, "hours": "4"}, format="json", HTTP_IDEMPOTENCY_KEY="w1"
        ).status_code
        == 409
    )


def test_a_work_log_needs_days_or_hours_and_a_known_customer(customer):
    client = client_with("work:write")
    no_amount = {k: v for k, v in LOG.items() if k != "hours"}
    assert (
        "days"
        in client.post("/api/v1/work-logs", no_amount, format="json", HTTP_IDEMPOTENCY_KEY="a").json()[
            "errors"
        ]
    )
    unknown = client.post(
        "/api/v1/work-logs", {**LOG, "customer": "NOPE"}, format="json", HTTP_IDEMPOTENCY_KEY="b"
    )
    assert unknown.status_code == 422
    assert client_with("charges:write").post("/api/v1/work-logs", LOG, format="json").status_code == 403


def test_prepaid_person_days_are_drawn_first_and_the_rest_is_billed_at_the_rate(customer):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=1)
    client_with("work:write").post("/api/v1/work-logs", LOG, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    charges_collect(up_to=D(2026, 3, 31))
    charges_collect(up_to=D(2026, 3, 31))
    charge = Charge.objects.get(source=ChargeSource.WORK_LOG)
    assert charge.quantity == Decimal("0.5")
    assert charge.amount == Money(1200, "CNY")  # half an on-site engineer day at 2400
    assert person_day_quota(customer, D(2026, 3, 4)).left == 0


def write(tmp_path, text: str, encoding="utf-8") -> str:
    path = tmp_path / "logs.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


HEADER = "customer,engineer,role,date,days,on_site,ticket,service,description,key\n"


def test_import_work_logs_all_rows_or_none_with_row_numbers(customer, tmp_path):
    bad = write(
        tmp_path,
        HEADER
        + "ACME,李雷,engineer,2026-03-04,1,0,TK-1,custom-development,ok,k1\n"
        + "NOPE,韩梅梅,engineer,2026-03-05,1,0,TK-2,custom-development,unknown customer,k2\n"
        + "ACME,韩梅梅,wizard,2026-03-06,1,0,TK-3,custom-development,bad role,k3\n",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_work_logs", bad, stdout=StringIO(), stderr=err)
    assert "row 2" in err.getvalue()
    assert "row 3" in err.getvalue()
    assert not WorkLog.objects.exists()


def test_import_work_logs_dry_run_then_import_then_again_changes_nothing(customer, tmp_path):
    good = write(
        tmp_path,
        HEADER + "ACME,李雷,senior_engineer,2026-03-04,2,1,TK-1,custom-development,迁移,\n",
        "gb18030",
    )
    out = StringIO()
    call_command("import_work_logs", good, "--dry-run", stdout=out)
    assert "Would import: 1 new" in out.getvalue()
    assert not WorkLog.objects.exists()
    call_command("import_work_logs", good, stdout=StringIO())
    call_command("import_work_logs", good, stdout=StringIO())
    log = WorkLog.objects.get()
    assert (log.engineer, log.role, log.days, log.on_site) == ("李雷", "senior_engineer", Decimal(2), True)
