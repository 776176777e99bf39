"""Where a webhook endpoint may point: https to public addresses, except the hosts the administrator lists
(server-side request forgery: no private, loopback, link-local or cloud-metadata address)."""

import datetime
import socket

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from events.delivery import signing_secrets, webhook_secret_new, webhook_url_check
from events.models import WebhookEndpoint


@pytest.fixture
def dns(monkeypatch):
    """Names resolve to what the test says (no network in the tests)."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/hooks",
        "https://172.16.3.4/hooks",
        "https://192.168.1.20/hooks",
        "https://127.0.0.1/hooks",
        "https://127.1.2.3:8443/hooks",
        "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service (link-local)
        "https://100.64.0.9/hooks",  # shared address space (carrier-grade NAT)
        "https://0.0.0.0/hooks",
        "https://224.0.0.1/hooks",
        "https://240.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[fc00::5]/hooks",
        "https://[::]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[::ffff:169.254.169.254]/hooks",
        "https://[64:ff9b::a9fe:a9fe]/hooks",  # NAT64 of 169.254.169.254
        "https://[2002:a00:1::]/hooks",  # 6to4 of 10.0.0.1
    ],
)
def test_private_and_special_addresses_are_refused(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError) as refused:
        webhook_url_check(url)
    assert refused.value.code == "webhook_url_private"


def test_a_name_that_resolves_to_a_private_address_is_refused(dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    dns["hooks.example.com"] = ["93.184.216.34", "10.0.0.3"]  # one private address is enough
    with pytest.raises(ValidationError, match=r"10\.0\.0\.3"):
        webhook_url_check("https://hooks.example.com/in")
    dns["internal.example.com"] = ["::1"]
    with pytest.raises(ValidationError, match="::1"):
        webhook_url_check("https://internal.example.com/in")


def test_a_public_https_url_is_accepted(dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    dns["hooks.example.com"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    webhook_url_check("https://hooks.example.com/in")
    webhook_url_check("https://93.184.216.34:8443/in")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/in", "webhook_url_scheme"),
        ("ftp://hooks.example.com/in", "webhook_url_scheme"),
        ("https:///in", "webhook_url_scheme"),
        ("https://user:secret@hooks.example.com/in", "webhook_url_userinfo"),
        ("https://user@hooks.example.com/in", "webhook_url_userinfo"),
        ("https://hooks.example.com:99999/in", "webhook_url_invalid"),
        ("https://nowhere.example.com/in", "webhook_url_unresolved"),
    ],
)
def test_other_urls_are_refused(url, code, dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    dns["hooks.example.com"] = ["93.184.216.34"]
    with pytest.raises(ValidationError) as refused:
        webhook_url_check(url)
    assert refused.value.code == code


def test_a_listed_host_may_use_http_and_a_private_address(dns, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "receiver.internal", "::1"]
    dns["receiver.internal"] = ["10.0.0.9"]
    webhook_url_check("http://127.0.0.1:8000/hooks")
    webhook_url_check("https://receiver.internal/hooks")
    webhook_url_check("http://[::1]:9000/hooks")
    with pytest.raises(ValidationError):
        webhook_url_check("http://127.0.0.2/hooks")  # the listed host only, not its neighbours
    with pytest.raises(ValidationError):
        webhook_url_check("http://localhost/hooks")  # a name is listed by name


def test_a_new_secret_is_random_and_in_the_standard_form():
    first, second = webhook_secret_new(), webhook_secret_new()
    assert first != second
    assert first.startswith("whsec_")
    assert len(first) >= len("whsec_") + 32


def test_the_previous_secret_signs_until_its_time():
    now = timezone.now()
    endpoint = WebhookEndpoint(
        secret="whsec_new",
        previous_secret="whsec_old",
        previous_secret_until=now + datetime.timedelta(hours=1),
    )
    assert signing_secrets(endpoint, now) == ["whsec_new", "whsec_old"]
    assert signing_secrets(endpoint, now + datetime.timedelta(hours=1)) == ["whsec_new"]
    assert signing_secrets(WebhookEndpoint(secret="whsec_new"), now) == ["whsec_new"]
