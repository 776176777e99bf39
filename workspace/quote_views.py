"""Staff pages of quotes: the builder (create, add lines from the catalogue, travel, discount, submit,
approve a large discount, send, revise); the lists are in workspace.quote_lists. Each POST calls one
service and comes back to the quote; a BillingError becomes a message on the page."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.errors import BillingError
from billing.mail import absolute_url
from billing.staff import form_errors_message, run_service
from contracts.models import ServicePeriod
from contracts.ownership import acts_for
from quotes.documents import quote_context
from quotes.models import LineKind, Quote, QuoteLine, QuoteStatus
from quotes.services import (
    customer_link_token,
    quote_add_line,
    quote_add_travel,
    quote_approve_discount,
    quote_can_approve,
    quote_cancel,
    quote_change_line,
    quote_create,
    quote_draft_renewal,
    quote_fingerprint,
    quote_may_send,
    quote_needs_approval,
    quote_remove_line,
    quote_revise,
    quote_send,
    quote_set_discount,
    quote_submit,
)
from workspace.quote_forms import (
    QuoteApprovalForm,
    QuoteDiscountForm,
    QuoteLineChangeForm,
    QuoteLineForm,
    QuoteNewForm,
    QuoteTravelChangeForm,
    QuoteTravelForm,
)

CENT = Decimal("0.01")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("quotes.add_quote", raise_exception=True)
def quote_new(request):
    form = QuoteNewForm(request.POST or None, initial={"customer": request.GET.get("customer")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            quote = quote_create(
                customer=data["customer"],
                contract=data["contract"],
                valid_until=data["valid_until"],
                discount=data["discount"],
                notes=data["notes"],
                terms=data["terms"],
                created_by=request.user,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            return redirect("quotes:builder", pk=quote.pk)
    return render(request, "quotes/quote_new.html", {"form": form})


@require_GET
@login_required
@permission_required("quotes.view_quote", raise_exception=True)
def quote_builder(request, pk: int):
    quote = get_object_or_404(Quote.objects.select_related("customer", "rate_card", "approved_by"), pk=pk)
    # the steps the services would refuse are not offered: another manager's customer's quote is read only
    may_change = request.user.has_perm("quotes.change_quote") and acts_for(
        user=request.user, customer=quote.customer
    )
    context = {
        **quote_context(quote),
        "may_change": may_change,
        "editable": not quote.locked and may_change,
        "needs_approval": quote_needs_approval(quote),
        "can_approve": quote_can_approve(quote, request.user),
        "line_form": QuoteLineForm(),
        "travel_form": QuoteTravelForm(),
        "discount_form": QuoteDiscountForm(initial={"discount": (quote.discount * 100).quantize(CENT)}),
        "approval_form": QuoteApprovalForm(initial={"seen": quote_fingerprint(quote)}),
        "revisions": Quote.objects.filter(number=quote.number).exclude(pk=quote.pk).order_by("-revision"),
    }
    answerable = (QuoteStatus.SENT, QuoteStatus.CLOSED, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED)
    if quote.status in answerable and quote_may_send(request.user):
        context["customer_link"] = absolute_url(reverse("quotes:answer", args=[customer_link_token(quote)]))
    return render(request, "quotes/builder.html", context)


def _edit(request, pk: int, form_class, action):
    """Validates a builder form and applies its service to the quote; errors come back as messages."""
    quote = get_object_or_404(Quote, pk=pk)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        form_errors_message(request, form)
        return redirect("quotes:builder", pk=quote.pk)
    done, result = run_service(request, lambda: action(quote, form.cleaned_data if form else None))
    if not done:
        return redirect("quotes:builder", pk=quote.pk)
    target = result if isinstance(result, Quote) else Quote.objects.get(pk=quote.pk)
    messages.success(request, f"{target.reference}: {target.get_status_display()}")
    return redirect("quotes:builder", pk=target.pk)


@require_POST
@login_required
@permission_required("quotes.change_quote", raise_exception=True)
def quote_line_add(request, pk: int):
    def add(quote, data):
        return quote_add_line(
            quote=quote,
            service=data["service"],
            quantity=data["quantity"],
            basis=data["basis"] or None,
            role=data["role"],
            delivery_mode=data["delivery_mode"],
            discount=data["discount"],
            description=data["description"],
            invoicing_policy=data["invoicing_policy"] or None,
            product=data["product"],
            target_major=data["target_major"],
            by=request.user,
        )

    return _edit(request, pk, QuoteLineForm, add)


@require_POST
@login_required
@permission_required("quotes.change_quote", raise_exception=True)
def quote_travel_add(request, pk: int):
    def add(quote, data):
        return quote_add_travel(
            quote=quote, description=data["description"], amount=data["amount"], by=request.user
        )

    return _edit(request, pk, QuoteTravelForm, add)


@require_POST
@login_required
@permission_required("quotes.change_quote", raise_exception=True)
def quote_discount(request, pk: int):
    def set_discount(quote, data):
        return quote_set_discount(quote=quote, discount=data["discount"], by=request.user)

    return _edit(request, pk, QuoteDiscountForm, set_discount)


@require_POST
@login_required
@permission_required("quotes.approve_discount", raise_exception=True)
def quote_approve(request, pk: int):
    def approve(quote, data):
        return quote_approve_discount(quote=quote, by=request.user, reason=data["reason"], seen=data["seen"])

    return _edit(request, pk, QuoteApprovalForm, approve)


STEPS = {
    "submit": lambda quote, user: quote_submit(quote=quote, by=user),
    "send": lambda quote, user: quote_send(quote=quote, by=user),
    "revise": lambda quote, user: quote_revise(quote=quote, by=user),
    "cancel": lambda quote, user: quote_cancel(quote=quote, by=user),
}


@require_POST
@login_required
@permission_required("quotes.change_quote", raise_exception=True)
def quote_step(request, pk: int, step: str):
    if step not in STEPS:
        raise Http404
    return _edit(request, pk, None, lambda quote, _data: STEPS[step](quote, request.user))


@require_GET
@login_required
@permission_required("quotes.view_quote", raise_exception=True)
def quote_pdf(request, pk: int):
    quote = get_object_or_404(Quote, pk=pk)
    if not quote.pdf:
        raise Http404
    return FileResponse(
        quote.pdf.open("rb"), content_type="application/pdf", filename=f"{quote.reference}.pdf"
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("quotes.change_quote", raise_exception=True)
def quote_line_change(request, pk: int, line_pk: int):
    """A line's quantity, discount and description (a travel estimate's amount), priced again by the
    service; a quote already sent comes back to the builder with the service's refusal."""
    line = get_object_or_404(
        QuoteLine.objects.select_related("quote__customer", "service"), pk=line_pk, quote=pk
    )
    quote, travel = line.quote, line.kind == LineKind.TRAVEL
    form_class = QuoteTravelChangeForm if travel else QuoteLineChangeForm
    initial = {"description": line.description}
    if travel:
        initial["amount"] = line.list_amount.amount
    else:
        initial |= {"quantity": line.quantity, "discount": (line.discount * 100).quantize(CENT)}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            quote_change_line(
                quote=quote,
                line=line,
                quantity=data.get("quantity"),
                discount=data.get("discount"),
                description=data["description"],
                amount=data.get("amount"),
                by=request.user,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Line %(position)s changed.") % {"position": line.position})
            return redirect("quotes:builder", pk=quote.pk)
    return render(request, "quotes/line_change.html", {"quote": quote, "line": line, "form": form})


@require_POST
@login_required
@permission_required("quotes.change_quote", raise_exception=True)
def quote_line_remove(request, pk: int, line_pk: int):
    line = get_object_or_404(QuoteLine.objects.select_related("quote"), pk=line_pk, quote=pk)
    done, _result = run_service(
        request, lambda: quote_remove_line(quote=line.quote, line=line, by=request.user)
    )
    if done:
        messages.success(request, _("Line %(position)s removed.") % {"position": line.position})
    return redirect("quotes:builder", pk=pk)


@require_POST
@login_required
@permission_required("quotes.add_quote", raise_exception=True)
def renewal_quote_draft(request, period_pk: int):
    """Drafts the period's renewal quote (or finds the one it has) and opens it in the builder."""
    period = get_object_or_404(ServicePeriod, pk=period_pk)
    done, quote = run_service(request, lambda: quote_draft_renewal(period=period, by=request.user))
    if not done:
        return redirect("quotes:pipeline")
    return redirect("quotes:builder", pk=quote.pk)
