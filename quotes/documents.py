"""What a quote document shows (the PDF and the customer's page share it)."""

from django.conf import settings

from billing.money import rmb_capitals
from quotes.models import Quote
from quotes.services import quote_totals


def quote_context(quote: Quote) -> dict:
    totals = quote_totals(quote)
    return {
        "quote": quote,
        "customer": quote.customer,
        "lines": [line for line in quote.lines.all() if not line.pass_through],
        "travel_lines": [line for line in quote.lines.all() if line.pass_through],
        "totals": totals,
        "capitals": rmb_capitals(totals["gross"].amount),
        "vendor": settings.VENDOR,
    }
