"""A story: after a sale the account manager sets up the new customer on the staff pages (customer, contact,
purchase contract licensing KMS, the free period); the ticketing tools' entitlement check then says the
customer is covered for KMS, and as the free period nears its end a renewal quote is drafted for it."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from billing.roles import sync_roles
from contracts.models import Customer, PeriodKind
from quotes.models import QuoteKind
from quotes.services import quotes_draft_renewals
from tests.demo_roles import management

pytestmark = pytest.mark.django_db


def test_a_customer_set_up_by_its_account_manager_is_covered_and_renewed(
    catalogue, client, django_user_model
):
    sync_roles()
    manager = django_user_model.objects.create_user(username="am", is_staff=True)
    manager.groups.set(Group.objects.filter(name="account_manager"))
    client.force_login(manager)
    today = timezone.localdate()
    start, end = today - datetime.timedelta(days=300), today + datetime.timedelta(days=60)

    response = client.post(
        reverse("contracts:customer-new"),
        {
            "customer-code": "STORY",
            "customer-legal_name": "故事软件有限公司",
            "customer-uscc": "91330000MA0000004K",
            "customer-arrival_area": "same_city",
            "contact-name": "赵敏",
            "contact-email": "zhao@example.com",
            "contract-number": "HT-STORY",
            "contract-kind": "purchase",
            "contract-signed_on": start.isoformat(),
            **management("products", total=1),
            "products-0-product": "KMS",
            "products-0-version": "8.5.2",
            **management("modules", total=0),
            "period-start": start.isoformat(),
            "period-end": end.isoformat(),
            "period-tier": "standard",
            "period-trainings_per_year": "2",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get(code="STORY")
    page = client.get(reverse("invoices:customer", args=["STORY"])).content.decode()
    assert "KMS 8.5.2" in page
    assert end.strftime("%Y-%m-%d") in page

    lookup = client.get(
        reverse("contracts:entitlement-lookup"),
        {"customer": "STORY", "service": "defect-fix", "product": "KMS", "quantity": 1},
    ).content.decode()
    assert 'data-outcome="included"' in lookup

    drafted = [quote for quote in quotes_draft_renewals(today=today) if quote.customer_id == customer.pk]
    assert len(drafted) == 1
    renewal = drafted[0]
    period = customer.contracts.get().periods.get()
    assert period.kind == PeriodKind.FREE
    assert (renewal.kind, renewal.renewal_of, renewal.renewal_start) == (
        QuoteKind.RENEWAL,
        period,
        end + datetime.timedelta(days=1),
    )
