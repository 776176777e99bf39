"""`manage.py load_demo`: demo customers that show every case of the decision, on the day they load."""

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.models import ApiKey
from billing.roles import ROLES
from contracts import demo
from contracts.entitlements import decide
from contracts.models import Customer, FapiaoType
from invoices import demo as invoices_demo
from invoices.fapiao_batch import fapiao_batch_plan
from invoices.models import Invoice, InvoiceKind, InvoiceRun, InvoiceStatus
from quotes.models import Quote, QuoteStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("today", [datetime.date(2026, 11, 25), datetime.date(2027, 6, 15)])
def test_each_demo_customer_shows_its_case(catalogue, today):
    assert demo.load(today=today) == [
        "DEMO-ACTIVE", "DEMO-FREE", "DEMO-GAP", "DEMO-LAPSED", "DEMO-STRATEGIC", "DEMO-TWO-PRODUCTS",
        "DEMO-FEE-SUSPEND", "DEMO-FEE-WARN",
    ]  # fmt: skip
    moment = datetime.datetime.combine(today, datetime.time(10), tzinfo=timezone.get_current_timezone())

    def outcome(code):
        decision = decide(customer=code, service="defect-fix", at=moment, severity="2")
        return (
            decision.outcome,
            [r.code for r in decision.reasons][:1],
            decision.period and decision.period.kind,
        )

    assert outcome("DEMO-ACTIVE") == ("included", ["standard_service"], "paid")
    assert outcome("DEMO-FREE") == ("included", ["standard_service"], "free")
    assert outcome("DEMO-GAP") == ("not_covered", ["in_gap"], None)
    assert outcome("DEMO-LAPSED") == ("not_covered", ["lapsed"], None)
    strategic = decide(customer="DEMO-STRATEGIC", service="defect-fix", at=moment, severity="2")
    assert strategic.period.tier.code == "strategic"
    for code in ("DEMO-ACTIVE", "DEMO-GAP"):  # a renewal covers the product of the contract it continues
        kms = decide(customer=code, service="defect-fix", at=moment, product="KMS")
        assert kms.outcome == outcome(code)[0]
    two = {product: decide(customer="DEMO-TWO-PRODUCTS", service="defect-fix", at=moment, product=product)
           for product in ("KMS", "EIS")}  # fmt: skip
    assert (two["KMS"].outcome, two["KMS"].period.contract.number) == ("included", "HT-DEMO-KMS")
    assert [r.code for r in two["EIS"].reasons] == ["product_not_covered", "lapsed"]
    active = Customer.objects.get(code="DEMO-ACTIVE")
    assert active.contracts.get(number="HT-2024-001").products.get().version == "8.5.2"
    assert active.contracts.get(number="HT-2024-001").custom_modules.exists()


