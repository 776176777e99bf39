"""The customer portal's pages (/portal/): sign-in by one-time link, then the customer's own account.

Pages read through the apps' selectors and act through their services; they own no rule."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from billing.client_address import client_address
from billing.closing import closing_dates
from billing.dispatch import send_task
from billing.errors import BillingError
from billing.signed_answer import document_answer_page
from catalog.models import ChannelHours, EmergencyCoverWindow, HolidayScheduleDay, ProductVersion, ServiceTier
from catalog.selectors import opening_hours
from catalog.versions import UpgradeKind, upgrade_kind
from contracts.entitlements import decide
from contracts.fapiao_details import FAPIAO_FIELDS, FapiaoDetailsInvalid, fapiao_details_of
from contracts.models import (
    ChargeRequest,
    ChargeStatus,
    FapiaoDetails,
    PeriodKind,
    PortalAction,
    PortalRole,
    QuotaKind,
)
from contracts.portal_access import (
    PORTAL_SCOPE,
    portal_access_of,
    portal_activity_record,
    portal_billing_details_save,
    portal_language_set,
    portal_password_set,
    portal_password_user,
    portal_sign_out_everywhere,
    portal_signed_in,
)
from contracts.portal_forms import contacts_with_access, portal_access_post
from contracts.selectors import PERIOD_STATUS_LABELS, consumption_ledger, customer_coverage
from contracts.services import CUSTOMER_ANSWER as CHARGE_ANSWER
from contracts.services import charge_request_customer_answer, charge_request_price
from contracts.setup import SetupInvalid
from contracts.tasks import send_portal_sign_in_link
from invoices.documents import invoice_pdf_content
from invoices.models import Invoice, InvoiceStatus, Payment
from invoices.selectors import (
    FAPIAO_PREFETCH,
    fapiao_numbers,
    invoice_balance_sql,
    statement_of_account,
    statement_period_asked,
)
from invoices.statements import statement_file_name, statement_pdf
from portal.access import portal_page, private
from quotes.documents import quote_context
from quotes.models import Quote, QuoteKind, QuoteStatus
from quotes.services import CUSTOMER_ANSWER as QUOTE_ANSWER
from quotes.services import quote_customer_answer, quote_request, quote_requestable_services

COMMUNITY_SERVICE = "site-support"  # the customer community account (客户社区服务账号) is this service


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)


class PasswordSignInForm(SignInForm):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)


def _limited(request, email: str) -> bool:
    """The sign-in form's rate limits: per client address and per e-mail address (both counted)."""
    rate = settings.PORTAL_SIGN_IN_RATE
    if is_ratelimited(
        request, group="portal-sign-in-ip", key=lambda _g, r: client_address(r), rate=rate, increment=True
    ):
        return True  # not counted against the address: one client cannot lock others' addresses out
    return is_ratelimited(
        request, group="portal-sign-in-email", key=lambda _g, _r: email.lower(), rate=rate, increment=True
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if safe and target.startswith("/portal/") else "/portal/"


def sign_in(request):
    """Asks for an address and mails a link when it belongs to a contact with access; the answer is the
    same for every address, and too many tries (per address or per client) wait. A contact who set a
    password may sign in with it instead (the same limits; one answer for every wrong pair)."""
    with_password = request.method == "POST" and "pw-password" in request.POST
    form = SignInForm(None if with_password else request.POST or None)
    password_form = PasswordSignInForm(request.POST if with_password else None, prefix="pw")
    status, sent, wrong = 200, False, False
    bound = password_form if with_password else form
    if request.method == "POST" and bound.is_valid():
        if _limited(request, bound.cleaned_data["email"]):
            status = 429
        elif with_password:
            user = portal_password_user(
                request=request, email=bound.cleaned_data["email"], password=bound.cleaned_data["password"]
            )
            if user is not None:
                return _signed_in(request, user)
            status, wrong = 400, True
        else:
            # the same work for any address; the link leads where the contact was going
            send_task(send_portal_sign_in_link, form.cleaned_data["email"], _next(request))
            form, sent = SignInForm(), True
    context = {
        "form": form,
        "password_form": PasswordSignInForm(prefix="pw") if not with_password or wrong else password_form,
        "sent": sent,
        "wrong": wrong,
        "limited": status == 429,
        "next": _next(request),
    }
    return private(render(request, "portal/sign_in.html", context, status=status))


def _signed_in(request, user):
    login(request, user)
    request.session.set_expiry(settings.PORTAL_SESSION_HOURS * 3600)
    portal_signed_in(portal_access_of(user))
    return private(redirect(_next(request)))


def enter(request):
    """The mailed link. GET asks to confirm (mail scanners that open links do not use the one-time token);
    POST signs in."""
    token = request.POST.get("sesame") or request.GET.get("sesame") or ""
    if request.method == "POST":
        user = authenticate(request, sesame=token, scope=PORTAL_SCOPE)
        if user is not None and portal_access_of(user) is not None:
            return _signed_in(request, user)
        return private(render(request, "portal/link_invalid.html", status=400))
    return private(render(request, "portal/enter.html", {"token": token, "next": _next(request)}))


@require_POST
def sign_out(request):
    """Ends the contact's session (with ``everywhere``, every session and link of it); a staff user's
    session is not the portal's to end."""
    if portal_access_of(request.user) is not None:
        if "everywhere" in request.POST:
            portal_sign_out_everywhere(request.user)
        logout(request)
    return private(redirect("portal:sign-in"))


@require_POST
@portal_page()
def language(request):
    portal_language_set(access=request.portal, language=request.POST.get("language", ""))
    return redirect(_next(request))


@portal_page()
def home(request):
    """Each service period by contract and product, free or paid, its end and the days left, the tier in
    force, and whether the community account is covered today (the entitlement decision's answer)."""
    customer = request.portal.contact.customer
    today = timezone.localdate()
    coverage = customer_coverage(customer=customer, today=today)
    products = {}
    for licence in coverage["products"]:
        products.setdefault(licence["contract"], []).append(licence)
    for period in coverage["periods"]:
        period["days_left"] = (period["end"] - today).days if period["end"] >= today else None
        period["status_label"] = PERIOD_STATUS_LABELS[period["status"]]
        period["kind_label"] = PeriodKind(period["kind"]).label
        period["products"] = products.get(period["contract"], [])
    try:
        community = decide(customer=customer, service=COMMUNITY_SERVICE, at=timezone.now()).outcome
    except BillingError:
        community = None
    context = {
        "customer": customer,
        "coverage": coverage,
        "community_covered": community == "included",
        "today": today,
        # a renewal offer sales have sent, to accept in place (the quote's own page)
        "renewal_offers": Quote.objects.filter(
            customer=customer, kind=QuoteKind.RENEWAL, status=QuoteStatus.SENT, valid_until__gte=today
        ),
    }
    return render(request, "portal/home.html", context)


PORTAL_BASE = {"base_template": "portal/base.html"}


def _answered(request, answer, subject: str, *, accepted: str, actions: tuple[str, str]):
    """The customer's answer given in the portal (``answer()``, a service), on the staff's timeline too, in
    one transaction."""
    with transaction.atomic():
        document = answer()
        action = actions[0] if document.status == accepted else actions[1]
        portal_activity_record(access=request.portal, action=action, subject=subject)
    return document


# What the vendor has not sent the customer yet stays out of the portal (404 like another customer's).
NOT_SENT_QUOTES = (QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED)
NOT_SENT_CHARGES = (ChargeStatus.PENDING_APPROVAL, ChargeStatus.PENDING_FINANCE, ChargeStatus.REJECTED)


def _customer(request):
    return request.portal.contact.customer


@portal_page()
def quotes(request):
    """The quotes sent to the customer (drafts stay with sales), newest first."""
    sent = (
        Quote.objects.filter(customer=_customer(request))
        .exclude(status__in=NOT_SENT_QUOTES)
        .order_by("-quote_date", "-pk")
    )
    return render(request, "portal/quotes.html", {"quotes": sent})


def _billing_answer(request, answer: dict) -> dict:
    """A quote commits the customer to pay: its billing (or admin) contacts answer it; the technical ones
    read it."""
    if not request.portal.has_role(PortalRole.BILLING):
        raise BillingError(
            _("Your portal roles let you read this quote; a billing contact accepts or declines it."),
            code="portal_role",
        )
    return answer


@portal_page()
def quote(request, pk: int):
    """A sent quote to read, download and accept or decline (the signed link's page, in the portal)."""
    document = get_object_or_404(
        Quote.objects.select_related("customer").exclude(status__in=NOT_SENT_QUOTES),
        pk=pk,
        customer=_customer(request),
    )
    return document_answer_page(
        request,
        document,
        link=QUOTE_ANSWER,
        template="quotes/answer.html",
        answer=lambda document, **answer: _answered(
            request,
            lambda: quote_customer_answer(quote=document, **_billing_answer(request, answer)),
            document.reference,
            accepted=QuoteStatus.ACCEPTED,
            actions=(PortalAction.QUOTE_ACCEPTED, PortalAction.QUOTE_DECLINED),
        ),
        context=quote_context,
        # a technical contact reads the quote; its billing contacts answer it
        extra=PORTAL_BASE
        if request.portal.has_role(PortalRole.BILLING)
        else {**PORTAL_BASE, "answerable": False},
    )


@portal_page(PortalRole.TECHNICAL)
def charge_requests(request):
    """Charge requests the customer is asked to confirm, then every other one it has answered or been
    sent."""
    shown = (
        ChargeRequest.objects.filter(customer=_customer(request))
        .exclude(status__in=NOT_SENT_CHARGES)
        .order_by("-pk")
    )
    for request_ in shown:
        request_.closes_at, request_.reopenable_until = closing_dates(
            request_,
            waiting=ChargeStatus.AWAITING_CUSTOMER,
            sent_field="sent_to_customer_at",
            closed=ChargeStatus.CLOSED,
        )
    waiting = [request_ for request_ in shown if request_.status == ChargeStatus.AWAITING_CUSTOMER]
    others = [request_ for request_ in shown if request_.status != ChargeStatus.AWAITING_CUSTOMER]
    return render(request, "portal/charge_requests.html", {"waiting": waiting, "others": others})


@portal_page(PortalRole.TECHNICAL)
def charge_request(request, pk: int):
    document = get_object_or_404(
        ChargeRequest.objects.select_related("customer").exclude(status__in=NOT_SENT_CHARGES),
        pk=pk,
        customer=_customer(request),
    )
    return document_answer_page(
        request,
        document,
        link=CHARGE_ANSWER,
        template="contracts/charge_request_answer.html",
        answer=lambda document, **answer: _answered(
            request,
            lambda: charge_request_customer_answer(request=document, **answer),
            document.ticket_ref,
            accepted=ChargeStatus.CONFIRMED,
            actions=(PortalAction.CHARGE_CONFIRMED, PortalAction.CHARGE_DECLINED),
        ),
        context=lambda charge: {"charge": charge, "price": charge_request_price(charge)},
        extra=PORTAL_BASE,
    )


@portal_page(PortalRole.BILLING)
def invoices(request):
    """Issued invoices and credit notes with what is open of each, its fapiao, and what is overdue."""
    today = timezone.localdate()
    documents = list(
        Invoice.objects.filter(customer=_customer(request), status=InvoiceStatus.ISSUED)
        .annotate(open_amount=invoice_balance_sql())
        .prefetch_related(FAPIAO_PREFETCH)
        .order_by("-issue_date", "-pk")
    )
    overdue: dict[str, Decimal] = {}
    for document in documents:
        document.fapiao = fapiao_numbers(document)
        document.overdue = bool(document.due_date and document.due_date < today and document.open_amount > 0)
        if document.overdue:
            overdue[document.currency] = overdue.get(document.currency, Decimal(0)) + document.open_amount
    payments = Payment.objects.filter(invoice__customer=_customer(request)).select_related("invoice")
    context = {
        "documents": documents,
        "overdue": sorted(overdue.items()),
        "payments": payments.order_by("-received_on", "-pk")[:200],
    }
    return render(request, "portal/invoices.html", context)


@portal_page(PortalRole.BILLING)
def invoice_pdf(request, number: str):
    document = get_object_or_404(
        Invoice, number=number, customer=_customer(request), status=InvoiceStatus.ISSUED
    )
    response = HttpResponse(invoice_pdf_content(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.number}.pdf"'
    return response


@portal_page(PortalRole.TECHNICAL)
def coverage(request):
    """What the customer's cover means: its licensed products and what each known version would be as an
    upgrade (minor and medium included, major a paid upgrade contract: catalog.versions), the response levels
    of the tier in force with their working-hour targets, the channels' hours and the holiday emergency
    line."""
    customer = _customer(request)
    today = timezone.localdate()
    cover = customer_coverage(customer=customer, today=today)
    versions = {}
    for version in ProductVersion.objects.select_related("product").order_by("major", "medium", "minor"):
        versions.setdefault(version.product.code, []).append(version)
    for licence in cover["products"]:
        licence["upgrades"] = []
        for version in versions.get(licence["product"], []):
            kind = upgrade_kind(licence["version"], version.version)
            if kind in (UpgradeKind.NONE, UpgradeKind.DOWNGRADE):
                continue
            licence["upgrades"].append(
                {
                    "version": version.version,
                    "kind": kind.label,
                    "included": kind.included_in_standard_service,
                }
            )
    tier = (
        ServiceTier.objects.prefetch_related("response_targets", "arrival_commitments")
        .select_related("calendar", "emergency_calendar")
        .filter(code=cover["tier"])
        .first()
    )
    context = {
        "cover": cover,
        "tier": tier,
        "channels": [
            (hours.get_channel_display(), opening_hours(hours.calendar))
            for hours in ChannelHours.objects.select_related("calendar").prefetch_related("calendar__windows")
        ],
        "holidays": HolidayScheduleDay.objects.filter(date__gte=today, date__year=today.year, kind="holiday"),
        "emergency_windows": EmergencyCoverWindow.objects.filter(date__gte=today),
    }
    return render(request, "portal/coverage.html", context)


@portal_page(PortalRole.TECHNICAL)
def quotas(request):
    """Free trainings and prepaid person-days: the allowance of the contract year, used and left, and each
    use with its ticket."""
    customer = _customer(request)
    cover = customer_coverage(customer=customer, today=timezone.localdate())
    shown = [{"quota": quota, "label": QuotaKind(quota.kind).label} for quota in cover["quotas"]]
    context = {"quotas": shown, "consumption": consumption_ledger(customer=customer, limit=200)}
    return render(request, "portal/quotas.html", context)


class BillingDetailsForm(forms.ModelForm):
    uscc = forms.CharField(label=_("Unified social credit code (USCC)"), max_length=30)

    class Meta:
        model = FapiaoDetails
        fields = list(FAPIAO_FIELDS)


@portal_page(PortalRole.BILLING)
def billing_details(request):
    """The invoice title (发票抬头), USCC, address, bank and billing e-mail the customer keeps; finance sees
    a change on the customer page's timeline before the next invoice."""
    customer = _customer(request)
    details = fapiao_details_of(customer)
    form = BillingDetailsForm(request.POST or None, instance=details, initial={"uscc": customer.uscc})
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FAPIAO_FIELDS}
        try:
            portal_billing_details_save(access=request.portal, uscc=form.cleaned_data["uscc"], data=data)
        except (FapiaoDetailsInvalid, SetupInvalid) as error:
            for name, texts in error.errors.items():
                form.add_error(name if name in form.fields else None, texts)
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Your billing details are saved. Thank you."))
            return redirect("portal:billing-details")
    return render(request, "portal/billing_details.html", {"form": form})


class QuoteRequestForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=quote_requestable_services())
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.5"), max_digits=8, decimal_places=2
    )
    note = forms.CharField(
        label=_("What do you need?"), widget=forms.Textarea, max_length=2000, required=False
    )


