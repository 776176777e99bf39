"""The role matrix walked over every URL of the URL conf, the admin's and its imports and exports included:
each URL is classified below by what it needs (a permission, any staff member, nothing, an API key), each
role of billing.roles and an anonymous visitor request it, and every answer must agree with what
billing.roles grants the role. A URL missing from the tables fails the walk, so a new page, admin model or
import has to be classified here. The API is walked without a key (401), not per role: it answers keys,
never staff sessions.

A refusal is a 403, or a redirect to the login for a visitor who is not signed in; a let-in answer is
anything else below 500 (a page, a redirect after a POST, a form's error), never a 404 or 405: each URL is
filled with real demo objects and requested with the method its view answers. POSTs carry no form and run
in a transaction rolled back afterwards, so the walk changes nothing."""

import datetime
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from djmoney.money import Money
from import_export.admin import ExportMixin, ImportMixin

from billing.apikeys import create_api_key
from billing.roles import ROLES
from catalog.models import EmergencyCoverWindow, ServiceItem
from contracts.models import ChargeRequest, ConsumptionEntry, Customer
from contracts.services import customer_link_token as charge_link_token
from events.endpoints import webhook_endpoint_create
from events.services import event_record
from invoices.models import DataVolumeUsage, FapiaoBatch, Invoice, InvoiceRun, InvoiceStatus
from invoices.services import invoice_issue, travel_expense_record
from quotes.models import Quote, ServiceOrder
from quotes.services import customer_link_token as quote_link_token
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.demo_roles import load_demo

pytestmark = pytest.mark.django_db


class _Everything:
    def __contains__(self, permission):
        return True


# What each role holds, read from the matrix itself (the administrator holds every permission).
GRANTED = {
    role: _Everything() if names == "__all__" else set(names) for role, (_label, names) in ROLES.items()
}


@dataclass(frozen=True)
class Needs:
    """Who gets in: a visitor not signed in only when ``public``; a staff member holding every one of
    ``all_of`` and (when given) one of ``any_of``. The demo customer's account manager also gets in when
    ``or_account_manager``, and only who acts for the customer (he, or a role acting for every customer)
    when ``and_account_manager`` (the account-manager role is the demo customers' manager). ``nobody``:
    refused to every role. ``answer``: the status a let-in user gets when it is neither a page nor a
    redirect (the admin's 404 for an unknown address)."""

    public: bool = False
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    or_account_manager: bool = False
    and_account_manager: bool = False
    nobody: bool = False
    answer: int | None = None

    def lets_in(self, role: str | None) -> bool:
        if self.public:
            return True
        if role is None or self.nobody:
            return False
        granted = GRANTED[role]
        holds = all(p in granted for p in self.all_of) and (
            not self.any_of or any(p in granted for p in self.any_of)
        )
        if self.or_account_manager and role == "account_manager":
            return True
        if self.and_account_manager:  # acts for the customer (contracts.ownership)
            return holds and (role == "account_manager" or "contracts.act_for_every_customer" in granted)
        return holds


PUBLIC = Needs(public=True)
ANY_STAFF = Needs()
NOBODY = Needs(nobody=True)
API_KEY = "api key"


def needs(*permissions: str) -> Needs:
    return Needs(all_of=permissions)