def test_load_demo_is_idempotent_and_prints_the_logins(catalogue, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "admin / admin" in text
    assert "ask_00000000d3e0_" in text
    assert Customer.objects.filter(code__startswith="DEMO-").count() == 8
    assert ApiKey.objects.count() == 1
    assert "Demo work created: charge request, quote, work log, invoice run, overdue fee invoices" in text
    assert "Demo work created: none (already there)" in text


def test_the_demo_gives_each_role_work_on_its_pages(catalogue, client):
    call_command("load_demo", stdout=StringIO())
    manager = get_user_model().objects.get(username="account_manager")
    client.force_login(manager)
    assert "DEMO-TK-1001" in client.get(reverse("contracts:charge-requests")).content.decode()
    assert Quote.objects.get().status == QuoteStatus.PENDING_APPROVAL
    client.force_login(get_user_model().objects.get(username="sales_manager"))
    assert "waiting" in client.get(reverse("invoices:quotes")).content.decode()
    assert InvoiceRun.objects.get().invoices_created >= 1
    assert Invoice.objects.filter(customer__code="DEMO-ACTIVE").exists()


def test_no_demo_api_key_without_debug(catalogue, settings):
    settings.DEBUG = False
    call_command("load_demo", stdout=StringIO())
    assert not ApiKey.objects.exists()


def demo_logins(role_passwords: dict[str, str]) -> dict[str, bool]:
    """Whether each demo user signs in with the given password."""
    users = get_user_model().objects
    return {
        name: users.get(username=name).check_password(password) for name, password in role_passwords.items()
    }


KNOWN = {"admin": "admin", **{role: f"{role}-demo" for role in ROLES}}


def test_load_demo_without_debug_gives_no_user_a_known_password(catalogue, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert not any(demo_logins(KNOWN).values())
    printed = dict(re.findall(r"(\w+) / (\S+)$", out.getvalue(), re.MULTILINE))
    assert set(printed) == set(KNOWN)
    assert all(demo_logins(printed).values())
    assert len(set(printed.values())) == len(printed)


@pytest.mark.parametrize(("debug", "flag"), [(True, []), (False, ["--known-passwords"])])
def test_load_demo_sets_the_known_passwords_with_debug_on_or_when_told(
    catalogue, settings, monkeypatch, debug, flag
):
    settings.DEBUG = debug
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    call_command("load_demo", *flag, stdout=StringIO())
    assert all(demo_logins(KNOWN).values())


def test_load_demo_without_debug_replaces_the_known_passwords_an_earlier_load_set(
    catalogue, settings, monkeypatch
):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert not any(demo_logins(KNOWN).values())
    printed = dict(
        re.findall(r"^(\w+) had its known demo password; now: (\S+)$", out.getvalue(), re.MULTILINE)
    )
    assert set(printed) == set(KNOWN)
    assert all(demo_logins(printed).values())
    assert ApiKey.objects.get().is_revoked


def test_load_demo_without_debug_refuses_a_weak_demo_admin_password(catalogue, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "admin")
    with pytest.raises(CommandError, match="DEMO_ADMIN_PASSWORD"):
        call_command("load_demo", stdout=StringIO())
    assert not get_user_model().objects.exists()


def test_load_demo_without_debug_takes_a_strong_demo_admin_password(catalogue, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "Tr0ub4dor&3-horse-staple")
    call_command("load_demo", stdout=StringIO())
    assert demo_logins({"admin": "Tr0ub4dor&3-horse-staple"}) == {"admin": True}


def test_the_demo_shows_an_overdue_fee_under_each_policy(catalogue):
    """DEMO-FEE-SUSPEND (standard tier: suspend) and DEMO-FEE-WARN (strategic tier: warn) have a paid period
    whose fee was invoiced when it started, five months ago, and never paid."""
    call_command("load_demo", stdout=StringIO())
    answers = {
        code: decide(customer=code, service="defect-fix", severity="2")
        for code in invoices_demo.OVERDUE_FEE_CUSTOMERS
    }
    suspended, warned = answers["DEMO-FEE-SUSPEND"], answers["DEMO-FEE-WARN"]
    assert (suspended.outcome, suspended.fee_overdue.policy) == ("needs_approval", "suspend")
    assert (warned.outcome, warned.fee_overdue.policy) == ("included", "warn")
    for answer, fee in ((suspended, 60000), (warned, 240000)):
        assert "fee_overdue" in [reason.code for reason in answer.reasons]
        assert answer.fee_overdue.open_amount == Money(fee, "CNY")
        assert answer.fee_overdue.days_overdue > 30
    others = [
        decide(customer=code, service="defect-fix", severity="2")
        for code in ("DEMO-ACTIVE", "DEMO-STRATEGIC")
    ]
    assert [answer.fee_overdue for answer in others] == [None, None]  # their fee invoices are drafts


def test_the_demos_issued_invoices_can_be_exported_for_fapiao_at_once(catalogue):
    """Every demo customer has its fapiao details (the title its legal name, a 专票), so a newcomer exports a
    batch from the demo's issued invoices with no problem."""
    call_command("load_demo", stdout=StringIO())
    customers = Customer.objects.filter(code__startswith="DEMO-").select_related("fapiao_details")
    assert [
        (c.code, c.fapiao_details.title, c.fapiao_details.fapiao_type) for c in customers.order_by("code")
    ] == [(c.code, c.legal_name, FapiaoType.SPECIAL) for c in customers.order_by("code")]
    issued = Invoice.objects.filter(
        customer__code__startswith="DEMO-", kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED
    ).values_list("pk", flat=True)
    assert issued
    requests, problems = fapiao_batch_plan(issued)
    assert problems == []
    assert {request.invoice.pk for request in requests} == set(issued)
