"""The customer portal in a real browser: a billing contact and a technical contact sign in with the mailed
one-time link and walk every page in both languages (screenshots kept under var/screenshots), and the
pages fit a phone's screen."""

import datetime
import re

import pytest
from django.core import mail
from djmoney.money import Money
from playwright.sync_api import expect

from catalog.services import load_catalog
from contracts.models import ChargeRequest, ChargeStatus, Contact, PortalRole
from contracts.portal_access import portal_invite
from contracts.services import charge_request_create
from invoices.models import Invoice
from quotes.models import Quote
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with
from tests.invoices.conftest import issued_invoices
from tests.test_signed_links import sent_quote

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LINK = re.compile(r"https?://\S+/portal/enter\?sesame=\S+")


@pytest.fixture
def acme(django_user_model):
    """ACME with a running period, a sent quote, a charge request waiting for it, an issued invoice, and a
    billing and a technical contact with portal access."""
    load_catalog()
    manager = user_with(django_user_model, "am", "change_contact", "view_customer")
    customer = CustomerFactory(code="ACME", legal_name="Acme Ltd", account_manager=manager)
    today = datetime.date.today()
    ServicePeriodFactory(
        contract__customer=customer,
        contract__number="ACME-2026",
        start=today - datetime.timedelta(days=100),
        end=today + datetime.timedelta(days=40),
    )
    for name, email, role in (
        ("王芳", "wang@acme.example.com", PortalRole.BILLING),
        ("Li Lei", "li@acme.example.com", PortalRole.TECHNICAL),
    ):
        contact = Contact.objects.create(customer=customer, name=name, email=email)
        portal_invite(contact=contact, roles=[role], by=manager, notify=False)
    quote = sent_quote(customer)
    charge = charge_request_create(
        customer=customer,
        ticket_ref="TK-77",
        description="报表定制",
        requested_by="api:zendesk",
        estimated_amount=Money(3000, "CNY"),
    )
    ChargeRequest.objects.filter(pk=charge.pk).update(status=ChargeStatus.AWAITING_CUSTOMER)
    invoice = next(iter(issued_invoices(customer, up_to=today, issue_date=today).values()))
    return {"customer": customer, "quote": quote, "charge": charge, "invoice": invoice}


def sign_in(page, live_server, email: str, language: str) -> None:
    """Through the sign-in form, the mailed link and its confirmation, then in ``language``."""
    page.goto(f"{live_server.url}/portal/sign-in")
    page.fill("input[name=email]", email)
    page.click("form[action='/portal/sign-in']:not(.password-sign-in) button[type=submit]")
    expect(page.locator(".message.success")).to_be_visible()
    link = LINK.findall(mail.outbox[-1].body)[-1]
    page.goto(link.replace(link.split("/portal/")[0], live_server.url))
    page.click("form[action='/portal/enter'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    button = page.locator(f"form.language button[value='{language}']")
    if button.is_enabled():
        button.click()
        page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_billing_contact_walks_the_portal(page, live_server, acme, screenshot, language):
    sign_in(page, live_server, "wang@acme.example.com", language)
    expect(page.locator("table")).to_contain_text("ACME-2026")
    screenshot(f"portal-{language}-billing-home")

    page.click("nav a[href='/portal/invoices/']")
    expect(page.locator("table.documents")).to_contain_text(acme["invoice"].number)
    screenshot(f"portal-{language}-billing-invoices")
    with page.expect_download() as download:
        page.click(f"a[href='/portal/invoices/{acme['invoice'].number}.pdf']")
    assert download.value.suggested_filename == f"{acme['invoice'].number}.pdf"

    page.click("nav a[href='/portal/statement']")
    expect(page.locator("table.statement")).to_contain_text(acme["invoice"].number)
    screenshot(f"portal-{language}-billing-statement")

    page.click("nav a[href='/portal/quotes/']")
    page.click(f"a[href='/portal/quotes/{acme['quote'].pk}']")
    page.fill("input[name=name]", "王芳")
    page.click("button[name=answer][value=accept]")
    expect(page.locator(".answer-confirmation")).to_contain_text("王芳")
    assert Quote.objects.get(pk=acme["quote"].pk).status == "accepted"
    screenshot(f"portal-{language}-billing-quote-accepted")

    page.click("nav a[href='/portal/billing-details']")
    page.fill("input[name=title]", "Acme Ltd 发票抬头")
    page.fill("input[name=uscc]", "91350100M000100Y43")
    page.fill("input[name=email]", "ap@acme.example.com")
    page.click("main form button[type=submit]")
    expect(page.locator(".message.success")).to_be_visible()
    screenshot(f"portal-{language}-billing-details")
    # not the technical pages
    assert page.request.get(f"{live_server.url}/portal/charge-requests/").status == 403


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_technical_contact_walks_the_portal(page, live_server, acme, screenshot, language):
    sign_in(page, live_server, "li@acme.example.com", language)
    screenshot(f"portal-{language}-technical-home")
    page.click("nav a[href='/portal/coverage']")
    expect(page.locator("main table").first).to_be_visible()
    screenshot(f"portal-{language}-technical-coverage")
    page.click("nav a[href='/portal/quotas']")
    screenshot(f"portal-{language}-technical-quotas")

    page.click("nav a[href='/portal/charge-requests/']")
    page.click(f"a[href='/portal/charge-requests/{acme['charge'].pk}']")
    page.fill("input[name=name]", "Li Lei")
    page.click("button[name=answer][value=accept]")
    expect(page.locator("main")).to_contain_text("Li Lei")
    assert ChargeRequest.objects.get(pk=acme["charge"].pk).status == ChargeStatus.CONFIRMED
    screenshot(f"portal-{language}-technical-charge-confirmed")

    page.click("nav a[href='/portal/quotes/']")
    page.click("a[href='/portal/quotes/request']")
    page.select_option("select[name=service]", index=1)
    page.fill("input[name=quantity]", "2")
    page.click("main form button[type=submit]")
    expect(page.locator(".message.success")).to_be_visible()
    assert Quote.objects.filter(customer=acme["customer"], status="draft").count() == 1
    screenshot(f"portal-{language}-technical-quote-requested")
    assert page.request.get(f"{live_server.url}/portal/invoices/").status == 403
    assert not Invoice.objects.filter(customer=acme["customer"], number="").exists()


def test_the_portal_fits_a_phone(page, live_server, acme, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "wang@acme.example.com", "zh-hans")
    for path in ("/portal/", "/portal/invoices/", "/portal/statement", "/portal/quotes/"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    screenshot("portal-phone-home")
