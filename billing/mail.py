"""E-mail to a customer's contacts with links back into the site."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail


def absolute_url(path: str) -> str:
    """A path of this site as the customer's mail client needs it (SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + path


def mail_contacts(contacts: Iterable, subject: str, body: str) -> bool:
    """Sends to every contact with an e-mail address; False when there is none to send to."""
    recipients = [contact.email for contact in contacts if contact.email]
    if recipients:
        send_mail(subject, body, None, recipients)
    return bool(recipients)
