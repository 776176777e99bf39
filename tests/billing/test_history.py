"""Audit history: who changed what and when, recorded through requests, tasks, bulk writes and the API, and
read in the admin by administrators only."""

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.models import ApiKey
from billing.roles import ROLES, sync_roles
from contracts.models import ChargeRequest, ChargeStatus, ServicePeriod
from contracts.services import charge_request_create, periods_mark_lapsed
from invoices.models import (
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    IssuedInvoiceError,
    WorkLog,
)
from invoices.services import charges_collect, invoice_run_execute
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(catalogue, django_user_model):
    """One staff user per role, and a superuser."""
    sync_roles()
    users = {}
    for role in ROLES:
        user = django_user_model.objects.create_user(username=f"{role}-user", password="x", is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = user
    users["superuser"] = django_user_model.objects.create_superuser(username="root", password="x")
    return users


@pytest.fixture
def draft(catalogue):
    """A draft invoice billing a paid period's fee, made by an invoice run."""
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer, fee=50000)
    run = invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    return Invoice.objects.get(run=run)


def issue_in_admin(client, user, invoice):
    client.force_login(user)
    response = client.post(
        reverse("admin:invoices_invoice_changelist"), {"action": "issue", "_selected_action": [invoice.pk]}
    )
    assert response.status_code == 302
    return Invoice.objects.get(pk=invoice.pk)


def test_issuing_an_invoice_in_the_admin_records_who_issued_it(client, staff, draft):
    issued = issue_in_admin(client, staff["finance"], draft)
    assert issued.status == InvoiceStatus.ISSUED
    latest, before = issued.history.all()[:2]
    assert (latest.history_type, latest.status, latest.number) == ("~", InvoiceStatus.ISSUED, issued.number)
    assert latest.history_user == staff["finance"]
    assert before.status == InvoiceStatus.DRAFT
    assert before.history_user is None  # drafted by the invoice run, no request


def test_the_history_page_shows_an_issue_to_administrators_and_is_refused_to_other_roles(
    client, staff, draft
):
    issued = issue_in_admin(client, staff["finance"], draft)
    history = reverse("admin:invoices_invoice_history", args=[issued.pk])
    version = reverse("admin:invoices_invoice_simple_history", args=[issued.pk, issued.history.first().pk])
    change = reverse("admin:invoices_invoice_change", args=[issued.pk])
    for name, user in staff.items():
        client.force_login(user)
        response = client.get(history, HTTP_ACCEPT_LANGUAGE="en")
        if name in ("administrator", "superuser"):
            assert response.status_code == 200, name
            rows = " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())
            assert f"{issued.number} " in rows
            assert "Changed finance-user" in rows  # who issued it
            assert "Status: draft &nbsp;&rarr;&nbsp;&nbsp;issued" in rows
            assert history in client.get(change).content.decode()
            one_version = client.get(version, HTTP_ACCEPT_LANGUAGE="en")
            assert one_version.status_code == 200
            assert 'name="_save"' not in one_version.content.decode()  # nothing is reverted from the history
        else:
            assert response.status_code in (302, 403), (name, response.status_code)
            assert client.get(version).status_code in (302, 403), name
    client.force_login(staff["finance"])
    finance_change_page = client.get(change)
    assert finance_change_page.status_code == 200  # finance reads the invoice, not its history
    assert history not in finance_change_page.content.decode()


def test_the_lines_of_an_issued_invoice_stay_fixed_and_gain_no_history(client, staff, draft):
    issue_in_admin(client, staff["finance"], draft)
    line = InvoiceLine.objects.get(invoice=draft)
    versions = line.history.count()
    line.description = "changed"
    with pytest.raises(IssuedInvoiceError):
        line.save()
    with pytest.raises(IssuedInvoiceError):
        line.delete()
    assert line.history.count() == versions
    assert InvoiceLine.objects.get(pk=line.pk).description != "changed"


def test_approving_a_charge_request_on_the_staff_page_records_the_account_manager(client, staff):
    manager = staff["account_manager"]
    customer = CustomerFactory(account_manager=manager)
    charge = charge_request_create(
        customer=customer,
        ticket_ref="TK-5",
        description="报表定制",
        requested_by="api:zendesk",
        estimated_person_days=1,
    )
    client.force_login(manager)
    client.post(reverse("contracts:charge-request-decide", args=[charge.pk]), {"decision": "approve"})
    latest = ChargeRequest.objects.get(pk=charge.pk).history.first()
    assert latest.status == ChargeStatus.AWAITING_CUSTOMER
    assert latest.history_user == manager
    assert latest.prev_record.status == ChargeStatus.PENDING_APPROVAL


