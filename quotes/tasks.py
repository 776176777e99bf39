"""Quote work run by Celery: thin wrappers around services, safe to run twice."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from billing.pdf import render_pdf, sha256
from quotes.documents import quote_context
from quotes.models import Quote
from quotes.services import quote_pdfs_dispatch, quotes_apply_closing_rule, quotes_draft_renewals


@shared_task(acks_late=True)
def render_quote_pdf(quote_id: int) -> str:
    """Renders a quote's PDF and stores it with its SHA-256; a quote that has one keeps it."""
    quote = Quote.objects.select_related("customer").get(pk=quote_id)
    if quote.pdf and quote.pdf_sha256:
        return quote.pdf_sha256
    with override("zh-hans"):
        data = render_pdf("quotes/quote_pdf.html", quote_context(quote))
    digest = sha256(data)
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=quote_id)
        if not quote.pdf_sha256:
            quote.pdf.save(f"{quote.reference}.pdf", ContentFile(data), save=False)
            quote.pdf_sha256 = digest
            quote.save(update_fields=["pdf", "pdf_sha256"])
    return quote.pdf_sha256


@shared_task
def apply_closing_rule() -> dict:
    closed, final = quotes_apply_closing_rule()
    return {"closed": closed, "final": final}


@shared_task
def draft_renewal_quotes() -> list[str]:
    return [quote.reference for quote in quotes_draft_renewals(today=timezone.localdate())]


@shared_task
def dispatch_pending_pdfs(older_than_seconds: int | None = None) -> int:
    """Beat: renders the PDFs of quotes sent while the broker was away."""
    if older_than_seconds is None:
        older_than_seconds = settings.DISPATCH_PENDING_AFTER_SECONDS
    return quote_pdfs_dispatch(older_than=datetime.timedelta(seconds=older_than_seconds))
