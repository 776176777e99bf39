"""The statement of account (对账单) as a document: its bilingual PDF and the e-mail that sends it to the
customer's billing contacts. What it says comes from ``invoices.selectors.statement_of_account``."""

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from billing.errors import BillingError
from billing.mail import mail_contacts
from billing.money import capitals
from billing.pdf import render_pdf
from contracts.models import Customer
from contracts.selectors import billing_contacts
from invoices.selectors import statement_of_account


def statement_context(*, customer: Customer, start: datetime.date, end: datetime.date) -> dict:
    """What the PDF shows: one section per currency, a CNY closing balance also in Chinese capitals."""
    statements = statement_of_account(customer=customer, start=start, end=end)
    return {
        "customer": customer,
        "start": start,
        "end": end,
        "sections": [(statement, capitals(statement.closing)) for statement in statements],
        "vendor": settings.VENDOR,
        "made_on": timezone.localdate(),
    }


def statement_file_name(*, customer: Customer, start: datetime.date, end: datetime.date) -> str:
    return f"statement-{customer.code}-{start:%Y%m%d}-{end:%Y%m%d}.pdf"


def statement_pdf(*, customer: Customer, start: datetime.date, end: datetime.date) -> bytes:
    with override("zh-hans"):
        return render_pdf(
            "invoices/statement_pdf.html", statement_context(customer=customer, start=start, end=end)
        )


def statement_send(*, customer: Customer, start: datetime.date, end: datetime.date) -> list[str]:
    """E-mails the statement's PDF to the customer's billing contacts; returns their addresses. Refused
    when the customer has no billing contact with an e-mail address."""
    contacts = billing_contacts(customer=customer)
    if not contacts:
        raise BillingError(
            _("%(customer)s has no primary contact with an e-mail address to send the statement to."),
            code="no_billing_contact",
            params={"customer": customer.legal_name},
        )
    context = {"customer": customer, "start": start, "end": end, "vendor": settings.VENDOR}
    subject = render_to_string("invoices/statement_email_subject.txt", context).strip()
    body = render_to_string("invoices/statement_email.txt", context)
    pdf = statement_pdf(customer=customer, start=start, end=end)
    name = statement_file_name(customer=customer, start=start, end=end)
    mail_contacts(contacts, subject, body, attachments=[(name, pdf, "application/pdf")])
    return [contact.email for contact in contacts]
