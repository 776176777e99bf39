"""What a quote document shows (the PDF and the customer's page share it)."""

from billing.documents import priced_document
from quotes.models import Quote
from quotes.services import quote_totals


def quote_context(quote: Quote) -> dict:
    return {
        "quote": quote,
        "customer": quote.customer,
        **priced_document(quote.lines.all(), quote_totals(quote)),
    }
