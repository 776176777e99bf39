"""The technical contact's pages: coverage (products and what each later version is as an upgrade,
response levels, channels, the holiday line) and quotas with each use and its ticket."""

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
