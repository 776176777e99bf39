"""What every priced document (a quote, an invoice or credit note) shows below its header."""

from django.conf import settings

from billing.money import capitals


def priced_document(lines, totals: dict) -> dict:
    """Its own lines, travel passed through at cost apart, the totals with a total in yuan in Chinese
    capitals, and the vendor."""
    lines = list(lines)
    return {
        "lines": [line for line in lines if not line.pass_through],
        "travel_lines": [line for line in lines if line.pass_through],
        "totals": totals,
        "capitals": capitals(totals["gross"]),
        "vendor": settings.VENDOR,
    }
