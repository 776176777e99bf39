"""What every priced document (a quote, an invoice or credit note) shows below its header."""

from django.conf import settings

from billing.money import capitals


def priced_document(lines, totals: dict) -> dict:
    """Its own lines (travel at cost that is part of our taxable sale among them, with its VAT), travel
    kept outside our VAT apart, the totals with a total in yuan in Chinese capitals, and the vendor."""
    lines = list(lines)
    return {
        "lines": [line for line in lines if not line.outside_vat],
        "travel_lines": [line for line in lines if line.outside_vat],
        "totals": totals,
        "capitals": capitals(totals["gross"]),
        "vendor": settings.VENDOR,
    }


class PricedLine:
    """What a stored document line (quote line, invoice line) prints beside its list amount: its amount,
    the list amount less the discount (the gross of a price with VAT, else the net), and the discount."""

    @property
    def outside_vat(self) -> bool:
        """Travel passed through at cost with no VAT of ours (settings.TRAVEL_VAT "outside", or billed
        before travel was taxed): shown and totalled apart from the taxable sale."""
        return self.pass_through and not self.vat_rate

    @property
    def amount(self):
        return self.gross if self.tax_inclusive or self.pass_through else self.net

    @property
    def discount_amount(self):
        return self.list_amount - self.amount