def test_a_change_by_an_api_client_is_recorded_without_a_user_and_with_its_key(catalogue):
    CustomerFactory(code="ACME")
    key, raw = create_api_key(name="Zendesk", scopes=["work:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
    body = {"customer": "ACME", "engineer": "李雷", "date": "2026-03-04", "hours": "8", "ticket": "TK-7"}
    assert client.post("/api/v1/work-logs", body, format="json", HTTP_IDEMPOTENCY_KEY="w1").status_code == 201
    (record,) = WorkLog.objects.get().history.all()
    assert (record.history_type, record.history_user) == ("+", None)
    assert record.history_change_reason == f"API key {key.prefix} (Zendesk)"


def test_a_charge_request_raised_through_the_api_names_the_key_and_a_later_staff_change_does_not(
    client, staff
):
    CustomerFactory(code="ACME", account_manager=staff["account_manager"])
    key, raw = create_api_key(name="Jira", scopes=["charges:write"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"customer": "ACME", "ticket": "TK-9", "description": "报表定制", "estimated_person_days": "2"}
    response = api.post("/api/v1/charge-requests", body, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert response.status_code == 201, response.content
    charge = ChargeRequest.objects.get()
    (created,) = charge.history.all()
    assert key.prefix in created.history_change_reason
    assert "Jira" in created.history_change_reason

    client.force_login(staff["account_manager"])
    url = reverse("contracts:charge-request-decide", args=[charge.pk])
    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 302
    latest = ChargeRequest.objects.get(pk=charge.pk).history.first()
    assert latest.history_user == staff["account_manager"]
    assert not latest.history_change_reason


def test_a_conditional_update_by_a_task_records_the_change_and_why(catalogue):
    period = ServicePeriodFactory(start=datetime.date(2024, 1, 1), end=datetime.date(2024, 12, 31))
    with translation.override("en"):
        assert periods_mark_lapsed(today=datetime.date(2025, 1, 2)) == 1
    latest = ServicePeriod.objects.get(pk=period.pk).history.first()
    assert (latest.history_type, latest.history_change_reason) == ("~", "lapsed: not renewed")
    assert latest.lapsed_at is not None
    assert latest.prev_record.lapsed_at is None


def test_charges_collected_twice_are_recorded_once_and_again_when_billed(catalogue):
    customer = CustomerFactory()
    ServicePeriodFactory(contract__customer=customer, fee=50000)
    ServicePeriodFactory(
        contract__customer=customer, start=datetime.date(2028, 1, 1), end=datetime.date(2028, 12, 31)
    )
    up_to = datetime.date(2028, 6, 30)
    assert charges_collect(up_to=up_to) == 2
    assert charges_collect(up_to=up_to) == 0
    for charge in Charge.objects.all():
        assert list(charge.history.values_list("history_type", flat=True)) == ["+"]
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=up_to))
    for charge in Charge.objects.all():
        billed, created = charge.history.all()
        assert billed.invoice_line_id == charge.invoice_line_id is not None
        assert created.invoice_line_id is None


def test_revoking_an_api_key_in_the_admin_records_who_revoked_it(client, staff):
    api_key, _raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    client.force_login(staff["administrator"])
    client.post(
        reverse("admin:billing_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )
    latest = ApiKey.objects.get(pk=api_key.pk).history.first()
    assert latest.revoked_at is not None
    assert latest.history_user == staff["administrator"]


def test_an_imported_file_records_each_new_work_log_once_and_a_rolled_back_one_never(catalogue, tmp_path):
    CustomerFactory(code="ACME")
    header = "customer,engineer,role,date,days,on_site,ticket,service,description,key\n"
    rows = "".join(
        f"ACME,李雷,engineer,2026-03-{day:02d},1,0,TK-{day},custom-development,,k{day}\n" for day in (1, 2)
    )
    good = tmp_path / "good.csv"
    good.write_text(header + rows)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        header
        + "ACME,李雷,engineer,2026-03-09,1,0,TK-9,custom-development,,k9\nNOPE,x,engineer,x,1,0,T,,,k10\n"
    )
    call_command("import_work_logs", str(good), stdout=StringIO())
    call_command("import_work_logs", str(good), stdout=StringIO())  # known keys: nothing new
    with pytest.raises(CommandError):
        call_command("import_work_logs", str(bad), stdout=StringIO(), stderr=StringIO())
    records = WorkLog.history.order_by("idempotency_key")
    assert [(r.idempotency_key, r.history_type, r.work_date) for r in records] == [
        ("k1", "+", datetime.date(2026, 3, 1)),
        ("k2", "+", datetime.date(2026, 3, 2)),
    ]
    assert {r.id for r in records} == set(WorkLog.objects.values_list("pk", flat=True))
