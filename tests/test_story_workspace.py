"""A story across the staff workspace (issue 15): the account manager sets up a customer after a sale;
the customer takes a paid year and on-site travel; finance approves the travel and issues the drafts in
bulk, finds the invoice again in the list by the customer's code, exports it, records a part payment; the
customers list, the overdue list and the export agree with the invoice to the fen."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from djmoney.money import Money

from billing.roles import sync_roles
from catalog.models import ServiceTier
from contracts.models import Customer
from contracts.services import period_add
from invoices.models import Invoice, InvoiceRun, InvoiceStatus
from invoices.selectors import invoice_balance, invoice_totals
from invoices.services import invoice_run_execute, payment_record, travel_expense_record
from tests.demo_roles import management

pytestmark = pytest.mark.django_db
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def staff(django_user_model, name, group):
    user = django_user_model.objects.create_user(username=name, is_staff=True)
    user.groups.set(Group.objects.filter(name=group))
    return user


def test_a_customer_set_up_billed_in_bulk_and_found_again_agrees_to_the_fen(
    catalogue, client, django_user_model
):
    sync_roles()
    manager = staff(django_user_model, "am", "account_manager")
    finance = staff(django_user_model, "fin", "finance")
    engineer = staff(django_user_model, "eng", "finance")

    # the account manager sets the customer up after the sale: contract, KMS, the free year
    client.force_login(manager)
    response = client.post(
        reverse("contracts:customer-new"),
        {
            "customer-code": "STORY-WS",
            "customer-legal_name": "工作台故事有限公司",
            "customer-uscc": "91330000MA0000004K",
            "customer-arrival_area": "same_city",
            "contact-name": "钱多",
            "contact-email": "qian@example.com",
            "contract-number": "HT-WS-1",
            "contract-kind": "purchase",
            "contract-signed_on": "2025-01-01",
            **management("products", total=1),
            "products-0-product": "KMS",
            "products-0-version": "8.5.2",
            **management("modules", total=0),
            "period-start": "2025-01-01",
            "period-end": "2025-12-31",
            "period-tier": "standard",
            "period-trainings_per_year": "2",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get(code="STORY-WS")
    assert customer.account_manager == manager
    contract = customer.contracts.get()

    # the paid year that follows, and on-site travel recorded by an engineer
    period_add(
        contract=contract,
        kind="paid",
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
        tier=ServiceTier.objects.get(code="standard"),
        fee=Money(Decimal("12345.67"), "CNY"),
        by=manager,
    )
    travel = travel_expense_record(
        customer=customer,
        category="train",
        spent_on=datetime.date(2026, 1, 8),
        amount=Money(Decimal("333.33"), "CNY"),
        description="G1 北京—上海",
        receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n% receipt\n"),
        by=engineer,
    )

    # finance approves the travel and issues the drafts from the lists, in bulk
    client.force_login(finance)
    report = client.post(
        reverse("invoices:bulk-travel"), {"selected": [travel.pk], "decision": "approve"}, **ENGLISH
    )
    assert "1 done" in report.content.decode()
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2026, 1, 31)))
    drafts = list(Invoice.objects.filter(customer=customer, status=InvoiceStatus.DRAFT))
    assert len(drafts) == 1
    report = client.post(
        reverse("invoices:bulk-issue"), {"selected": [draft.pk for draft in drafts]}, **ENGLISH
    )
    assert "1 done" in report.content.decode()
    invoice = Invoice.objects.get(customer=customer)
    gross = invoice_totals(invoice)["gross"]
    assert gross == Money(Decimal("12345.67") + Decimal("333.33"), "CNY")

    # found again by the customer's code, exported: the same figure to the fen
    listed = client.get(reverse("invoices:invoices"), {"tab": "issued", "q": "story-ws"}, **ENGLISH)
    assert invoice.number in listed.content.decode()
    exported = client.get(
        reverse("invoices:invoices"), {"tab": "issued", "q": "story-ws", "export": "csv"}, **ENGLISH
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["Invoice"], row["Customer"], row["Total"], row["Open"]) for row in rows] == [
        (invoice.number, "STORY-WS", "12679.00", "12679.00")
    ]

    # a part payment: the customers list and the overdue list show what is left, as the invoice does
    payment_record(
        invoice=invoice,
        amount=Money(Decimal("0.01"), "CNY"),
        received_on=invoice.issue_date,
        reference="BANK-WS-1",
    )
    left = invoice_balance(invoice)
    assert left == Money(Decimal("12678.99"), "CNY")
    client.force_login(manager)
    customers = client.get(reverse("invoices:customers"), {"q": "STORY-WS"}, **ENGLISH).content.decode()
    assert "¥12,678.99" in customers
    client.force_login(finance)
    overdue = client.get(reverse("invoices:overdue"), {"q": "STORY-WS"}, **ENGLISH).content.decode()
    assert ("¥12,678.99" in overdue) == (invoice.due_date < datetime.date.today())
