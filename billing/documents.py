"""What every priced document (a quote, an invoice or credit note) shows below its header."""

from django.conf import settings

from billing.money import rmb_capitals


def priced_document(lines, totals: dict) -> dict:
    """Its own lines, travel passed through at cost apart, the totals with the total in Chinese capitals,
    and the vendor."""
    lines = list(lines)
    return {
        "lines": [line for line in lines if not line.pass_through],
        "travel_lines": [line for line in lines if line.pass_through],
        "totals": totals,
        "capitals": rmb_capitals(totals["gross"].amount),
        "vendor": settings.VENDOR,
    }


class PricedLine:
    """What a stored document line (quote line, invoice line) prints beside its list amount: its amount,
    the list amount less the discount (the gross of a price with VAT, else the net), and the discount."""

    @property
    def amount(self):
        return self.gross if self.tax_inclusive or self.pass_through else self.net

    @property
    def discount_amount(self):
        return self.list_amount - self.amount
