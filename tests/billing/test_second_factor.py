"""Staff with money powers sign in with a second factor (TOTP app or a recovery code) before any staff page,
the admin or any POST; roles without money powers are not asked; a deployment may not turn it off."""

import time

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.roles import ROLES, has_money_powers, sync_roles
from billing.second_factor import second_factor_required_in_production
from invoices.models import InvoiceRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    """The suite's settings skip the second factor (force_login everywhere); these tests turn it on."""
    settings.OTP_REQUIRED = True


@pytest.fixture
def staff(django_user_model):
    sync_roles()
    users = {}
    for role in ROLES:
        user = django_user_model.objects.create_user(username=role, password="pw-" + role, is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = django_user_model.objects.get(pk=user.pk)
    return users


def signed_in(client, user):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


def app_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_code(device: TOTPDevice) -> str:
    """A six-digit code none of the codes the device accepts around now (its tolerance) is."""
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    near = set()
    for steps in range(-3, 4):
        clock.time = time.time() + steps * device.step
        near.add(f"{clock.token():06d}")
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in near)


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)


def with_recovery_codes(user, *codes: str) -> StaticDevice:
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return device


def verify(client, code: str, *, next_page: str = ""):
    return client.post(reverse("second-factor-verify"), {"code": code, "next": next_page})


def is_verified(client) -> bool:
    """Whether the session passed the second factor: a finance page opens."""
    return client.get(reverse("invoices:invoices")).status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("sales", False),
        ("sales_manager", True),  # approves large discounts
        ("account_manager", True),  # approves charge requests
        ("finance", True),
        ("administrator", True),
    ],
)
def test_the_roles_with_money_powers_are_the_approvers_finance_and_administrators(staff, role, expected):
    assert has_money_powers(staff[role]) is expected


def test_a_superuser_has_money_powers_whatever_his_groups(django_user_model):
    assert has_money_powers(django_user_model.objects.create_superuser("root", password="x"))


@pytest.mark.parametrize(
    "url_name",
    [
        "staff-home",
        "catalog:catalogue",
        "contracts:charge-requests",
        "invoices:invoices",
        "admin:index",
        "admin:invoices_invoice_changelist",
        "admin:auth_user_changelist",
    ],
)
def test_finance_is_sent_to_the_second_factor_before_staff_pages_and_the_admin(client, staff, url_name):
    enrolled(staff["finance"])
    response = signed_in(client, staff["finance"]).get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("second-factor-verify") + "?next=")


def test_finance_without_a_device_is_sent_to_enrol(client, staff):
    response = signed_in(client, staff["finance"]).get(reverse("invoices:invoices"))
    assert response.status_code == 302
    assert response["Location"] == reverse("second-factor-enrol") + "?next=%2Fstaff%2Finvoices%2F"


