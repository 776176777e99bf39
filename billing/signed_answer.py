"""The customer's answer through a signed link, for quotes and charge requests alike: a link signed with
the document's own salt (so one kind of link never opens another kind of document) that expires after a
maximum age; a document is answerable while it waits for the customer, or while it is closed and still
reopenable (billing.closing); the answer records the customer's name, the time and the IP address."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.client_address import client_address
from billing.closing import reopenable
from billing.errors import BillingError


@dataclass(frozen=True)
class SignedAnswer:
    """How one kind of document is answered through its link."""

    model: type[models.Model]
    salt: str
    key: str  # the name of the document's id in the signed value
    max_age_setting: str  # the setting holding the links' lifetime in days
    waiting: str
    closed: str
    accepted: str
    declined: str
    name_field: str
    ip_field: str
    at_field: str
    refusal: Callable[[models.Model], BillingError]  # the error when the document cannot be answered
    valid_until_field: str | None = None  # a waiting document is answerable up to this day, when given

    def token(self, document: models.Model) -> str:
        return signing.dumps({self.key: document.pk}, salt=self.salt)

    def document(self, token: str) -> models.Model:
        """The document a link names; an altered, foreign or expired link is refused."""
        max_age = datetime.timedelta(days=getattr(settings, self.max_age_setting))
        try:
            payload = signing.loads(token, salt=self.salt, max_age=max_age)
            return self.model.objects.select_related("customer").get(pk=payload[self.key])
        # ValueError: a value signed with this salt but without a timestamp, or an id that is not a number
        except (signing.BadSignature, KeyError, TypeError, ValueError, self.model.DoesNotExist) as error:
            raise BillingError(_("This link is invalid or has expired."), code="bad_link") from error

    def answerable(self, document: models.Model, *, now: datetime.datetime) -> bool:
        """Waiting for the customer (and still valid), or closed unanswered and still reopenable."""
        if document.status == self.waiting:
            if self.valid_until_field is None:
                return True
            return timezone.localdate(now) <= getattr(document, self.valid_until_field)
        return reopenable(document, closed=self.closed, now=now)

    def given_answer(self, document: models.Model) -> dict | None:
        """The customer's answer, once given: accepted or declined, by whom and when."""
        if document.status not in (self.accepted, self.declined):
            return None
        return {
            "accepted": document.status == self.accepted,
            "name": getattr(document, self.name_field),
            "at": getattr(document, self.at_field),
        }

    @transaction.atomic
    def record(self, document: models.Model, *, accept: bool, name: str, ip: str | None):
        """Records the answer on the locked row; returns the document and the status it had before (a
        closed one is reopened by the answer). Nothing changes when it is refused."""
        document = self.model.objects.select_for_update().get(pk=document.pk)
        now = timezone.now()
        if not self.answerable(document, now=now):
            raise self.refusal(document)
        if not name.strip():
            raise BillingError(_("Please give your name."), code="name_required")
        before = document.status
        document.status = self.accepted if accept else self.declined
        setattr(document, self.name_field, name.strip()[:100])
        setattr(document, self.ip_field, ip)
        setattr(document, self.at_field, now)
        document.save()
        return document, before


def answer_page(request, token: str, *, link: SignedAnswer, template: str, answer, context):
    """The customer's page behind a link: the document, and on POST the answer given through
    ``answer(document=, accept=, name=, ip=)``; a bad link is a 404 page, a refused answer a 400. The page
    is the customer's (``customer_page``): it shows no staff menu, whoever opens it."""
    try:
        document = link.document(token)
    except BillingError as error:
        return render(request, template, {"error": error, "customer_page": True}, status=404)
    return document_answer_page(
        request, document, link=link, template=template, answer=answer, context=context, token=token
    )


def document_answer_page(
    request, document, *, link: SignedAnswer, template: str, answer, context, token: str = "", extra=None
):
    """The page of ``document`` the customer answers, reached by its link or, for a signed-in contact, from
    the customer portal (``extra`` names the portal's base template there)."""
    error, just_answered = None, False
    if request.method == "POST" and request.POST.get("answer") in ("accept", "decline"):
        try:
            document = answer(
                document=document,
                accept=request.POST["answer"] == "accept",
                name=request.POST.get("name", ""),
                ip=client_address(request),
            )
        except BillingError as failure:
            error = failure
        else:
            just_answered = True
    page = {
        **context(document),
        "token": token or link.token(document),
        "error": error,
        "customer_page": True,
    }
    page["answerable"] = link.answerable(document, now=timezone.now())
    # what the customer did, said back to him: at once after his answer, and whenever he opens the link again
    page["given_answer"] = link.given_answer(document)
    page["just_answered"] = just_answered
    page.update(extra or {})
    return render(request, template, page, status=400 if error else 200)
