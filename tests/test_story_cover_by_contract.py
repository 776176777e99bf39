"""One customer through issue 14's cover rules, as a ticketing tool and the vendor's staff meet them: KMS
licensed under a running contract, EIS under one that lapsed. The EIS defect is not covered through the KMS
contract; a check naming no product lists both and asks for the product; a level-1 outage by phone on
National Day is answered on the emergency clock while the hotline itself is closed, and the escalation
counts on the working calendar; an upgrade to a version never released is refused, a major upgrade is
priced from the upgrade contract item, quoted, accepted and invoiced at that price to the fen, after which
the same upgrade is included, and the new upgrade contract still covers nothing of EIS; a training dated
back into a closed contract year is refused."""

import datetime

import pytest
from django.utils import timezone
from djmoney.money import Money

from catalog.models import UPGRADE_CONTRACT, Product, ServiceItem
from contracts.models import ConsumptionEntry
from invoices.models import Invoice, InvoiceRun
from invoices.selectors import invoice_totals
from invoices.services import invoice_issue, invoice_run_execute
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.contracts.test_api import CHECK, api
from tests.factories import CustomerFactory, LicensedProductFactory, ServicePeriodFactory

pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
CONSUME = "/api/v1/entitlements/consume"


def codes(answer: dict) -> list[str]:
    return [reason["code"] for reason in answer["reasons"]]


def test_one_customer_through_cover_by_contract_channel_emergency_escalation_and_a_priced_upgrade(catalogue):
    customer = CustomerFactory(code="STORY14", city="上海")
    kms = ServicePeriodFactory(contract__customer=customer, contract__number="HT-KMS", fee=50000).contract
    LicensedProductFactory(contract=kms, version="8.5.2")
    eis = ServicePeriodFactory(
        contract__customer=customer,
        contract__number="HT-EIS",
        kind="free",
        fee=0,
        start=datetime.date(2023, 1, 1),
        end=datetime.date(2024, 12, 31),
    ).contract
    LicensedProductFactory(contract=eis, product=Product.objects.get(code="EIS"), version="5.2.0")
    client = api("entitlements:read", "consumption:write")

    def check(**question) -> dict:
        response = client.post(CHECK, {"customer": "STORY14", **question}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    # Cover follows the product's contract.
    spring = "2026-03-04T10:00:00+08:00"
    eis_defect = check(service="defect-fix", product="EIS", at=spring)
    assert (eis_defect["outcome"], eis_defect["contract"]) == ("not_covered", None)
    assert codes(eis_defect)[:2] == ["product_not_covered", "lapsed"]
    kms_defect = check(service="defect-fix", product="KMS", at=spring)
    assert (kms_defect["outcome"], kms_defect["contract"]) == ("included", "HT-KMS")
    unnamed = check(service="defect-fix", at=spring)
    assert [(c["product"], c["covered"], c["contract"]) for c in unnamed["products"]] == [
        ("EIS", False, None),
        ("KMS", True, "HT-KMS"),
    ]
    assert "name_the_product" in codes(unnamed)

    # National Day 2026: the emergency line answers level 1 within the hour; the hotline opens after the
    # holiday; the ticket opened an hour ago stays with the local specialist until working time resumes.
    outage = check(
        service="fault-diagnosis",
        product="KMS",
        severity="1",
        channel="hotline",
        at="2026-10-02T10:00:00+08:00",
        opened_at="2026-10-02T09:00:00+08:00",
    )
    assert (outage["outcome"], outage["emergency"]) == ("included", True)
    assert outage["respond_by"] == "2026-10-02T11:00:00+08:00"
    assert "holiday_emergency" in codes(outage)
    assert outage["channel"]["open"] is False
    reopens = datetime.datetime.fromisoformat(outage["channel"]["opens_next"])
    assert reopens.date() > datetime.date(2026, 10, 7)
    assert reopens.time() == datetime.time(9)
    assert outage["escalation"]["level"] == 1
    escalate_by = datetime.datetime.fromisoformat(outage["escalation"]["escalate_by"])
    assert escalate_by.date() == reopens.date()  # counted on the 5x8 calendar, not the emergency clock
    assert escalate_by > reopens

    # Versions: never released is nothing to upgrade to; a major upgrade has its price.
    unreleased = check(service="upgrade", product="KMS", to_version="8.99.0", at=spring)
    assert (unreleased["outcome"], codes(unreleased)[-1]) == ("not_covered", "unreleased_version")
    major = check(service="upgrade", product="KMS", to_version="9.0.0", at=spring)
    assert major["outcome"] == "billable"
    priced = major["price"]
    assert priced["gross"] == {"amount": "120000.00", "currency": "CNY"}

    # Sales quotes it; the customer accepts; finance bills it: the same money to the fen.
    quote = quote_create(customer=customer, quote_date=timezone.localdate())
    line = quote_add_line(
        quote=quote,
        service=ServiceItem.objects.get(code=UPGRADE_CONTRACT),
        quantity=1,
        product="KMS",
        target_major=9,
    )
    for amount in ("net", "vat", "gross"):
        assert getattr(line, amount) == Money(priced[amount]["amount"], priced[amount]["currency"]), amount
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="李雷", ip=None)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    invoice = invoice_issue(invoice=Invoice.objects.get(customer=customer))
    billed = invoice.lines.get(description__startswith=line.description)
    assert (billed.net, billed.vat, billed.gross) == (line.net, line.vat, line.gross)
    lines_gross = sum((row.gross for row in invoice.lines.all()), Money(0, "CNY"))
    assert invoice_totals(invoice)["gross"] == lines_gross == Money("170000.00", "CNY")  # with the period fee

    # The upgrade contract now covers the upgrade, and still nothing of EIS.
    now = timezone.localtime().isoformat()
    included = check(service="upgrade", product="KMS", from_version="8.5.2", to_version="9.0.0", at=now)
    assert (included["outcome"], included["price"]) == ("included", None)
    assert check(service="defect-fix", product="EIS", at=now)["outcome"] == "not_covered"

    # Contract years: the unused trainings of 2025 cannot be drawn by dating a use back.
    refused = client.post(
        CONSUME,
        {
            "customer": "STORY14",
            "service": "customer-training",
            "quantity": 1,
            "ticket": "TK-14",
            "at": "2025-06-02T10:00:00+08:00",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="story14-training",
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("closed-contract-year")
    assert not ConsumptionEntry.objects.filter(customer=customer).exists()
