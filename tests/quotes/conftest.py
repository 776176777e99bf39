import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from catalog.models import ServiceItem
from contracts.models import Contact
from quotes.services import quote_add_line, quote_add_travel, quote_create
from tests.factories import CustomerFactory, LicensedProductFactory, ServicePeriodFactory


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME", legal_name="示例科技有限公司", uscc="91110000802100433B")
    period = ServicePeriodFactory(contract__customer=customer)
    LicensedProductFactory(contract=period.contract)
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com")
    return customer


@pytest.fixture
def sales(django_user_model):
    return django_user_model.objects.create_user(username="sales", password="x", is_staff=True)


@pytest.fixture
def sales_manager(django_user_model):
    user = django_user_model.objects.create_user(username="manager", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="approve_discount"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def quote(customer, sales):
    """Person-days, a data volume and a travel estimate, quoted on 2026-03-04."""
    quote = quote_create(
        customer=customer,
        quote_date=datetime.date(2026, 3, 4),
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        created_by=sales,
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=5)
    quote_add_line(
        quote=quote,
        service=ServiceItem.objects.get(code="data-migration"),
        quantity=250,
        delivery_mode="on_site",
    )
    quote_add_travel(quote=quote, description="北京—南昌往返机票及住宿", amount=3456.78)
    return quote