def test_a_post_before_the_second_factor_is_refused_and_changes_nothing(client, staff):
    enrolled(staff["finance"])
    response = signed_in(client, staff["finance"]).post(
        reverse("invoices:start-run"), {"up_to": "2026-01-31"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("second-factor-verify")
    assert not InvoiceRun.objects.exists()


def test_sales_is_not_asked_for_a_second_factor(client, staff):
    signed_in(client, staff["sales"])
    assert client.get(reverse("invoices:quotes")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


def test_signing_in_with_the_password_alone_does_not_open_the_admin(client, staff):
    enrolled(staff["finance"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(
        reverse("admin:login"),
        {"username": "finance", "password": "pw-finance", "next": "/admin/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("second-factor-verify") + "?next=%2Fadmin%2F"
    assert "six-digit code" in response.content.decode()


def test_the_sign_in_pages_stay_open_before_the_second_factor(client, staff):
    enrolled(staff["finance"])
    signed_in(client, staff["finance"])
    assert client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"}).status_code == 302
    assert client.get(reverse("second-factor-verify")).status_code == 200
    client.post(reverse("admin:logout"))
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_is_refused_and_counts_against_the_device(client, staff):
    device = enrolled(staff["finance"])
    response = verify(signed_in(client, staff["finance"]), wrong_code(device))
    assert response.status_code == 200
    assert "The code is not right." in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert not is_verified(client)


def test_the_right_code_from_the_app_lets_finance_in_to_the_page_asked_for(client, staff):
    device = enrolled(staff["finance"])
    response = verify(signed_in(client, staff["finance"]), app_code(device), next_page="/staff/payments/")
    assert response["Location"] == "/staff/payments/"
    assert is_verified(client)
    assert client.get(reverse("admin:invoices_invoice_changelist")).status_code == 200


def test_a_code_from_the_app_works_once(client, staff):
    device = enrolled(staff["finance"])
    code = app_code(device)
    assert verify(signed_in(client, staff["finance"]), code).status_code == 302
    client.logout()
    response = verify(signed_in(client, staff["finance"]), code)
    assert response.status_code == 200
    assert not is_verified(client)


def test_throttling_refuses_even_the_right_code_after_wrong_ones(client, staff):
    device = enrolled(staff["finance"])
    device.throttling_failure_count = 5  # the next try is allowed 16 seconds after the fifth wrong one
    device.throttling_failure_timestamp = timezone.now()
    device.save()
    response = verify(signed_in(client, staff["finance"]), app_code(device))
    assert "Too many wrong codes" in response.content.decode()
    assert not is_verified(client)


def test_a_recovery_code_lets_in_once(client, staff):
    enrolled(staff["finance"])
    with_recovery_codes(staff["finance"], "abcd2345", "efgh6723")
    assert verify(signed_in(client, staff["finance"]), "ABCD 2345").status_code == 302
    assert is_verified(client)
    client.logout()
    response = verify(signed_in(client, staff["finance"]), "abcd2345")
    assert "The code is not right." in response.content.decode()
    assert not is_verified(client)
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["efgh6723"]


def test_the_page_after_the_second_factor_is_never_another_site(client, staff):
    device = enrolled(staff["finance"])
    response = verify(
        signed_in(client, staff["finance"]), app_code(device), next_page="https://evil.example/"
    )
    assert response["Location"] == reverse("staff-home")


def test_enrolment_is_confirmed_by_a_first_code_and_shows_ten_recovery_codes_once(client, staff):
    signed_in(client, staff["finance"])
    page = client.get(reverse("second-factor-enrol") + "?next=/staff/payments/").content.decode()
    device = TOTPDevice.objects.get(user=staff["finance"], confirmed=False)
    assert "otpauth://totp/After-sales%20billing%3Afinance?secret=" in page
    assert "<svg" in page
    assert client.get(reverse("second-factor-enrol")).status_code == 200  # reloading keeps the secret
    assert TOTPDevice.objects.filter(user=staff["finance"]).count() == 1

    refused = client.post(reverse("second-factor-enrol"), {"code": wrong_code(device)})
    assert "The code is not right." in refused.content.decode()
    assert not is_verified(client)

    device.throttle_reset()  # a while later
    answer = client.post(
        reverse("second-factor-enrol"), {"code": app_code(device), "next": "/staff/payments/"}
    )
    codes = list(StaticToken.objects.filter(device__user=staff["finance"]).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code in answer.content.decode() for code in codes)
    assert answer["Cache-Control"].startswith("max-age=0, no-cache, no-store")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert is_verified(client)
    assert client.get(reverse("second-factor-enrol"))["Location"] == reverse("second-factor-verify")


def test_a_user_with_a_device_cannot_enrol_another(client, staff):
    device = enrolled(staff["finance"])
    signed_in(client, staff["finance"])
    assert client.get(reverse("second-factor-enrol"))["Location"] == reverse("second-factor-verify")
    response = client.post(reverse("second-factor-enrol"), {"code": app_code(device)})
    assert response["Location"] == reverse("second-factor-verify")
    assert list(TOTPDevice.objects.filter(user=staff["finance"])) == [device]
    assert not is_verified(client)


def test_an_administrator_resets_a_users_second_factor_in_the_admin(client, staff):
    lost = enrolled(staff["finance"])
    with_recovery_codes(staff["finance"], "abcd2345")
    admin = staff["administrator"]
    verify(signed_in(client, admin), app_code(enrolled(admin)))
    for model, device in (
        ("otp_totp_totpdevice", lost),
        ("otp_static_staticdevice", StaticDevice.objects.get()),
    ):
        response = client.post(reverse(f"admin:{model}_delete", args=[device.pk]), {"post": "yes"})
        assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff["finance"]).exists()

    finance = signed_in(Client(), staff["finance"])
    assert finance.get(reverse("invoices:invoices"))["Location"].startswith(reverse("second-factor-enrol"))


def test_the_admin_never_shows_a_device_secret(client, staff):
    device = enrolled(staff["finance"])
    admin = staff["administrator"]
    verify(signed_in(client, admin), app_code(enrolled(admin)))
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in page
    assert client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403


def test_the_deployment_check_refuses_the_second_factor_off_in_production(settings):
    settings.DEBUG, settings.OTP_REQUIRED = False, False
    assert [error.id for error in second_factor_required_in_production(None)] == ["billing.E001"]
    settings.DEBUG = True  # make run's demo
    assert second_factor_required_in_production(None) == []
    settings.DEBUG, settings.OTP_REQUIRED = False, True
    assert second_factor_required_in_production(None) == []
