"""The technical contact's pages: coverage (products and what each later version is as an upgrade,
response levels, channels, the holiday line) and quotas with each use and its ticket."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Product, ProductVersion, ServiceItem
from contracts.services import consume
from tests.factories import LicensedProductFactory
from tests.portal.conftest import link_in, sign_in_with

pytestmark = pytest.mark.django_db


def technical_client(two_customers) -> Client:
    from django.core import mail

    client = Client()
    client.post("/portal/sign-in", {"email": "li@acme.example.com"})
    sign_in_with(client, link_in(mail.outbox[-1]))
    return client


def test_coverage_names_each_later_version_as_an_upgrade(two_customers):
    period = two_customers["acme"].contracts.get().periods.get()
    product = Product.objects.get(code="KMS")
    LicensedProductFactory(contract=period.contract, product=product, version="6.2.0")
    for major, medium in ((6, 2), (6, 3), (7, 0)):
        ProductVersion.objects.get_or_create(product=product, major=major, medium=medium, minor=0)
    page = technical_client(two_customers).get("/portal/coverage")
    assert page.status_code == 200
    text = page.text
    assert "6.3.0" in text
    assert text.index("6.3.0") < text.index("7.0.0")
    assert "paid upgrade contract" in text or "付费升级合同" in text
    assert "hotline" in text.lower() or "热线" in text


def test_quotas_show_each_use_with_its_ticket(two_customers):
    consume(
        customer=two_customers["acme"],
        service=ServiceItem.objects.get(code="customer-training"),
        quantity=Decimal(1),
        ticket_ref="TK-TRAIN-7",
        idempotency_key="portal-training-1",
    )
    page = technical_client(two_customers).get("/portal/quotas")
    assert page.status_code == 200
    assert "TK-TRAIN-7" in page.text


def billing_client(two_customers) -> Client:
    from django.core import mail

    client = Client()
    client.post("/portal/sign-in", {"email": "wang@acme.example.com"})
    sign_in_with(client, link_in(mail.outbox[-1]))
    return client


BILLING_DETAILS = {
    "title": "Acme Ltd 发票抬头",
    "address": "上海市浦东新区 1 号",
    "phone": "021-12345678",
    "bank": "招商银行上海分行",
    "bank_account": "6225880212345678",
    "email": "ap@acme.example.com",
    "fapiao_type": "special",
}


def test_the_billing_contact_keeps_the_billing_details(two_customers):
    from contracts.models import FapiaoDetails, PortalActivity

    client = billing_client(two_customers)
    bad = client.post("/portal/billing-details", {**BILLING_DETAILS, "uscc": "91310000MA1FL0000X"})
    assert bad.status_code == 200  # the form again, the USCC refused
    assert not FapiaoDetails.objects.filter(customer=two_customers["acme"]).exists()
    good = client.post("/portal/billing-details", {**BILLING_DETAILS, "uscc": "91350100M000100Y43"})
    assert good.status_code == 302
    details = FapiaoDetails.objects.get(customer=two_customers["acme"])
    assert details.title == "Acme Ltd 发票抬头"
    two_customers["acme"].refresh_from_db()
    assert two_customers["acme"].uscc == "91350100M000100Y43"
    assert details.history.first().history_user == two_customers["billing"].user
    activity = PortalActivity.objects.filter(customer=two_customers["acme"]).first()
    assert activity.action == "billing_details_changed"
    assert technical_client(two_customers).get("/portal/billing-details").status_code == 403


def test_a_quote_request_lands_with_sales_as_a_draft(two_customers):
    from quotes.models import Quote

    client = technical_client(two_customers)
    service = ServiceItem.objects.get(code="custom-development")
    answer = client.post("/portal/quotes/request", {"service": service.pk, "quantity": "3", "note": "报表"})
    assert answer.status_code == 302
    quote = Quote.objects.get(customer=two_customers["acme"])
    assert quote.status == "draft"
    assert "Li Lei" in quote.notes
    line = quote.lines.get()
    assert line.quantity * line.unit_price.amount == line.list_amount.amount
    # a draft is not the customer's to see yet
    assert client.get(f"/portal/quotes/{quote.pk}").status_code == 404


def test_opening_hours_run_weekdays_together(catalogue):
    from catalog.models import ChannelHours
    from catalog.selectors import opening_hours

    hotline = ChannelHours.objects.get(channel="hotline").calendar
    community = ChannelHours.objects.get(channel="community").calendar
    from django.utils import translation

    with translation.override("en"):
        assert opening_hours(hotline) == ["Monday–Friday 09:00–12:00, 13:00–18:00"]
        assert opening_hours(community) == ["every day all day"]


def test_finance_sees_a_billing_details_change_on_the_next_draft(two_customers, django_user_model):
    from invoices.models import Invoice, InvoiceRun
    from invoices.services import invoice_run_execute
    from tests.factories import user_with

    billing_client(two_customers).post(
        "/portal/billing-details", {**BILLING_DETAILS, "uscc": "91350100M000100Y43"}
    )
    invoice_run_execute(
        run=InvoiceRun.objects.create(up_to=datetime.date.today(), customer=two_customers["acme"])
    )
    draft = Invoice.objects.get(customer=two_customers["acme"], status="draft")
    finance = user_with(django_user_model, "fin", "view_invoice")
    staff = Client()
    staff.force_login(finance)
    page = staff.get(f"/staff/invoices/{draft.pk}/")
    assert page.status_code == 200
    assert "billing-details-changed" in page.text
    assert "王芳" in page.text
