"""Orders and delivered work: order lines billed when ordered or as delivered, work logs naming them, overrun,
quantities, closing, bad input refused, and runs that set aside what they cannot bill."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from djmoney.money import Money
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from catalog.models import PersonDayRate, ServiceItem
from catalog.services import rate_card_new_version
from contracts.models import ChargeRequest
from invoices.models import Charge, ChargeSource, Invoice, InvoiceRun, RunStatus, SetAside, WorkLog
from invoices.selectors import invoice_totals, order_progress
from invoices.services import (
    charges_collect,
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    order_cancel,
    work_log_record,
)
from quotes.models import InvoicingPolicy, OrderStatus, ServiceOrder
from quotes.selectors import order_line_priced
from quotes.services import order_close, quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
# Uses dated in 2026 must fall in an open contract year, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
WORK_DAY = D(2026, 3, 10)


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer, fee=0)
    return customer


def accepted_order(customer, *lines, discount=Decimal(0)) -> ServiceOrder:
    """An accepted services quote of 2026-03-04 with ``lines`` (service code, quantity, options)."""
    quote = quote_create(
        customer=customer,
        quote_date=D(2026, 3, 4),
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        discount=discount,
    )
    for code, quantity, options in lines:
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code=code), quantity=quantity, **options)
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    return ServiceOrder.objects.get(quote=quote)


def log(customer, days, key, *, order_line=None, ticket="TK-1", work_date=WORK_DAY, **options):
    return work_log_record(
        customer=customer,
        engineer="李雷",
        work_date=work_date,
        ticket_ref=ticket,
        idempotency_key=key,
        days=Decimal(days),
        order_line=order_line,
        **options,
    )[0]


def run() -> InvoiceRun:
    return invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))


def progress_of(line):
    return next(row for row in order_progress(line.order) if row.line.pk == line.pk)


def client_with(*scopes):
    _key, raw = create_api_key(name="Zendesk", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_three_days_logged_against_the_quote_reference_are_billed_once_at_the_quote_price(customer):
    order = accepted_order(customer, ("custom-development", 3, {}), discount=Decimal("0.1"))
    line = order.lines.get()
    assert line.invoicing_policy == InvoicingPolicy.DELIVERED
    for day in range(3):
        logged = log(
            customer, 1, f"w{day}", ticket=order.quote.reference, work_date=WORK_DAY + datetime.timedelta(day)
        )
        assert logged.order_line == line
    assert run().status == RunStatus.DONE
    assert not Charge.objects.filter(source=ChargeSource.QUOTE_LINE).exists()
    invoice = Invoice.objects.get()
    assert sum((line.gross for line in invoice.lines.all()), Money(0, "CNY")) == Money("4860.00", "CNY")
    assert [charge.unit_price for charge in Charge.objects.all()] == [Money(1800, "CNY")] * 3  # the quote's
    progress = progress_of(line)
    assert (progress.delivered.quantity, progress.remaining.quantity) == (3, 0)
    assert progress.delivered.amount == progress.ordered.amount == Money("4860.00", "CNY")
    run()
    assert Invoice.objects.count() == 1  # nothing billed twice


def test_work_logged_by_api_against_the_quote_reference_delivers_the_order_line(customer):
    order = accepted_order(customer, ("custom-development", 3, {}))
    client = client_with("work:write", "orders:read")
    body = {
        "customer": "ACME",
        "engineer": "李雷",
        "date": "2026-03-10",
        "days": "3",
        "ticket": order.quote.reference,
    }
    answer = client.post("/api/v1/work-logs", body, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    assert answer.status_code == 201
    assert answer.json()["order_line"] == order.lines.get().pk
    by_order = {**body, "ticket": "TK-9", "order": order.quote.reference, "days": "0.5"}
    assert (
        client.post("/api/v1/work-logs", by_order, format="json", HTTP_IDEMPOTENCY_KEY="w2").status_code
        == 201
    )
    run()
    assert Charge.objects.filter(source=ChargeSource.WORK_LOG).count() == 1  # the half day went beyond
    assert ChargeRequest.objects.get().estimated_amount == Money(900, "CNY")
    lines = client.get(f"/api/v1/orders/{order.pk}").json()["lines"]
    assert lines[0]["delivered"] == {"quantity": "3.000", "amount": "5400.00"}
    assert lines[0]["beyond"]["quantity"] == "0.500"
    assert lines[0]["remaining"] == {"quantity": "0.000", "amount": "0.00"}


def test_an_ordered_line_is_billed_once_and_work_logged_against_it_never(customer):
    order = accepted_order(
        customer,
        ("custom-development", 2, {"invoicing_policy": "ordered"}),
        ("health-check", 1, {}),
    )
    days, fixed = order.lines.all()
    assert (days.invoicing_policy, fixed.invoicing_policy) == (
        InvoicingPolicy.ORDERED,
        InvoicingPolicy.ORDERED,
    )
    log(customer, 2, "w1", order_line=days)
    run()
    run()
    charges = Charge.objects.all()
    assert sorted(charges.values_list("source", "order_line")) == sorted(
        [(ChargeSource.QUOTE_LINE, days.pk), (ChargeSource.QUOTE_LINE, fixed.pk)]
    )
    assert Charge.objects.get(order_line=days).amount == Money(3600, "CNY")
    assert WorkLog.objects.get().processed_at is not None
    assert progress_of(days).delivered.quantity == 2


def test_delivered_work_is_billed_at_the_line_discounted_price_not_the_rate_card(customer):
    order = accepted_order(
        customer, ("custom-development", 4, {"discount": Decimal("0.1")}), discount=Decimal("0.05")
    )
    line = order.lines.get()
    card = rate_card_new_version(rate_card=order.quote.rate_card, effective_from=D(2026, 3, 8))
    PersonDayRate.objects.filter(rate_card=card).update(price=Decimal(5000))
    log(customer, "1.5", "w1", order_line=line)
    log(customer, 1, "w2", order_line=line)
    run()
    charges = list(Charge.objects.order_by("pk"))
    assert [c.unit_price for c in charges] == [Money(1800, "CNY")] * 2
    assert [c.discount for c in charges] == [Decimal("0.145")] * 2
    assert [c.amount for c in charges] == [Money("2308.50", "CNY"), Money("1539.00", "CNY")]  # 1800 x 0.855
    assert progress_of(line).remaining.amount == Money("6156.00", "CNY") - Money("3847.50", "CNY")


def test_work_beyond_the_ordered_quantity_becomes_a_charge_request_for_the_excess(customer):
    line = accepted_order(customer, ("custom-development", 3, {"discount": Decimal("0.1")})).lines.get()
    log(customer, 2, "w1", order_line=line)
    log(customer, "1.5", "w2", order_line=line, ticket="TK-2")
    run()
    assert [c.quantity for c in Charge.objects.order_by("pk")] == [2, 1]
    request = ChargeRequest.objects.get()
    assert (request.ticket_ref, request.status) == ("TK-2", "pending_approval")
    assert request.estimated_amount == order_line_priced(line, Decimal("0.5")).gross == Money(810, "CNY")
    assert progress_of(line).beyond.quantity == Decimal("0.5")
    run()
    assert ChargeRequest.objects.count() == 1


def test_work_beyond_the_ordered_quantity_is_refused_when_the_setting_says_so(customer, settings):
    settings.ORDER_OVERRUN = "refuse"
    line = accepted_order(customer, ("custom-development", 3, {})).lines.get()
    log(customer, 2, "w1", order_line=line)
    with pytest.raises(BillingError) as refused:
        log(customer, "1.5", "w2", order_line=line)
    assert refused.value.code == "order_overrun"
    with translation.override("en"):
        assert "has 1.00 of 3.00 person-days left" in str(refused.value)
    assert WorkLog.objects.count() == 1
    answer = client_with("work:write").post(
        "/api/v1/work-logs",
        {
            "customer": "ACME",
            "engineer": "李雷",
            "date": "2026-03-10",
            "days": "2",
            "ticket": "T",
            "order_line": line.pk,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="w3",
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "order_overrun")
    assert WorkLog.objects.count() == 1
    assert not ChargeRequest.objects.exists()


def test_order_line_quantities_reconcile_to_the_fen_through_a_partial_credit(customer):
    line = accepted_order(customer, ("custom-development", 3, {"discount": Decimal("0.13")})).lines.get()
    log(customer, "0.333", "w1", order_line=line)
    log(customer, "1.25", "w2", order_line=line)
    run()
    invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 4, 1))
    billed = invoice.lines.order_by("pk").first()
    credit_note_issue(invoice=invoice, reason="half a day disputed", lines={billed.pk: Decimal("0.2")})
    log(customer, "0.5", "w3", order_line=line)  # delivered, not billed yet
    progress = progress_of(line)
    assert progress.ordered.quantity == progress.delivered.quantity + progress.remaining.quantity
    assert progress.ordered.amount == progress.delivered.amount + progress.remaining.amount
    assert progress.delivered.quantity == Decimal("2.083")
    assert progress.invoiced.quantity == Decimal("1.583")  # invoice lines keep work to the thousandth
    ledger = sum(
        (c.invoice_line.gross for c in Charge.objects.filter(order_line=line, invoice_line__isnull=False)),
        Money(0, "CNY"),
    )
    credited = sum((credit.gross for credit in billed.credited_by.all()), Money(0, "CNY"))
    assert progress.invoiced.amount == ledger
    assert progress.credited.amount == -credited
    assert progress.invoiced.amount - progress.credited.amount == ledger + credited
    expected = (
        order_line_priced(line, Decimal("0.333")).amount + order_line_priced(line, Decimal("1.25")).amount
    )
    assert ledger == expected + Money(0, "CNY")
    assert progress.delivered.amount == expected + order_line_priced(line, Decimal("0.5")).amount


def test_closing_an_order_releases_what_is_left_and_refuses_more_work(customer):
    order = accepted_order(customer, ("custom-development", 3, {}), ("health-check", 1, {}))
    days, fixed = order.lines.all()
    log(customer, 1, "w1", order_line=days)
    order_close(order=order, reason="project ended")
    progress = progress_of(days)
    assert (progress.delivered.quantity, progress.remaining.quantity, progress.released.quantity) == (1, 0, 2)
    assert progress.released.amount == Money(3600, "CNY")
    assert progress_of(fixed).delivered.quantity == 1
    with pytest.raises(BillingError) as refused:
        log(customer, 1, "w2", order_line=days)
    assert refused.value.code == "order_closed"
    assert WorkLog.objects.count() == 1
    run()
    assert Charge.objects.filter(order_line=days, source=ChargeSource.WORK_LOG).get().quantity == 1
    with pytest.raises(BillingError):
        order_close(order=order)


def test_an_order_is_closed_by_api_once_and_its_staff_page_closes_it_too(customer, admin_client):
    order = accepted_order(customer, ("custom-development", 3, {}))
    client = client_with("orders:read", "orders:write")
    answer = client.post(
        f"/api/v1/orders/{order.pk}/close", {"reason": "done"}, format="json", HTTP_IDEMPOTENCY_KEY="c1"
    )
    assert (answer.status_code, answer.json()["status"]) == (200, "closed")
    again = client.post(f"/api/v1/orders/{order.pk}/close", {}, format="json", HTTP_IDEMPOTENCY_KEY="c2")
    assert (again.status_code, again.json()["code"]) == (409, "order_closed")
    assert (
        client_with("orders:read").post(f"/api/v1/orders/{order.pk}/close", {}, format="json").status_code
        == 403
    )
    other = accepted_order(customer, ("custom-development", 2, {}))
    page = admin_client.get(reverse("invoices:order", args=[other.pk])).content.decode()
    assert "close-order" in page
    assert "custom-development" in page
    admin_client.post(reverse("invoices:close-order", args=[other.pk]), {"reason": "cancelled"})
    assert ServiceOrder.objects.get(pk=other.pk).status == OrderStatus.CLOSED
    customer_page = admin_client.get(reverse("invoices:customer", args=["ACME"])).content.decode()
    assert customer_page.count('class="order-line"') == 2


def test_bad_order_lines_are_refused_with_nothing_written(customer):
    other = CustomerFactory(code="OTHER")
    ServicePeriodFactory(contract__customer=other, fee=0)
    theirs = accepted_order(other, ("custom-development", 3, {})).lines.get()
    fixed = accepted_order(customer, ("health-check", 1, {})).lines.get()
    closed = accepted_order(customer, ("custom-development", 3, {}))
    order_close(order=closed)
    for line, code in (
        (theirs, "order_line_customer"),
        (fixed, "order_line_not_person_days"),
        (closed.lines.get(), "order_closed"),
    ):
        with pytest.raises(BillingError) as refused:
            log(customer, 1, f"bad-{code}", order_line=line)
        assert refused.value.code == code
    client = client_with("work:write")
    body = {"customer": "ACME", "engineer": "李雷", "date": "2026-03-10", "days": "1", "ticket": "T"}
    for extra, status, code in (
        ({"order_line": theirs.pk}, 422, "order_line_customer"),
        ({"order_line": fixed.pk}, 422, "order_line_not_person_days"),
        ({"order_line": closed.lines.get().pk}, 409, "order_closed"),
        ({"order": closed.quote.reference, "service": "data-migration"}, 422, "unknown_order_line"),
        ({"order": "Q1999-00001"}, 422, "unknown_order"),
    ):
        answer = client.post(
            "/api/v1/work-logs", {**body, **extra}, format="json", HTTP_IDEMPOTENCY_KEY=str(extra)
        )
        assert (answer.status_code, answer.json()["code"]) == (status, code), extra
    assert not WorkLog.objects.exists()


def test_work_no_rate_card_prices_is_refused_when_recorded_by_api_and_import(customer, tmp_path):
    client = client_with("work:write")
    before = {"customer": "ACME", "engineer": "李雷", "date": "2024-06-01", "days": "1", "ticket": "T"}
    answer = client.post("/api/v1/work-logs", before, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    assert (answer.status_code, answer.json()["code"]) == (422, "no_rate_card")
    path = tmp_path / "logs.csv"
    path.write_text(
        "customer,engineer,date,days,ticket,service\n"
        "ACME,李雷,2026-03-04,1,TK-1,custom-development\n"
        "ACME,李雷,2026-03-04,1,TK-2,no-such-service\n"
        "ACME,李雷,2026-03-04,1,TK-3,health-check\n"
        "ACME,李雷,2024-06-01,1,TK-4,custom-development\n",
        encoding="utf-8",
    )
    errors = StringIO()
    with pytest.raises(CommandError):
        call_command("import_work_logs", str(path), stderr=errors)
    report = errors.getvalue()
    assert "row 2: service" in report
    assert "row 3: service" in report
    assert "row 4: service" in report
    assert "row 1" not in report
    assert not WorkLog.objects.exists()


def test_an_import_row_names_an_order_line_by_quote_reference_and_is_checked_with_the_rows_before(
    customer, tmp_path, settings
):
    settings.ORDER_OVERRUN = "refuse"
    order = accepted_order(customer, ("custom-development", 3, {}))
    path = tmp_path / "logs.csv"
    rows = "".join(f"ACME,李雷,2026-03-1{n},1.5,TK-{n},{order.quote.reference}\n" for n in range(3))
    path.write_text("customer,engineer,date,days,ticket,order\n" + rows, encoding="utf-8")
    errors = StringIO()
    with pytest.raises(CommandError):
        call_command("import_work_logs", str(path), stderr=errors)
    assert "row 3: order_line" in errors.getvalue()
    assert "row 2" not in errors.getvalue()
    path.write_text(
        "customer,engineer,date,days,ticket,order\n" + rows.rsplit("\n", 2)[0] + "\n", encoding="utf-8"
    )
    call_command("import_work_logs", str(path), stdout=StringIO())
    assert set(WorkLog.objects.values_list("order_line", flat=True)) == {order.lines.get().pk}


def test_a_run_with_one_unpriceable_work_log_bills_every_other_charge_and_reports_it(customer, admin_client):
    paying = CustomerFactory(code="PAYS")
    ServicePeriodFactory(contract__customer=paying, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=1000)
    bad = WorkLog.objects.create(  # recorded before recording checked prices (or by hand)
        customer=customer,
        engineer="x",
        work_date=D(2024, 6, 1),
        days=1,
        ticket_ref="T",
        idempotency_key="old",
    )
    log(customer, 1, "good")
    finished = run()
    assert finished.status == RunStatus.DONE
    assert sorted(Invoice.objects.values_list("customer__code", flat=True)) == ["ACME", "PAYS"]
    aside = SetAside.objects.get()
    assert (aside.run, aside.source, aside.source_id, aside.code) == (
        finished,
        ChargeSource.WORK_LOG,
        bad.pk,
        "no_rate_card",
    )
    assert WorkLog.objects.get(pk=bad.pk).processed_at is None  # tried again by the next run
    page = admin_client.get(reverse("invoices:runs")).content.decode()
    assert "set-aside" in page
    assert str(bad.pk) in page
    progress = admin_client.get(reverse("invoices:run-progress", args=[finished.pk])).json()
    assert progress["set_aside"][0]["code"] == "no_rate_card"


_keys = iter(range(10**9))


@examples(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    discount=st.decimals(min_value=0, max_value=Decimal("0.15"), places=2),
    logs=st.lists(st.decimals(min_value=Decimal("0.001"), max_value=2, places=3), min_size=1, max_size=5),
)
def test_an_order_line_always_reconciles_ordered_delivered_and_remaining_to_the_fen(customer, discount, logs):
    line = accepted_order(customer, ("custom-development", 3, {"discount": discount})).lines.get()
    for days in logs:
        log(customer, days, f"h{next(_keys)}", order_line=line)
    charges_collect(up_to=timezone.localdate())
    progress = progress_of(line)
    assert progress.ordered.quantity == progress.delivered.quantity + progress.remaining.quantity
    assert progress.ordered.amount == progress.delivered.amount + progress.remaining.amount
    billed = sum((c.amount for c in Charge.objects.filter(order_line=line)), Money(0, "CNY"))
    assert progress.delivered.amount == billed
    assert progress.beyond.quantity == max(sum(logs) - 3, 0)
    if sum(logs) >= 3:
        assert progress.remaining.amount == Money(0, "CNY")


def test_delivered_work_billed_in_many_pieces_adds_up_to_the_order_line_to_the_fen(customer):
    """Each piece is the difference of the cumulative amounts: 24 logs of an hour bill exactly the line's
    5,220.18 (3 days at 1,800.00, 3.33% off), not 24 x 217.51 = 5,220.24."""
    line = accepted_order(customer, ("custom-development", 3, {}), discount=Decimal("0.0333")).lines.get()
    assert line.amount == Money("5220.18", "CNY")
    for hour in range(24):
        log(customer, "0.125", f"hour-{hour}", order_line=line)
    run()
    charges = Charge.objects.filter(order_line=line)
    assert charges.count() == 24
    assert sum((c.amount for c in charges), Money(0, "CNY")) == line.amount
    assert sum((c.list_amount for c in charges), Money(0, "CNY")) == Money(5400, "CNY")
    progress = progress_of(line)
    assert progress.remaining.quantity == 0
    assert progress.remaining.amount == Money(0, "CNY")


def test_hours_drawn_from_a_prepaid_bundle_use_it_to_the_thousandth(customer):
    from contracts.quotas import person_day_quota
    from tests.factories import PersonDayBundleFactory

    PersonDayBundleFactory(contract=customer.contracts.get(), days=1)
    for hour in range(8):
        log(customer, "0.125", f"prepaid-{hour}")
    run()
    quota = person_day_quota(customer, WORK_DAY)
    assert (quota.used, quota.left) == (Decimal("1.000"), Decimal("0.000"))
    assert not Charge.objects.filter(source=ChargeSource.WORK_LOG).exists()


def test_an_import_row_whose_ticket_is_the_quote_reference_delivers_the_order_line(customer, tmp_path):
    """The issue's double billing through the import: the ticket names the accepted quote, as in the API."""
    order = accepted_order(customer, ("custom-development", 3, {}), discount=Decimal("0.1"))
    path = tmp_path / "logs.csv"
    path.write_text(
        f"customer,engineer,date,days,ticket,service\nACME,李雷,2026-03-10,3,{order.quote.reference},"
        "custom-development\n",
        encoding="utf-8",
    )
    call_command("import_work_logs", str(path), stdout=StringIO())
    assert WorkLog.objects.get().order_line == order.lines.get()
    run()
    (charge,) = Charge.objects.filter(source=ChargeSource.WORK_LOG)
    assert charge.amount == Money(4860, "CNY")
    assert progress_of(order.lines.get()).remaining.quantity == 0


