"""E-mail to a customer's contacts with links back into the site.

Where links point (``site_url``): SITE_URL when it is set, as production sets it. Without it
(development), the address the current request reached the server at, so that `make run HOST=...` on
another port mails working links; a Celery task sent during a request gets that address with it
(billing.dispatch); outside any request (a periodic task, a command) RUNSERVER_URL, the address `make run`
serves at."""

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from django.conf import settings
from django.core import checks
from django.core.exceptions import DisallowedHost
from django.core.mail import EmailMessage

_request_site: ContextVar[str] = ContextVar("request_site", default="")
TASK_HEADER = "site_url"  # the header a task carries the request's address in


def site_url() -> str:
    """The scheme, host and port links to this site start with (no trailing slash)."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    return _request_site.get() or settings.RUNSERVER_URL.rstrip("/")


def request_site() -> str:
    """The address of the request being served, '' outside one."""
    return _request_site.get()


def absolute_url(path: str) -> str:
    """A path of this site as the customer's mail client needs it."""
    return site_url() + path


@contextlib.contextmanager
def links_to(address: str) -> Iterator[None]:
    """Within the block, links point at ``address`` (unless SITE_URL is set)."""
    token = _request_site.set(address.rstrip("/"))
    try:
        yield
    finally:
        _request_site.reset(token)


class RequestSiteMiddleware:
    """Notes the address each request reached the server at (its scheme and Host, which ALLOWED_HOSTS has
    checked) for the links made while it is served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            address = f"{request.scheme}://{request.get_host()}"
        except DisallowedHost:
            address = ""
        with links_to(address):
            return self.get_response(request)


@checks.register(checks.Tags.security, deploy=True)
def site_url_set_in_production(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.SITE_URL or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "SITE_URL is not set: e-mails sent by periodic tasks would link to RUNSERVER_URL "
            f"({settings.RUNSERVER_URL}).",
            hint="Set SITE_URL to the public address, e.g. https://billing.example.com.",
            id="billing.W002",
        )
    ]


def mail_contacts(
    contacts: Iterable, subject: str, body: str, *, attachments: Iterable[tuple[str, bytes, str]] = ()
) -> bool:
    """Sends to every contact with an e-mail address, with (file name, content, MIME type) attachments;
    False when there is none to send to."""
    recipients = [contact.email for contact in contacts if contact.email]
    if recipients:
        EmailMessage(subject, body, None, recipients, attachments=list(attachments)).send()
    return bool(recipients)
