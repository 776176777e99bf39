"""The customer's pages for a quote, reached through a signed link without a login."""

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from billing.errors import BillingError
from quotes.documents import quote_context
from quotes.services import quote_answerable, quote_customer_answer, quote_from_token


@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    try:
        quote = quote_from_token(token)
    except BillingError as error:
        return render(request, "quotes/answer.html", {"error": error}, status=404)
    error = None
    if request.method == "POST" and request.POST.get("answer") in ("accept", "decline"):
        try:
            quote = quote_customer_answer(
                quote=quote,
                accept=request.POST["answer"] == "accept",
                name=request.POST.get("name", ""),
                ip=request.META.get("REMOTE_ADDR"),
            )
        except BillingError as failure:
            error = failure
    context = {**quote_context(quote), "token": token, "error": error}
    context["answerable"] = quote_answerable(quote, now=timezone.now())
    return render(request, "quotes/answer.html", context, status=400 if error else 200)


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