def test_a_cancelled_order_credits_what_it_billed_when_ordered_and_keeps_delivered_work(customer):
    order = accepted_order(
        customer, ("health-check", 1, {}), ("custom-development", 3, {}), discount=Decimal("0.1")
    )
    checks = order.lines.get(invoicing_policy=InvoicingPolicy.ORDERED)
    days = order.lines.get(invoicing_policy=InvoicingPolicy.DELIVERED)
    log(customer, 1, "d1", order_line=days)
    run()
    invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 4, 1))
    assert invoice_totals(invoice)["gross"] == Money(22500 + 1620, "CNY")
    (note,) = order_cancel(order=order, reason="客户撤单")
    assert invoice_totals(note)["gross"] == Money(-22500, "CNY")  # the health check, not the day delivered
    assert ServiceOrder.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    health, work = progress_of(checks), progress_of(days)
    assert (health.invoiced.amount, health.credited.amount) == (Money(22500, "CNY"), Money(22500, "CNY"))
    assert (health.delivered.quantity, health.released.quantity) == (0, 1)
    assert (work.delivered.quantity, work.released.quantity, work.credited.quantity) == (1, 2, 0)
    for item in (health, work):
        assert (
            item.ordered.quantity
            == item.delivered.quantity + item.remaining.quantity + item.released.quantity
        )
    run()  # nothing of the cancelled order is billed again
    assert Invoice.objects.filter(kind="invoice").count() == 1
    with pytest.raises(BillingError) as refused:
        log(customer, 1, "d2", order_line=days)
    assert refused.value.code == "order_closed"


