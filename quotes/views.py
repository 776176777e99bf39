"""The customer's pages for a quote, reached through a signed link without a login."""

from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET, require_http_methods

from billing.errors import BillingError
from billing.signed_answer import answer_page
from quotes.documents import quote_context
from quotes.services import CUSTOMER_ANSWER, quote_customer_answer, quote_from_token


@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    return answer_page(
        request,
        token,
        link=CUSTOMER_ANSWER,
        template="quotes/answer.html",
        answer=lambda document, **answer: quote_customer_answer(quote=document, **answer),
        context=quote_context,
    )


@require_GET
def pdf(request, token: str):
    try:
        quote = quote_from_token(token)
    except BillingError as error:
        raise Http404 from error
    if not quote.pdf:
        raise Http404
    return FileResponse(
        quote.pdf.open("rb"), content_type="application/pdf", filename=f"{quote.reference}.pdf"
    )