# Pages and the API: URL name -> what it needs.
PAGES = {
    "home": PUBLIC,
    "set_language": PUBLIC,
    "staff-home": ANY_STAFF,
    "second-factor-verify": ANY_STAFF,
    "second-factor-enrol": ANY_STAFF,
    "catalog:catalogue": needs("catalog.view_serviceitem"),
    # customers answer through their signed links, without a login
    "contracts:charge-request-answer": PUBLIC,
    "quotes:answer": PUBLIC,
    "quotes:pdf": PUBLIC,
    "contracts:entitlement-lookup": needs("contracts.view_customer"),
    "contracts:charge-requests": needs("contracts.view_chargerequest"),
    # the page lets in who sees charge requests; the services decide who may approve (four eyes)
    "contracts:charge-request-decide": needs("contracts.view_chargerequest"),
    "quotes:pipeline": needs("quotes.view_quote"),
    "quotes:new": needs("quotes.add_quote"),
    "quotes:builder": needs("quotes.view_quote"),
    "quotes:add-line": needs("quotes.change_quote"),
    "quotes:add-travel": needs("quotes.change_quote"),
    "quotes:discount": needs("quotes.change_quote"),
    "quotes:step": needs("quotes.change_quote"),
    "quotes:approve": needs("quotes.approve_discount"),
    "quotes:staff-pdf": needs("quotes.view_quote"),
    "invoices:runs": needs("invoices.view_invoicerun"),
    "invoices:start-run": needs("invoices.add_invoicerun"),
    "invoices:run-progress": needs("invoices.view_invoicerun"),
    "invoices:customer": needs("contracts.view_customer"),
    "invoices:order": needs("quotes.view_serviceorder"),
    "invoices:close-order": Needs(all_of=("quotes.change_serviceorder",), and_account_manager=True),
    "invoices:cancel-order": Needs(all_of=("quotes.change_serviceorder",), and_account_manager=True),
    "invoices:correct-consumption": Needs(
        all_of=("contracts.add_consumptionentry",), and_account_manager=True
    ),
    "invoices:statement": Needs(all_of=("invoices.view_invoice",), or_account_manager=True),
    "invoices:statement-pdf": Needs(all_of=("invoices.view_invoice",), or_account_manager=True),
    "invoices:statement-send": Needs(all_of=("invoices.view_invoice",), or_account_manager=True),
    "invoices:quotes": needs("quotes.view_quote"),
    "invoices:charts": needs("quotes.view_quote"),
    "invoices:charges": needs("invoices.view_charge"),
    "invoices:collect-charges": needs("invoices.add_invoicerun"),
    "invoices:invoices": needs("invoices.view_invoice"),
    "invoices:invoice": needs("invoices.view_invoice"),
    "invoices:pdf": needs("invoices.view_invoice"),
    "invoices:overdue": needs("invoices.view_invoice"),
    "invoices:exports": needs("invoices.view_invoice"),
    "invoices:issue": needs("invoices.change_invoice"),
    "invoices:remove-line": needs("invoices.change_invoice"),
    "invoices:credit": needs("invoices.change_invoice"),
    "invoices:delete": needs("invoices.delete_invoice"),
    # red letter (workspace.red_letter_views): the services check the request's state
    "invoices:red-letter-requests": needs("invoices.view_redletterrequest"),
    "invoices:red-letter-form": needs("invoices.view_redletterrequest"),
    "invoices:red-letter-start": needs("invoices.change_redletterrequest"),
    "invoices:red-letter-reason": needs("invoices.change_redletterrequest"),
    "invoices:red-letter-record": needs("invoices.change_redletterrequest"),
    "invoices:red-letter-red": needs("invoices.change_redletterrequest"),
    "invoices:red-letter-replace": needs("invoices.change_redletterrequest"),
    "invoices:record-payment": needs("invoices.add_payment"),
    "invoices:payments": needs("invoices.view_payment"),
    "invoices:travel": needs("invoices.view_travelexpense"),
    "invoices:work-logs": needs("invoices.view_worklog"),
    "invoices:customers": needs("contracts.view_customer"),
    "invoices:approve-travel": needs("invoices.change_travelexpense"),
    # bulk actions: who may do them one at a time; the services decide per item (four eyes, once a day)
    "invoices:bulk-issue": needs("invoices.change_invoice"),
    "invoices:bulk-remind": needs("invoices.change_invoice"),
    "invoices:bulk-travel": needs("invoices.change_travelexpense"),
    "invoices:bulk-work-logs": needs("invoices.change_worklog"),
    "invoices:fapiao": needs("invoices.add_fapiaobatch"),
    "invoices:fapiao-export": needs("invoices.add_fapiaobatch"),
    "invoices:fapiao-batches": needs("invoices.view_fapiaobatch"),
    "invoices:fapiao-batch-download": needs("invoices.view_fapiaobatch"),
    # setting up customers (workspace.setup_views): the services check the same permissions and customers
    "contracts:customer-new": needs("contracts.add_customer"),
    "contracts:customer-import": needs("contracts.add_customer"),
    "contracts:customer-import-template": needs("contracts.add_customer"),
    "contracts:customer-edit": Needs(all_of=("contracts.change_customer",), and_account_manager=True),
    "contracts:contact-new": Needs(all_of=("contracts.add_contact",), and_account_manager=True),
    "contracts:contact-edit": Needs(all_of=("contracts.change_contact",), and_account_manager=True),
    "contracts:contract-new": Needs(all_of=("contracts.add_contract",), and_account_manager=True),
    "contracts:period-new": Needs(all_of=("contracts.add_serviceperiod",), and_account_manager=True),
    # a customer's fapiao details: account managers read them, finance keeps them (contracts.fapiao_details)
    "contracts:fapiao-details": Needs(all_of=("contracts.view_fapiaodetails",), and_account_manager=True),
    "contracts:portal-access": needs("contracts.view_customer"),
    # the customer portal: its contacts only (staff and visitors are sent to its sign-in page); signing in
    # is open to anyone
    "portal:sign-in": PUBLIC,
    "portal:enter": PUBLIC,
    "portal:sign-out": NOBODY,  # answers anyone with the sign-in page
    "portal:language": NOBODY,
    "portal:password": NOBODY,
    "portal:home": NOBODY,
    "portal:coverage": NOBODY,
    "portal:quotas": NOBODY,
    "portal:quotes": NOBODY,
    "portal:quote": NOBODY,
    "portal:quote-pdf": NOBODY,
    "portal:quote-request": NOBODY,
    "portal:charge-requests": NOBODY,
    "portal:charge-request": NOBODY,
    "portal:invoices": NOBODY,
    "portal:invoice-pdf": NOBODY,
    "portal:statement": NOBODY,
    "portal:statement-pdf": NOBODY,
    "portal:billing-details": NOBODY,
    "portal:contacts": NOBODY,
    "invoices:orders": needs("quotes.view_serviceorder"),
    "contracts:contracts": needs("contracts.view_contract"),
    "contracts:periods": needs("contracts.view_serviceperiod"),
    "quotes:change-line": needs("quotes.change_quote"),
    "quotes:remove-line": needs("quotes.change_quote"),
    "quotes:draft-renewal": needs("quotes.add_quote"),
    "contracts:charge-request": needs("contracts.view_chargerequest"),
    "invoices:travel-new": needs("invoices.add_travelexpense"),
    "invoices:usage-new": needs("invoices.add_datavolumeusage"),
    "invoices:work-log-new": needs("invoices.add_worklog"),
    "invoices:work-log-import": needs("invoices.add_worklog", "invoices.change_worklog"),
    "invoices:fapiao-import": needs("invoices.add_fapiao", "invoices.change_fapiao"),
    # the API answers keys only; its schema, docs and problem types are read before a key is held
    "api-problem-type": PUBLIC,
    "schema": PUBLIC,
    "api-docs": PUBLIC,
    "api-me": API_KEY,
    "contracts-api:entitlements-check": API_KEY,
    "contracts-api:entitlements-consume": API_KEY,
    "contracts-api:consumption-correct": API_KEY,
    "contracts-api:charge-requests": API_KEY,
    "contracts-api:charge-request": API_KEY,
    "contracts-api:customer-coverage": API_KEY,
    "invoices-api:work-logs": API_KEY,
    "invoices-api:credit-notes": API_KEY,
    "invoices-api:order": API_KEY,
    "invoices-api:order-close": API_KEY,
    "invoices-api:order-cancel": API_KEY,
    "invoices-api:customer-statement": API_KEY,
    "events-api:events": API_KEY,
    "events-api:webhook-endpoints": API_KEY,
    "events-api:webhook-endpoint": API_KEY,
    "events-api:webhook-endpoint-rotate-secret": API_KEY,
    "events-api:webhook-endpoint-replay": API_KEY,
    "events-api:webhook-deliveries": API_KEY,
    "events-api:webhook-delivery-resend": API_KEY,
    # the admin site itself
    "admin:index": ANY_STAFF,
    "admin:login": PUBLIC,
    "admin:logout": PUBLIC,
    "admin:password_change": ANY_STAFF,
    "admin:password_change_done": ANY_STAFF,
    "admin:jsi18n": ANY_STAFF,
    "admin:app_list": ANY_STAFF,  # walked for the catalogue, which every role sees
    "admin:autocomplete": needs("contracts.view_customer"),  # walked for a quote's customer
    "admin:view_on_site": Needs(answer=404),  # no model of ours has a page on the site
    "admin:(?P<url>.*)$": Needs(answer=404),  # the admin's catch-all for unknown addresses
}


