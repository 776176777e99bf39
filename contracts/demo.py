"""Demo customers showing every case of the entitlement decision (`manage.py load_demo`)."""

import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from catalog.models import Product, ServiceTier
from contracts.fapiao_details import fapiao_details_save
from contracts.models import (
    Contact,
    Contract,
    ContractKind,
    Customer,
    CustomModule,
    LicensedProduct,
    PeriodKind,
    PersonDayBundle,
    PortalRole,
)
from contracts.portal_access import portal_invite
from contracts.services import period_add

D = datetime.date


DEMO_VERSIONS = {"KMS": "8.5.2", "EIS": "5.2.0"}


def _customers(today: datetime.date) -> list:
    """code, legal name, USCC, city, region, [(contract, kind, signed, licensed product or None for a renewal
    that continues the customer's first contract, [(period kind, start, end, tier, fee)])].
    DEMO-FREE, DEMO-GAP, DEMO-LAPSED and the DEMO-FEE customers are placed around the day they are loaded, so
    that each shows its case today."""
    month = today.replace(day=1)

    def months(n: int) -> datetime.date:
        return month + relativedelta(months=n)

    day_before = datetime.timedelta(days=1)
    return [
        ("DEMO-ACTIVE", "示例科技有限公司", "91110000802100433B", "北京", "北京市",
         [("HT-2024-001", ContractKind.PURCHASE, D(2024, 1, 1), "KMS", [(PeriodKind.FREE, D(2024, 1, 1), D(2024, 12, 31), "standard", 0)]),
          ("HT-2025-017", ContractKind.RENEWAL, D(2024, 12, 20), None, [(PeriodKind.PAID, D(2025, 1, 1), D(2027, 12, 31), "standard", 120000)])]),
        ("DEMO-FREE", "新购示例集团股份有限公司", "91310000MA1FL4XQ6K", "上海", "上海市",
         [("HT-DEMO-FREE", ContractKind.PURCHASE, months(-8), "KMS", [(PeriodKind.FREE, months(-8), months(4) - day_before, "standard", 0)])]),
        ("DEMO-GAP", "断档示例有限公司", "91440101MA59TQ2K77", "广州", "广东省",
         [("HT-DEMO-GAP-1", ContractKind.PURCHASE, months(-30), "KMS", [(PeriodKind.FREE, months(-30), months(-6) - day_before, "standard", 0)]),
          ("HT-DEMO-GAP-2", ContractKind.RENEWAL, months(-1), None, [(PeriodKind.PAID, months(2), months(14) - day_before, "standard", 80000)])]),
        ("DEMO-LAPSED", "过期示例有限公司", "91360100MA35K3RG4U", "南昌", "江西省",
         [("HT-DEMO-LAPSED", ContractKind.PURCHASE, months(-42), "KMS", [(PeriodKind.FREE, months(-42), months(-18) - day_before, "standard", 0)])]),
        ("DEMO-STRATEGIC", "战略伙伴示例集团有限公司", "91440300MA5D8EXQ1M", "深圳", "广东省",
         [("HT-2025-STR", ContractKind.STRATEGIC, D(2025, 1, 1), "KMS", [(PeriodKind.PAID, D(2025, 1, 1), D(2027, 12, 31), "strategic", 360000)])]),
        ("DEMO-TWO-PRODUCTS", "双产品示例有限公司", "91320100MA1MCQ7X2T", "南京", "江苏省",
         [("HT-DEMO-KMS", ContractKind.PURCHASE, months(-10), "KMS", [(PeriodKind.FREE, months(-10), months(14) - day_before, "standard", 0)]),
          ("HT-DEMO-EIS", ContractKind.PURCHASE, months(-36), "EIS", [(PeriodKind.FREE, months(-36), months(-12) - day_before, "standard", 0)])]),
        # Paid periods whose fee invoice (issued by invoices.demo) is overdue: one per tier's policy.
        ("DEMO-FEE-SUSPEND", "欠费暂停示例有限公司", "91330100MA2H7QK5X3", "杭州", "浙江省",
         [("HT-DEMO-FEE-S", ContractKind.PURCHASE, months(-17), "KMS", [(PeriodKind.FREE, months(-17), months(-5) - day_before, "standard", 0)]),
          ("HT-DEMO-FEE-S-R", ContractKind.RENEWAL, months(-6), None, [(PeriodKind.PAID, months(-5), months(7) - day_before, "standard", 60000)])]),
        ("DEMO-FEE-WARN", "欠费提醒战略伙伴示例有限公司", "91510100MA6CB3R8YK", "成都", "四川省",
         [("HT-DEMO-FEE-W", ContractKind.STRATEGIC, months(-5), "KMS", [(PeriodKind.PAID, months(-5), months(7) - day_before, "strategic", 240000)])]),
    ]  # fmt: skip


@transaction.atomic
def load(*, today: datetime.date | None = None) -> list[str]:
    """Creates the demo customers that do not exist yet; returns the codes created."""
    tiers = {t.code: t for t in ServiceTier.objects.all()}
    products = Product.objects.in_bulk(field_name="code")
    kms = products["KMS"]
    created = []
    for code, name, uscc, city, region, contracts in _customers(today or timezone.localdate()):
        customer, is_new = Customer.objects.get_or_create(
            code=code, defaults={"legal_name": name, "uscc": uscc, "city": city, "region": region}
        )
        if not is_new:
            continue
        created.append(code)
        contact = Contact.objects.create(
            customer=customer,
            name="张伟",
            title="IT 经理",
            email=f"it@{code.lower()}.example.com",
            is_primary=True,
        )
        # the customer portal: the primary contact is the customer's portal admin (README)
        portal_invite(contact=contact, roles=[PortalRole.ADMIN], by=None, notify=False)
        fapiao_details_save(  # the title is the legal name, a 专票 for a customer with a USCC
            customer=customer,
            data={
                "address": f"{city}市示范路 1 号",
                "phone": "010-8888 0000",
                "bank": "中国工商银行示范支行",
                "bank_account": "0200 0000 0000 0000",
                "email": f"fapiao@{code.lower()}.example.com",
            },
        )
        first = None
        for number, kind, signed_on, product, periods in contracts:
            contract = Contract.objects.create(
                customer=customer,
                number=number,
                kind=kind,
                signed_on=signed_on,
                continues=None if product else first,
            )
            first = first or contract
            if product:
                LicensedProduct.objects.create(
                    contract=contract, product=products[product], version=DEMO_VERSIONS[product]
                )
            for period_kind, start, end, tier, fee in periods:
                period_add(
                    contract=contract,
                    kind=period_kind,
                    start=start,
                    end=end,
                    tier=tiers[tier],
                    fee=Money(fee, "CNY"),
                )
        if code == "DEMO-ACTIVE":
            first = customer.contracts.get(number="HT-2024-001")
            CustomModule.objects.create(
                contract=first, product=kms, code="oa-approval", name="定制审批流模块"
            )
            PersonDayBundle.objects.create(
                contract=customer.contracts.get(number="HT-2025-017"),
                days=20,
                valid_from=D(2025, 1, 1),
                valid_until=D(2027, 12, 31),
                price=Money(36000, "CNY"),
                note="预付人天包",
            )
    return created
