"""Second factor (第二重验证) for staff with money powers: a TOTP app (django-otp's TOTPDevice) and ten
recovery codes (its StaticDevice, each code deleted when used). Who must pass it is billing.roles'
``has_money_powers``; this module enrols, verifies, and holds every page behind it until it is passed.

django-otp keeps the verified device in the session (``django_otp.login``); its TOTP and static devices
throttle wrong codes themselves (exponential back-off per device, OTP_*_THROTTLE_FACTOR)."""

import re
from urllib.parse import urlencode

from django.conf import settings
from django.core import checks
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.errors import BillingError
from billing.roles import has_money_powers

RECOVERY_CODES = 10
TOTP_DIGITS = re.compile(r"\d{6}")

# Views a signed-in user reaches before the second factor: signing in and out, the second factor's own
# pages, the language switch. The API authenticates by key, never by the session.
OPEN_VIEWS = {
    "admin:login",
    "admin:logout",
    "set_language",
    "second-factor-verify",
    "second-factor-enrol",
}


def needs_second_factor(user) -> bool:
    """Whether ``user`` must pass the second factor before going on (and has not yet in this session)."""
    if not settings.OTP_REQUIRED or not user.is_authenticated or user.is_verified():
        return False
    return has_money_powers(user)


class SecondFactorMiddleware:
    """Sends a user with money powers who has not passed the second factor to verify it (or to enrol when
    they have no device yet) before any other view runs: staff pages, the admin, any POST."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match.view_name in OPEN_VIEWS or match.route.startswith("api/"):
            return None
        if not needs_second_factor(request.user):
            return None
        page = reverse("second-factor-verify" if user_has_device(request.user) else "second-factor-enrol")
        if request.method in ("GET", "HEAD"):
            page += "?" + urlencode({"next": request.get_full_path()})
        return redirect(page)


def normalise_code(code: str) -> str:
    """Codes as people type them: spaces and dashes anywhere, recovery codes in any case."""
    return re.sub(r"[\s-]", "", code).lower()


@transaction.atomic
def enrolment_device(*, user) -> TOTPDevice:
    """The TOTP device ``user`` is enrolling (the same secret on every visit until it is confirmed)."""
    if user_has_device(user):
        raise BillingError(
            _("You already have a second factor; an administrator can reset it."),
            code="second_factor_enrolled",
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)


def _check(device: Device, code: str) -> tuple[bool, object]:
    """(accepted, the time it is locked until when throttling refused the try) for one device, locked."""
    device = type(device).objects.select_for_update().get(pk=device.pk)
    allowed, refusal = device.verify_is_allowed()
    if not allowed:
        return False, (refusal or {}).get("locked_until")
    return device.verify_token(code), None


def _refused(locked_until) -> BillingError:
    if locked_until is not None:
        return BillingError(
            _("Too many wrong codes: try again after %(time)s."),
            code="second_factor_throttled",
            params={"time": timezone.localtime(locked_until).strftime("%H:%M:%S")},
        )
    return BillingError(_("The code is not right."), code="second_factor_wrong_code")


def enrolment_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirms the device being enrolled with a first code from the app; returns it with ten new recovery
    codes (shown once: only they are stored, and each is deleted when used)."""
    code = normalise_code(code)
    with transaction.atomic():  # the throttling counter must be kept when the code is wrong
        device = enrolment_device(user=user)
        accepted, locked_until = _check(device, code) if TOTP_DIGITS.fullmatch(code) else (False, None)
        if accepted:
            device = TOTPDevice.objects.get(pk=device.pk)
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            StaticDevice.objects.filter(user=user).delete()
            recovery = StaticDevice.objects.create(user=user, name=str(_("Recovery codes")), confirmed=True)
            codes = [StaticToken.random_token() for _index in range(RECOVERY_CODES)]
            StaticToken.objects.bulk_create(StaticToken(device=recovery, token=token) for token in codes)
    if not accepted:
        raise _refused(locked_until)
    return device, codes


def second_factor_verify(*, user, code: str) -> Device:
    """The device that accepts ``code``: a six-digit code is tried on the TOTP app, anything else as a
    recovery code (which is then spent). A wrong code counts against the device it was tried on."""
    code = normalise_code(code)
    kind = TOTPDevice if TOTP_DIGITS.fullmatch(code) else StaticDevice
    locked_until = None
    with transaction.atomic():  # the throttling counter must be kept when the code is wrong
        for device in devices_for_user(user):
            if not isinstance(device, kind):
                continue
            accepted, locked = _check(device, code)
            if accepted:
                return type(device).objects.get(pk=device.pk)
            locked_until = locked_until or locked
    raise _refused(locked_until)


@checks.register(checks.Tags.security, deploy=True)
def second_factor_required_in_production(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.OTP_REQUIRED or settings.DEBUG:
        return []
    return [
        checks.Error(
            "OTP_REQUIRED is off with DEBUG off: staff with money powers would sign in without a second "
            "factor.",
            hint="Leave OTP_REQUIRED unset (on) in production; only `make run`'s demo turns it off.",
            id="billing.E001",
        )
    ]