def model_admin(label: str, *, add=True, delete=True, audited=False, imports=False, **kinds) -> dict:
    """The URLs of one model's admin and what each needs: its changelist and change page its view (or
    change) permission, its add and delete pages theirs, imports its add and change permissions, exports
    its view permission. An audited model's history (billing.admin.AuditHistoryAdmin) needs the view
    permission of its historical model, which only the administrator holds. ``kinds`` overrides one."""
    app, model = label.split(".")
    see = Needs(any_of=(f"{app}.view_{model}", f"{app}.change_{model}"))
    urls = {
        "changelist": see,
        "change": see,
        "redirect": ANY_STAFF,  # <object id>/ redirects to the change page, which checks
        "add": needs(f"{app}.add_{model}") if add else NOBODY,
        "delete": needs(f"{app}.delete_{model}") if delete else NOBODY,
        "history": Needs(any_of=(f"{app}.view_historical{model}", f"{app}.change_historical{model}"))
        if audited
        else see,
    }
    if audited:
        urls["simple_history"] = urls["history"]
    if imports:
        urls |= {
            "import": needs(f"{app}.add_{model}", f"{app}.change_{model}"),
            "process_import": needs(f"{app}.add_{model}", f"{app}.change_{model}"),
            "export": needs(f"{app}.view_{model}"),
        }
    return urls | kinds


