"""The staff start page and the second factor of signing in."""

from base64 import b32encode

import segno
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import user_has_device

from billing.forms import SecondFactorForm
from billing.second_factor import enrolment_confirm, enrolment_device, second_factor_verify
from billing.staff import run_service

# A staff member's start page by what they do, most specific first (names of URL patterns).
HOME_BY_PERMISSION = [
    ("invoices.view_invoicerun", "invoices:runs"),
    ("contracts.approve_chargerequest", "contracts:charge-requests"),
    ("quotes.add_quote", "invoices:quotes"),
    ("contracts.view_customer", "contracts:entitlement-lookup"),
]


@login_required
def staff_home(request):
    """Sends each role to the page its work starts on: finance to invoice runs, account managers to the
    charge requests waiting for them, sales to their quotes, others to the entitlement lookup."""
    if request.user.is_superuser:
        return redirect("admin:index")
    for permission, page in HOME_BY_PERMISSION:
        if request.user.has_perm(permission):
            return redirect(page)
    raise PermissionDenied


def _next_page(request, candidate: str) -> str:
    """Where to go once the second factor is passed: the page asked for, if it is one of ours."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("staff-home")


def _passed(request, device) -> None:
    request.session.cycle_key()  # a session id known before the second factor is worth nothing after
    otp_login(request, device)


@never_cache
@login_required
def second_factor_verify_page(request):
    """The second step of signing in: a code from the TOTP app, or a recovery code."""
    if not user_has_device(request.user):
        return redirect("second-factor-enrol")
    if request.user.is_verified():
        return redirect(_next_page(request, request.GET.get("next", "")))
    form = SecondFactorForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST" and form.is_valid():
        ok, device = run_service(
            request, lambda: second_factor_verify(user=request.user, code=form.cleaned_data["code"])
        )
        if ok:
            _passed(request, device)
            return redirect(_next_page(request, form.cleaned_data["next"]))
    return render(request, "billing/second_factor_verify.html", {"form": form})


@never_cache
@login_required
def second_factor_enrol_page(request):
    """Enrolment of a TOTP app: its secret (otpauth link, QR code, the key to type), confirmed with a first
    code; the ten recovery codes are shown once, on the answer to that confirmation."""
    if user_has_device(request.user):
        return redirect("second-factor-verify")
    device = enrolment_device(user=request.user)
    form = SecondFactorForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST" and form.is_valid():
        ok, result = run_service(
            request, lambda: enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
        )
        if ok:
            device, codes = result
            _passed(request, device)
            next_page = _next_page(request, form.cleaned_data["next"])
            return render(
                request, "billing/second_factor_recovery_codes.html", {"codes": codes, "next_page": next_page}
            )
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "otpauth": device.config_url,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4)),  # segno's SVG
    }
    return render(request, "billing/second_factor_enrol.html", context)
