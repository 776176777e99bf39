"""Quotes: numbering, pricing from the catalogue, approval, sending, revisions, answers, closing rule."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import RateCard, ServiceItem
from catalog.services import rate_card_new_version
from contracts.models import ServicePeriod
from quotes.models import Quote, QuoteStatus, ServiceOrder
from quotes.services import (
    customer_link_token,
    quote_add_line,
    quote_approve_discount,
    quote_create,
    quote_customer_answer,
    quote_from_token,
    quote_revise,
    quote_send,
    quote_set_discount,
    quote_submit,
    quote_totals,
    quotes_apply_closing_rule,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_quotes_are_numbered_from_a_gapless_series_per_year(customer):
    numbers = [quote_create(customer=customer, quote_date=datetime.date(2026, 3, 4)).number for _ in range(3)]
    assert numbers == ["Q2026-00001", "Q2026-00002", "Q2026-00003"]
    assert quote_create(customer=customer, quote_date=datetime.date(2027, 1, 2)).number == "Q2027-00001"


def test_a_number_taken_by_a_rolled_back_creation_is_used_again(customer):
    def create_then_fail():
        with transaction.atomic():
            quote_create(customer=customer, quote_date=datetime.date(2026, 3, 4))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert quote_create(customer=customer, quote_date=datetime.date(2026, 3, 4)).number == "Q2026-00001"


def test_lines_are_priced_from_the_catalogue_pick(quote):
    days, volume, travel = quote.lines.all()
    assert (days.unit_price, days.quantity, days.gross) == (Money(1800, "CNY"), D(5), Money(9000, "CNY"))
    assert (days.net, days.vat) == (Money(D("8490.57"), "CNY"), Money(D("509.43"), "CNY"))  # 6% included
    assert volume.gross == Money(42500, "CNY")  # graduated: 100 x 200 + 150 x 150
    # travel at cost is part of the taxable sale (settings.TRAVEL_VAT "taxable"): 6% included in the cost
    assert (travel.pass_through, travel.vat, travel.gross) == (
        True,
        Money(D("195.67"), "CNY"),
        Money(D("3456.78"), "CNY"),
    )
    totals = quote_totals(quote)
    assert totals["gross"] == Money(D("54956.78"), "CNY")
    assert totals["travel"] == Money(0, "CNY")  # nothing kept outside our VAT
    assert totals["net"] + totals["vat"] + totals["travel"] == totals["gross"]


def test_a_quote_keeps_the_rate_card_version_of_its_date(customer):
    rate_card_new_version(rate_card=RateCard.objects.get(version=1), effective_from=datetime.date(2026, 7, 1))
    RateCard.objects.get(version=2).persondayrates.filter(role="engineer", delivery_mode="remote").update(
        price=2000
    )
    early = quote_create(customer=customer, quote_date=datetime.date(2026, 6, 30))
    late = quote_create(customer=customer, quote_date=datetime.date(2026, 7, 1))
    service = ServiceItem.objects.get(code="custom-development")
    assert quote_add_line(quote=early, service=service, quantity=1).unit_price == Money(1800, "CNY")
    assert quote_add_line(quote=late, service=service, quantity=1).unit_price == Money(2000, "CNY")


def test_a_service_is_quoted_only_on_its_own_bases(customer):
    quote = quote_create(customer=customer)
    with pytest.raises(BillingError):
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="hotline"), quantity=1)
    line = quote_add_line(
        quote=quote, service=ServiceItem.objects.get(code="kms-course"), quantity=6, basis="per_person"
    )
    assert line.gross == Money(18000, "CNY")


def test_travel_is_never_discounted(quote):
    quote_set_discount(quote=quote, discount=D("0.1"))
    days, _volume, travel = quote.lines.all()
    assert days.gross == Money(8100, "CNY")
    assert travel.gross == Money(D("3456.78"), "CNY")


def test_a_large_discount_waits_for_a_sales_manager_who_records_why(quote, sales, sales_manager):
    quote_set_discount(quote=quote, discount=D("0.2"))
    assert quote_submit(quote=quote).status == QuoteStatus.PENDING_APPROVAL
    with pytest.raises(BillingError):
        quote_send(quote=quote)
    with pytest.raises(BillingError):
        quote_approve_discount(quote=quote, by=sales, reason="ok")
    with pytest.raises(BillingError):
        quote_approve_discount(quote=quote, by=sales_manager, reason=" ")
    approved = quote_approve_discount(quote=quote, by=sales_manager, reason="战略客户年度框架")
    assert (approved.status, approved.approved_by, approved.approval_reason) == (
        QuoteStatus.APPROVED,
        sales_manager,
        "战略客户年度框架",
    )
    assert approved.approved_at is not None


def test_a_small_discount_needs_no_approval(quote):
    quote_set_discount(quote=quote, discount=D("0.1"))
    assert quote_submit(quote=quote).status == QuoteStatus.APPROVED


def test_a_sent_quote_is_locked_and_mailed_with_a_signed_link(quote, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = quote_send(quote=quote)
    assert sent.status == QuoteStatus.SENT
    token = re.search(r"/q/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert quote_from_token(token) == sent  # the link signs the quote (its timestamp is the mail's own)
    sent.refresh_from_db()
    assert len(sent.pdf_sha256) == 64
    with pytest.raises(BillingError) as error:
        quote_add_line(quote=sent, service=ServiceItem.objects.get(code="health-check"), quantity=1)
    assert error.value.code == "quote_locked"


def test_a_change_after_sending_is_a_new_revision_and_the_old_one_stays(quote):
    sent = quote_send(quote=quote)
    revision = quote_revise(quote=sent)
    assert (revision.number, revision.revision, revision.reference) == (quote.number, 2, f"{quote.number}-R2")
    assert revision.status == QuoteStatus.DRAFT
    assert revision.lines.count() == 3
    sent.refresh_from_db()
    assert sent.status == QuoteStatus.SUPERSEDED
    assert sent.lines.count() == 3


def test_acceptance_through_the_link_records_who_and_makes_a_service_order(client, quote):
    sent = quote_send(quote=quote)
    url = reverse("quotes:answer", args=[customer_link_token(sent)])
    page = client.get(url)
    assert page.status_code == 200
    assert "伍万肆仟玖佰伍拾陆元柒角捌分" in page.content.decode()
    response = client.post(url, {"name": "王芳", "answer": "accept"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    sent.refresh_from_db()
    assert (sent.status, sent.answer_name, sent.answer_ip) == (QuoteStatus.ACCEPTED, "王芳", "203.0.113.7")
    assert ServiceOrder.objects.get().quote == sent


def test_a_declined_quote_makes_no_order(quote):
    quote_customer_answer(quote=quote_send(quote=quote), accept=False, name="王芳", ip=None)
    assert not ServiceOrder.objects.exists()


def test_an_expired_quote_cannot_be_accepted(quote):
    sent = quote_send(quote=quote)
    Quote.objects.filter(pk=sent.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(BillingError):
        quote_customer_answer(quote=sent, accept=True, name="王芳", ip=None)


def test_the_closing_rule_for_quotes(quote, django_capture_on_commit_callbacks):
    sent = quote_send(quote=quote)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert quotes_apply_closing_rule(now=sent.sent_at + datetime.timedelta(days=20)) == (0, 0)
        assert quotes_apply_closing_rule(now=sent.sent_at + datetime.timedelta(days=32)) == (1, 0)
        assert quotes_apply_closing_rule(now=sent.sent_at + datetime.timedelta(days=32)) == (0, 0)
    assert quote.reference in mail.outbox[0].subject
    sent.refresh_from_db()
    assert sent.status == QuoteStatus.CLOSED
    assert quotes_apply_closing_rule(now=sent.closed_at + datetime.timedelta(days=32)) == (0, 1)


def test_a_closed_quote_may_be_reopened_and_accepted_within_a_month(quote):
    sent = quote_send(quote=quote)
    Quote.objects.filter(pk=sent.pk).update(
        status=QuoteStatus.CLOSED, closed_at=timezone.now() - datetime.timedelta(days=5)
    )
    sent.refresh_from_db()
    assert quote_customer_answer(quote=sent, accept=True, name="王芳", ip=None).status == QuoteStatus.ACCEPTED


def test_renewal_periods_are_untouched_by_services_quotes(quote):
    before = ServicePeriod.objects.count()
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    assert ServicePeriod.objects.count() == before
