"""Which catalogue service a charge sells (its tax classification code is the fapiao line's): one rule for
the charge builders (invoices.services) and the data migration that fills older charges
(invoices/migrations/0015_service_code_backfill.py keeps a copy; tests/invoices/test_service_codes.py
checks that both agree)."""

from django.conf import settings

from invoices.models import ChargeSource

# A charge request that names no service is out-of-scope work priced by the person-day
# (contracts.services.charge_request_price): custom development.
CHARGE_REQUEST_SERVICE_CODE = "custom-development"


def charge_service_code(source: str, named: str = "") -> str:
    """The service a charge of ``source`` sells, ``named`` being the service its source names (the order
    line's or the work log's for delivered work, the ordered quote line's, the charge request's, the data
    volume's): a period fee is settings.PERIOD_FEE_SERVICE_CODE, travel (and an ordered line without a
    service, a travel estimate) settings.TRAVEL_SERVICE_CODE, a charge request naming none custom
    development."""
    if source == ChargeSource.PERIOD_FEE:
        return settings.PERIOD_FEE_SERVICE_CODE
    if source == ChargeSource.TRAVEL:
        return settings.TRAVEL_SERVICE_CODE
    if source == ChargeSource.QUOTE_LINE:
        return named or settings.TRAVEL_SERVICE_CODE
    if source == ChargeSource.CHARGE_REQUEST:
        return named or CHARGE_REQUEST_SERVICE_CODE
    return named