ADMIN_MODELS = {
    "auth.group": model_admin("auth.group"),
    "auth.user": model_admin("auth.user", password_change=needs("auth.change_user")),
    "sequences.sequence": model_admin("sequences.sequence"),
    "axes.accessattempt": model_admin("axes.accessattempt", add=False),
    "axes.accesslog": model_admin("axes.accesslog", add=False),
    "axes.accessfailurelog": model_admin("axes.accessfailurelog", add=False),
    "billing.apikey": model_admin("billing.apikey", audited=True),
    # an administrator resets a second factor; nobody reads a device's secret (billing.second_factor)
    "otp_totp.totpdevice": model_admin("otp_totp.totpdevice", config=NOBODY, qrcode=NOBODY),
    "otp_static.staticdevice": model_admin("otp_static.staticdevice"),
    "catalog.product": model_admin("catalog.product"),
    "catalog.taxcategory": model_admin("catalog.taxcategory"),
    "catalog.vatrate": model_admin("catalog.vatrate"),
    "catalog.taxcode": model_admin("catalog.taxcode"),
    "catalog.servicegroup": model_admin("catalog.servicegroup"),
    "catalog.serviceitem": model_admin("catalog.serviceitem"),
    "catalog.businesscalendar": model_admin("catalog.businesscalendar", audited=True),
    "catalog.channelhours": model_admin("catalog.channelhours", audited=True),
    "catalog.emergencycoverwindow": model_admin("catalog.emergencycoverwindow", audited=True),
    "catalog.holidayscheduleday": model_admin("catalog.holidayscheduleday", imports=True),
    "catalog.servicetier": model_admin("catalog.servicetier", audited=True),
    "catalog.ratecard": model_admin("catalog.ratecard", audited=True),
    "catalog.persondayrate": model_admin("catalog.persondayrate", audited=True, imports=True),
    "catalog.unitprice": model_admin("catalog.unitprice", audited=True, imports=True),
    "catalog.datavolumeprice": model_admin("catalog.datavolumeprice", audited=True),
    "catalog.escalationlevel": model_admin("catalog.escalationlevel", audited=True),
    "catalog.tierbenefit": model_admin("catalog.tierbenefit", audited=True),
    "catalog.upgradeprice": model_admin("catalog.upgradeprice", audited=True),
    "contracts.customer": model_admin("contracts.customer", audited=True),
    "contracts.fapiaodetails": model_admin("contracts.fapiaodetails", audited=True),
    "contracts.contract": model_admin("contracts.contract", audited=True),
    "contracts.serviceperiod": model_admin("contracts.serviceperiod", audited=True, delete=False),
    "contracts.consumptionentry": model_admin(
        "contracts.consumptionentry", audited=True, add=False, delete=False
    ),
    "contracts.chargerequest": model_admin("contracts.chargerequest", audited=True, add=False, delete=False),
    "quotes.quote": model_admin("quotes.quote", audited=True, delete=False),
    "quotes.serviceorder": model_admin("quotes.serviceorder", audited=True, add=False),
    "invoices.charge": model_admin("invoices.charge", audited=True, add=False, delete=False),
    "invoices.invoice": model_admin("invoices.invoice", audited=True, add=False),  # a draft is deleted
    "invoices.invoicerun": model_admin("invoices.invoicerun", audited=True, delete=False),
    # the demo's work log is charged, so no one deletes it
    "invoices.worklog": model_admin("invoices.worklog", audited=True, imports=True, delete=False),
    "invoices.travelexpense": model_admin("invoices.travelexpense", audited=True),
    "invoices.datavolumeusage": model_admin("invoices.datavolumeusage", audited=True),
    # events and deliveries are the outbox's record: read, never added, changed or deleted here
    "events.webhookendpoint": model_admin("events.webhookendpoint", audited=True),
    "events.event": model_admin("events.event", add=False, delete=False),
    "events.delivery": model_admin("events.delivery", add=False, delete=False),
}