@portal_page()
def quote_request_page(request):
    """A request for a quote for any value-added service of the catalogue: it lands with sales as a draft."""
    form = QuoteRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                quote = quote_request(
                    customer=_customer(request),
                    service=form.cleaned_data["service"],
                    quantity=form.cleaned_data["quantity"],
                    note=form.cleaned_data["note"],
                    requested_by=request.portal.contact.name,
                )
                portal_activity_record(
                    access=request.portal, action=PortalAction.QUOTE_REQUESTED, subject=quote.reference
                )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                gettext("Your request %(reference)s is with our sales team: they will send you the quote.")
                % {"reference": quote.reference},
            )
            return redirect("portal:quotes")
    return render(request, "portal/quote_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
@portal_page(PortalRole.ADMIN)
def contacts(request):
    """The customer's portal admin gives its other contacts access and roles (the staff's form and rules)."""
    customer = _customer(request)
    if request.method == "POST":
        done, message = portal_access_post(request, customer)
        (messages.success if done else messages.error)(request, message)
        return redirect("portal:contacts")
    context = {
        "contacts": contacts_with_access(customer),
        "role_choices": PortalRole.choices,
        "activity": customer.portal_activity.select_related("contact")[:50],
    }
    return render(request, "portal/contacts.html", context)


@portal_page(PortalRole.BILLING)
def statement(request):
    """The statement of account (the staff's page and PDF, for the contact's own customer)."""
    customer = _customer(request)
    start, end, error = statement_period_asked(request.GET)
    context = {
        "customer": customer,
        "start": start,
        "end": end,
        "error": error,
        "statements": [],
        **PORTAL_BASE,
    }
    if not error:
        context["statements"] = statement_of_account(customer=customer, start=start, end=end)
        context["query"] = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    return render(request, "invoices/statement.html", context, status=400 if error else 200)


@portal_page(PortalRole.BILLING)
def statement_pdf_view(request):
    customer = _customer(request)
    start, end, error = statement_period_asked(request.GET)
    if error:
        return statement(request)
    response = HttpResponse(
        statement_pdf(customer=customer, start=start, end=end), content_type="application/pdf"
    )
    name = statement_file_name(customer=customer, start=start, end=end)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@portal_page()
def quote_pdf(request, pk: int):
    """A sent quote's PDF, for the contact's own customer (no bearer link in the portal)."""
    document = get_object_or_404(
        Quote.objects.exclude(status__in=NOT_SENT_QUOTES), pk=pk, customer=_customer(request)
    )
    if not document.pdf:
        raise Http404
    response = HttpResponse(document.pdf.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.reference}.pdf"'
    return response


@require_http_methods(["GET", "POST"])
@portal_page()
def password(request):
    """An optional password beside the mailed links (Django's password rules)."""
    form = SetPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        portal_password_set(access=request.portal, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)  # this session stays; the others keep theirs
        messages.success(request, gettext("Your password is set: sign in with it or with a mailed link."))
        return redirect("portal:home")
    return render(request, "portal/password.html", {"form": form})
