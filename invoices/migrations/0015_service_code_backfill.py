"""Fills the service a charge sells on charges and invoice lines written before they knew it, from their
sources, as the charge builders do (invoices.service_codes.charge_service_code: ``service_code`` below is
its copy, as a migration imports no app code; tests/invoices/test_service_codes.py checks they agree).
Credit-note lines sell the service of the line they credit. Reversing leaves the codes."""

from django.conf import settings
from django.db import migrations
from django.db.models import F, OuterRef, Subquery

CHARGE_REQUEST_SERVICE_CODE = "custom-development"
BATCH = 2000


def service_code(source: str, named: str = "") -> str:
    """A copy of invoices.service_codes.charge_service_code."""
    if source == "period_fee":
        return settings.PERIOD_FEE_SERVICE_CODE
    if source == "travel":
        return settings.TRAVEL_SERVICE_CODE
    if source == "quote_line":
        return named or settings.TRAVEL_SERVICE_CODE
    if source == "charge_request":
        return named or CHARGE_REQUEST_SERVICE_CODE
    return named


def _named(charge) -> str:
    """The service a charge's source names: the order line's (delivered work against an order, an ordered
    quote line), else the work log's, the quote line's, the charge request's or the data volume's."""
    by_source = {
        "work_log": charge.log_service,
        "quote_line": charge.quote_line_service,
        "charge_request": charge.request_service,
        "data_volume": charge.usage_service,
    }
    return charge.order_line_service or by_source.get(charge.source) or ""


def _source(model, field: str):
    return Subquery(model.objects.filter(pk=OuterRef("source_id")).values(field)[:1])


def backfill(apps, schema_editor) -> None:
    Charge = apps.get_model("invoices", "Charge")
    InvoiceLine = apps.get_model("invoices", "InvoiceLine")
    WorkLog = apps.get_model("invoices", "WorkLog")
    DataVolumeUsage = apps.get_model("invoices", "DataVolumeUsage")
    QuoteLine = apps.get_model("quotes", "QuoteLine")
    ChargeRequest = apps.get_model("contracts", "ChargeRequest")
    charges = (
        Charge.objects.filter(service_code="")
        .annotate(
            order_line_service=F("order_line__service__code"),
            log_service=_source(WorkLog, "service_code"),
            quote_line_service=_source(QuoteLine, "service__code"),
            request_service=_source(ChargeRequest, "service_code"),
            usage_service=_source(DataVolumeUsage, "service_code"),
        )
        .order_by("pk")
    )
    changed = []
    for charge in charges.iterator(chunk_size=BATCH):
        charge.service_code = service_code(charge.source, _named(charge))
        changed.append(charge)
    Charge.objects.bulk_update(changed, ["service_code"], batch_size=BATCH)

    lines = (
        InvoiceLine.objects.filter(service_code="", charge__isnull=False)
        .annotate(charge_service=F("charge__service_code"))
        .order_by("pk")
    )
    changed = []
    for line in lines.iterator(chunk_size=BATCH):
        line.service_code = line.charge_service
        changed.append(line)
    InvoiceLine.objects.bulk_update(changed, ["service_code"], batch_size=BATCH)

    credits = (
        InvoiceLine.objects.filter(service_code="", credits_line__isnull=False)
        .annotate(credited_service=F("credits_line__service_code"))
        .order_by("pk")
    )
    changed = []
    for line in credits.iterator(chunk_size=BATCH):
        line.service_code = line.credited_service
        changed.append(line)
    InvoiceLine.objects.bulk_update(changed, ["service_code"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0014_fapiao"),
        ("quotes", "0008_quote_cancelled"),
        ("contracts", "0010_fapiao"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
