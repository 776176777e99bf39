"""Invoice work run by Celery: thin, idempotent wrappers around services."""

from celery import shared_task

from invoices.models import InvoiceRun, RunStatus
from invoices.services import invoice_run_execute


@shared_task(acks_late=True, autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def execute_invoice_run(run_id: int) -> dict:
    """Runs (or goes on with) an invoice run; billing each customer is atomic, so a retry bills nothing
    twice."""
    run = InvoiceRun.objects.get(pk=run_id)
    try:
        run = invoice_run_execute(run=run)
    except Exception as error:
        InvoiceRun.objects.filter(pk=run_id).update(status=RunStatus.FAILED, error=str(error)[:2000])
        raise
    return {"customers": run.customers_done, "invoices": run.invoices_created}
