"""E-mail to a customer's contacts with links back into the site."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage


def absolute_url(path: str) -> str:
    """A path of this site as the customer's mail client needs it (SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + path


def mail_contacts(
    contacts: Iterable, subject: str, body: str, *, attachments: Iterable[tuple[str, bytes, str]] = ()
) -> bool:
    """Sends to every contact with an e-mail address, with (file name, content, MIME type) attachments;
    False when there is none to send to."""
    recipients = [contact.email for contact in contacts if contact.email]
    if recipients:
        EmailMessage(subject, body, None, recipients, attachments=list(attachments)).send()
    return bool(recipients)
