"""Marks settled the issued invoices with nothing left to pay, by invoice_balance's rule: the lines' gross,
less the lines of issued credit notes, less payments, zero or less. ``open_amount`` below is a copy of
invoices.selectors.invoice_balance_sql, as a migration imports no app code; tests/invoices/test_settled.py
checks the backfill against invoice_balance. Reversing leaves the marks (the column goes with 0016)."""

from decimal import Decimal

from django.db import migrations
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

AMOUNTS = DecimalField(max_digits=14, decimal_places=2)


def _summed(queryset, field: str, *, per: str) -> Coalesce:
    total = queryset.order_by().values(per).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=AMOUNTS), Value(Decimal(0)), output_field=AMOUNTS)


def open_amount(apps):
    InvoiceLine = apps.get_model("invoices", "InvoiceLine")
    Payment = apps.get_model("invoices", "Payment")
    issued_credit_lines = InvoiceLine.objects.filter(
        invoice__credits=OuterRef("pk"), invoice__status="issued"
    )
    return (
        _summed(InvoiceLine.objects.filter(invoice=OuterRef("pk")), "gross", per="invoice")
        + _summed(issued_credit_lines, "gross", per="invoice__credits")
        - _summed(Payment.objects.filter(invoice=OuterRef("pk")), "amount", per="invoice")
    )


def backfill(apps, schema_editor) -> None:
    Invoice = apps.get_model("invoices", "Invoice")
    settled = Invoice.objects.filter(status="issued").annotate(open_amount=open_amount(apps))
    Invoice.objects.filter(pk__in=settled.filter(open_amount__lte=0).values("pk")).update(settled=True)


class Migration(migrations.Migration):
    dependencies = [("invoices", "0016_invoice_settled")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
