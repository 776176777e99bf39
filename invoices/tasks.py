"""Invoice work run by Celery: thin, idempotent wrappers around services."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from billing.dispatch import send_task
from billing.pdf import render_pdf, sha256
from invoices.documents import invoice_context
from invoices.models import Invoice, InvoiceRun, RunStatus
from invoices.red_letter import red_letter_requests_expire
from invoices.services import (
    INVOICE_RUN_CHUNK,
    charges_collect,
    invoice_run_bill,
    invoice_run_fail,
    invoice_run_prepare,
    overdue_reminders_send,
    pending_work_dispatch,
)


@shared_task(acks_late=True, autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def execute_invoice_run(run_id: int) -> dict:
    """Starts (or starts again) an invoice run and shares its customers out in tasks of
    INVOICE_RUN_CHUNK, so every worker bills a part; billing each customer is atomic, so a retry bills
    nothing twice."""
    run = InvoiceRun.objects.get(pk=run_id)
    try:
        customer_ids = invoice_run_prepare(run=run)
        parts = [
            customer_ids[start : start + INVOICE_RUN_CHUNK]
            for start in range(0, len(customer_ids), INVOICE_RUN_CHUNK)
        ]
        for part in parts:
            if not send_task(bill_invoice_run_part, run_id, part):
                raise RuntimeError("the broker took no part of the run")  # retried: prepared again
    except Exception as error:
        invoice_run_fail(run_id=run_id, error=str(error))
        raise
    return {"customers": len(customer_ids), "parts": len(parts)}


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def bill_invoice_run_part(self, run_id: int, customer_ids: list[int]) -> int:
    """Bills a part of a run's customers; the part that bills the last one marks the run done."""
    run = InvoiceRun.objects.get(pk=run_id)
    again = bool(self.request.retries or (self.request.delivery_info or {}).get("redelivered"))
    if again:  # this part's failure marked the run failed; it goes on
        InvoiceRun.objects.filter(pk=run_id, status=RunStatus.FAILED).update(status=RunStatus.RUNNING)
    try:
        invoice_run_bill(run=run, customer_ids=customer_ids, again=again)
    except Exception as error:
        invoice_run_fail(run_id=run_id, error=str(error))
        raise
    return len(customer_ids)


@shared_task(acks_late=True)
def render_invoice_pdf(invoice_id: int) -> str:
    """Renders an issued invoice's PDF once and stores it with its SHA-256."""
    invoice = Invoice.objects.select_related("customer", "credits").get(pk=invoice_id)
    if invoice.pdf_sha256:
        return invoice.pdf_sha256
    with override("zh-hans"):
        data = render_pdf("invoices/invoice_pdf.html", invoice_context(invoice))
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if not invoice.pdf_sha256:
            invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(data), save=False)
            invoice.pdf_sha256 = sha256(data)
            invoice.save(update_fields=["pdf", "pdf_sha256"])
    return invoice.pdf_sha256


@shared_task
def send_overdue_reminders() -> int:
    return len(overdue_reminders_send(today=timezone.localdate()))


@shared_task
def dispatch_pending_work(older_than_seconds: int | None = None) -> dict[str, int]:
    """Beat (every ten minutes): collects what became billable, so that the unbilled list, which only
    reads, is never more than ten minutes behind; then sends again the runs and invoice PDFs whose task
    never reached the broker."""
    charges_collect(up_to=timezone.localdate())
    if older_than_seconds is None:
        older_than_seconds = settings.DISPATCH_PENDING_AFTER_SECONDS
    return pending_work_dispatch(older_than=datetime.timedelta(seconds=older_than_seconds))


@shared_task
def void_unconfirmed_red_letter_forms() -> int:
    """Beat: red-letter forms the buyer did not confirm in time are recorded void (pages show them void
    before this runs)."""
    return red_letter_requests_expire()