def test_cancelling_an_order_drops_what_no_issued_invoice_holds(customer):
    order = accepted_order(customer, ("health-check", 1, {}))
    run()  # a draft holds the health check
    assert order_cancel(order=order, reason="撤单") == []
    assert not Charge.objects.filter(order_line__order=order).exists()
    assert not Invoice.objects.filter(lines__isnull=False).exists()
    run()
    assert not Charge.objects.filter(order_line__order=order).exists()


def test_an_order_is_cancelled_once_with_a_reason_through_the_api(customer):
    order = accepted_order(customer, ("health-check", 1, {}))
    client = client_with("orders:write", "orders:read")
    url = f"/api/v1/orders/{order.pk}/cancel"
    refused = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="c0")
    assert refused.status_code == 422
    answer = client.post(url, {"reason": "客户撤单"}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert (answer.status_code, answer.json()["status"]) == (200, "cancelled")
    again = client.post(url, {"reason": "again"}, format="json", HTTP_IDEMPOTENCY_KEY="c2")
    assert (again.status_code, again.json()["code"]) == (409, "order_closed")


def test_the_customers_account_manager_cancels_an_order_on_its_page(customer, client, django_user_model):
    from tests.factories import user_with

    manager = user_with(django_user_model, "am", "view_serviceorder", "change_serviceorder", "view_customer")
    other = user_with(django_user_model, "am2", "view_serviceorder", "change_serviceorder", "view_customer")
    customer.account_manager = manager
    customer.save()
    order = accepted_order(customer, ("health-check", 1, {}))
    client.force_login(other)
    assert client.post(reverse("invoices:cancel-order", args=[order.pk]), {"reason": "x"}).status_code == 403
    client.force_login(manager)
    assert "cancel-order" in client.get(reverse("invoices:order", args=[order.pk])).content.decode()
    client.post(reverse("invoices:cancel-order", args=[order.pk]), {"reason": "客户撤单"})
    assert ServiceOrder.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
