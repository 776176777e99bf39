import datetime
import zoneinfo

import pytest

from tests.factories import CustomerFactory, LicensedProductFactory, ServicePeriodFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def customer(catalogue):
    """A standard-tier customer covered 2025-01-01..2027-12-31, licensing KMS 8.5.2, in Beijing."""
    customer = CustomerFactory(code="ACME", city="北京")
    period = ServicePeriodFactory(contract__customer=customer)
    LicensedProductFactory(contract=period.contract, version="8.5.2")
    return customer