def every_url(resolver=None, prefix="", namespace=""):
    """(name, route, pattern) of every URL pattern, included ones and the admin's among them."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from every_url(pattern, prefix + str(pattern.pattern), inner)
        else:
            assert isinstance(pattern, URLPattern)
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield name, prefix + str(pattern.pattern), pattern


def classify(name: str | None, route: str):
    """What the URL needs, from the tables; None when it is classified nowhere."""
    if name in PAGES:
        return PAGES[name]
    if not route.startswith("admin/"):
        return None
    admin_model = re.match(r"admin/(\w+)/(\w+)/", route)
    if admin_model is None:  # the admin's unnamed catch-all
        return PAGES.get(f"admin:{route.removeprefix('admin/')}")
    kinds = ADMIN_MODELS.get(f"{admin_model[1]}.{admin_model[2]}", {})
    if name is None:
        return kinds.get("redirect") if route.endswith("<path:object_id>/") else None
    return kinds.get(name.removeprefix(f"admin:{admin_model[1]}_{admin_model[2]}_"))


@dataclass
class Walk:
    """The demo objects whose addresses the walk requests."""

    customer: Customer
    quote: Quote
    order: ServiceOrder
    invoice: Invoice  # a draft
    issued: Invoice
    run: InvoiceRun
    entry: ConsumptionEntry
    charge: ChargeRequest
    travel_pk: int
    fapiao_batch_pk: int


@pytest.fixture
def users(catalogue, django_user_model):
    return load_demo(django_user_model)


@pytest.fixture
def walk(users) -> Walk:
    """Every model the admin shows has a row (so each change, delete and history page has one to show)."""
    customer = Customer.objects.get(code="DEMO-ACTIVE")
    assert customer.account_manager == users["account_manager"]
    quote = quote_create(customer=customer, created_by=users["sales"])
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    quote = quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    quote.pdf.save(f"{uuid.uuid4()}.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    travel = travel_expense_record(
        customer=customer,
        category="transport",
        spent_on=datetime.date(2026, 3, 5),
        amount=Money(880, "CNY"),
        description="高铁",
        receipt=SimpleUploadedFile(f"{uuid.uuid4()}.pdf", b"%PDF-1.4\n% receipt\n"),
    )
    DataVolumeUsage.objects.create(
        customer=customer, quantity=Decimal(10), measured_on=datetime.date(2026, 3, 5)
    )
    create_api_key(name="Ticketing", scopes=["entitlements:read"])
    webhook_endpoint_create(url="https://93.184.215.14/hooks")  # a public address: no lookup
    event_record("quote.sent", customer_code=customer.code, data={"object": {"number": "Q-walk"}})
    EmergencyCoverWindow.objects.create(
        date=datetime.date(2027, 2, 5),
        start=datetime.time(18),
        end=datetime.time(0),
        name_zh="除夕",
        name_en="Eve",
    )
    TOTPDevice.objects.create(user=users["finance"], name="app", confirmed=True)
    StaticDevice.objects.create(user=users["finance"], name="recovery", confirmed=True)
    seen = {"user_agent": "walk", "ip_address": "198.51.100.7", "username": "x", "http_accept": "*/*"}
    AccessAttempt.objects.create(**seen, path_info="/", get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen, path_info="/")
    AccessFailureLog.objects.create(**seen, path_info="/")
    drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT, lines__isnull=False).distinct()
    assert drafts.count() >= 2
    issued = invoice_issue(invoice=drafts.last())
    fapiao_batch = FapiaoBatch.objects.create(created_by=users["finance"])
    fapiao_batch.invoices.add(issued)
    return Walk(
        customer=customer,
        quote=quote,
        order=ServiceOrder.objects.get(quote=quote),
        invoice=drafts.first(),
        issued=issued,
        run=InvoiceRun.objects.first(),
        entry=ConsumptionEntry.objects.filter(customer=customer).first(),
        charge=ChargeRequest.objects.filter(customer=customer).first(),
        travel_pk=travel.pk,
        fapiao_batch_pk=fapiao_batch.pk,
    )


def address(name: str | None, route: str, pattern: URLPattern, walk: Walk) -> str:
    """The URL filled with demo objects."""
    code = walk.customer.code
    by_name = {
        "contracts:charge-request-answer": {"token": charge_link_token(walk.charge)},
        "quotes:answer": {"token": quote_link_token(walk.quote)},
        "quotes:pdf": {"token": quote_link_token(walk.quote)},
        "contracts:charge-request-decide": {"pk": walk.charge.pk},
        "quotes:step": {"pk": walk.quote.pk, "step": "submit"},
        "invoices:run-progress": {"pk": walk.run.pk},
        "invoices:customer": {"code": code},
        "invoices:order": {"pk": walk.order.pk},
        "invoices:close-order": {"pk": walk.order.pk},
        "invoices:cancel-order": {"pk": walk.order.pk},
        "invoices:correct-consumption": {"code": code, "pk": walk.entry.pk},
        "invoices:statement": {"code": code},
        "invoices:statement-pdf": {"code": code},
        "invoices:statement-send": {"code": code},
        "invoices:pdf": {"pk": walk.issued.pk},
        "invoices:remove-line": {"pk": walk.invoice.pk, "line_pk": walk.invoice.lines.first().pk},
        "invoices:approve-travel": {"pk": walk.travel_pk},
        "invoices:fapiao-batch-download": {"pk": walk.fapiao_batch_pk},
        "contracts:customer-import-template": {"kind": "contracts", "suffix": "xlsx"},
        "contracts:customer-edit": {"code": code},
        "contracts:fapiao-details": {"code": code},
        "contracts:portal-access": {"code": code},
        "portal:quote": {"pk": walk.quote.pk},
        "portal:quote-pdf": {"pk": walk.quote.pk},
        "portal:charge-request": {"pk": walk.charge.pk},
        "portal:invoice-pdf": {"number": walk.issued.number},
        "contracts:contact-new": {"code": code},
        "contracts:contact-edit": {"pk": walk.customer.contacts.first().pk},
        "contracts:contract-new": {"code": code},
        "contracts:period-new": {"pk": walk.customer.contracts.first().pk},
        "admin:app_list": {"app_label": "catalog"},
        "admin:view_on_site": {
            "content_type_id": ContentType.objects.get_for_model(Customer).pk,
            "object_id": walk.customer.pk,
        },
        "admin:auth_user_password_change": {"id": get_user_model().objects.first().pk},
        "api-problem-type": {"slug": "forbidden"},
        "contracts:charge-request": {"pk": walk.charge.pk},
        "quotes:change-line": {"pk": walk.quote.pk, "line_pk": walk.quote.lines.first().pk},
        "quotes:remove-line": {"pk": walk.quote.pk, "line_pk": walk.quote.lines.first().pk},
        "quotes:draft-renewal": {"period_pk": walk.customer.contracts.first().periods.first().pk},
    }
    if name in by_name:
        return reverse(name, kwargs=by_name[name])
    if name and name.startswith(("quotes:", "invoices:")) and "<int:pk>" in route:
        return reverse(name, kwargs={"pk": walk.quote.pk if name.startswith("quotes:") else walk.invoice.pk})
    if route.startswith("admin/") and ("object_id" in route or "history/([^/]+)" in route):
        app, model = re.match(r"admin/(\w+)/(\w+)/", route).groups()
        row = ContentType.objects.get_by_natural_key(app, model).model_class()._default_manager.first()
        if (app, model) == ("invoices", "invoice"):
            row = walk.invoice  # a draft, which may be deleted (the demo also has issued invoices)
        assert row is not None, f"no {app}.{model} to walk {route}"
        if name and name.endswith("_simple_history"):
            return reverse(name, args=[row.pk, row.history.first().history_id])
        if name is None:
            return f"/admin/{app}/{model}/{row.pk}/"
        return reverse(name, kwargs={"object_id": row.pk})
    if name is None:
        return "/admin/nothing-here/"  # the catch-all
    if name == "admin:autocomplete":
        return reverse(name) + "?app_label=quotes&model_name=quote&field_name=customer"
    if "<" in route:  # an API URL: any value, the key is asked first
        return reverse(name, kwargs=dict.fromkeys(pattern.pattern.converters, "1"))
    return reverse(name)


class _Rollback(Exception):
    pass


def request(client, url: str):
    """GETs ``url``, or POSTs to it (without a form, rolled back) when the view answers POST only."""
    response = client.get(url)
    if response.status_code != 405:
        return response
    try:
        with transaction.atomic():
            response = client.post(url)
            raise _Rollback
    except _Rollback:
        return response


def let_in(response) -> bool | str:
    """True for a let-in answer, False for a refusal, the status when it is neither (a 404, a 500)."""
    if response.status_code == 403:
        return False
    if response.status_code in (301, 302) and "/login/" in response.get("Location", ""):
        return False
    if response.status_code in (301, 302) and response.get("Location", "").startswith("/portal/sign-in"):
        return False  # the portal sends whoever is not one of its contacts to its own sign-in
    if response.status_code in (404, 405) or response.status_code >= 500:
        return str(response.status_code)
    return True


def walk_every_url(client, role: str | None, walk: Walk, user=None) -> list:
    """The cells where the answer differs from the matrix: (URL name or route, URL, expected, answer)."""
    differences = []
    for name, route, pattern in every_url():
        rule = classify(name, route)
        if rule is None:
            differences.append((name or route, route, "classified in the matrix", "unclassified"))
            continue
        if rule == API_KEY or route.startswith("api/"):
            continue  # the API: test_the_api_answers_keys_only
        url = address(name, route, pattern, walk)
        response = request(client, url)
        expected = rule.lets_in(role)
        answer = let_in(response)
        if expected and rule.answer is not None:
            answer = response.status_code == rule.answer or str(response.status_code)
        if answer != expected:
            differences.append((name or route, url, expected, answer))
        if user is not None and name == "admin:logout":
            client.force_login(user)  # the walk logged itself out
    return differences


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_url_lets_in_exactly_the_roles_of_the_matrix(client, users, walk, role):
    client.force_login(users[role])
    differences = walk_every_url(client, role, walk, users[role])
    assert not differences, "\n".join(map(str, differences))


def test_an_anonymous_visitor_gets_only_the_public_urls(client, walk):
    differences = walk_every_url(client, None, walk)
    assert not differences, "\n".join(map(str, differences))


def test_the_api_answers_keys_only(client, users, walk):
    """Every API URL answers 401 without a key, also to a signed-in administrator's session; its schema,
    docs and problem types are public."""
    differences = []
    for signed_in in (False, True):
        if signed_in:
            client.force_login(users["administrator"])
        for name, route, pattern in every_url():
            if not route.startswith("api/"):
                continue
            rule = classify(name, route)
            url = address(name, route, pattern, walk)
            status = client.get(url).status_code
            expected = 401 if rule == API_KEY else 200
            if rule not in (API_KEY, PUBLIC) or status != expected:
                differences.append((name, url, signed_in, expected, status))
    assert differences == []


def test_every_import_and_export_of_the_admin_is_in_the_matrix():
    """Each model whose admin imports or exports is classified with its import and export URLs: the
    settings and billing.imports.CheckedImportExportAdmin hold them to the model's own permissions."""
    for model, model_admin_ in admin.site._registry.items():
        kinds = ADMIN_MODELS[model._meta.label_lower]
        if isinstance(model_admin_, ImportMixin):
            assert {"import", "process_import"} <= kinds.keys(), model
        if isinstance(model_admin_, ExportMixin):
            assert "export" in kinds, model
