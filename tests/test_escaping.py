"""HTML and script in stored text (customer and contact names, quote notes, line descriptions, charge
requests) is shown as text on staff pages, on the customer's link pages and in the PDFs; and a PDF
embeds nothing that stored text or a template points at outside our static files."""

import datetime
import io
import logging
import socket

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from billing import pdf
from catalog.models import ServiceItem
from contracts import services as contract_services
from contracts.models import ChargeRequest, Contact, CustomModule
from contracts.services import charge_request_create
from invoices.models import Invoice, InvoiceLine, InvoiceRun
from invoices.services import invoice_issue, invoice_run_execute
from invoices.tasks import render_invoice_pdf
from quotes import services as quote_services
from quotes.models import QuoteLine
from quotes.services import quote_add_line, quote_add_travel, quote_create, quote_send
from quotes.tasks import render_quote_pdf
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("pwned")</script>'
IMG = "<img src=x onerror=alert(1)>"
LOCAL_FILE = '<img src="file:///etc/passwd">'
REMOTE = '<img src="http://example.com/x.png">'
HOSTILE = (SCRIPT, IMG, LOCAL_FILE, REMOTE)


@pytest.fixture
def hostile(catalogue, django_user_model):
    """A customer whose stored text is HTML, with a quote, a charge request and an issued invoice."""
    customer = CustomerFactory(code="EVIL", legal_name=f"恶意{SCRIPT}有限公司")
    today = timezone.localdate()
    start = today - datetime.timedelta(days=330)  # ends within a month: on the renewals page
    period = ServicePeriodFactory(
        contract__customer=customer, start=start, end=start + datetime.timedelta(days=364)
    )
    CustomModule.objects.create(contract=period.contract, name=IMG)
    Contact.objects.create(customer=customer, name=IMG, email="evil@example.com")
    quote = quote_create(
        customer=customer,
        quote_date=today,
        valid_until=today + datetime.timedelta(days=30),
        notes=f"{SCRIPT}\n{LOCAL_FILE}\n{REMOTE}",
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    QuoteLine.objects.filter(quote=quote).update(description=f"{IMG} {REMOTE}")
    quote_add_travel(quote=quote, description=f"{SCRIPT} {LOCAL_FILE}", amount=100)
    quote = quote_send(quote=quote)
    charge = charge_request_create(
        customer=customer,
        ticket_ref=IMG,
        description=f"{SCRIPT}\n{LOCAL_FILE}",
        requested_by="api:zendesk",
        estimated_person_days=2,
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today))
    InvoiceLine.objects.update(description=f"{IMG} {LOCAL_FILE} {REMOTE}")
    invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=today)
    return {"customer": customer, "quote": quote, "charge": charge, "invoice": invoice}


def assert_shown_as_text(html: str, *texts: str) -> None:
    for text in texts:
        assert text not in html, f"{text!r} reached the page as markup"
    assert any(escape(text) in html for text in texts), "the hostile text is not on the page at all"


@pytest.mark.parametrize(
    "url",
    [
        lambda h: reverse("invoices:customer", args=["EVIL"]),
        lambda h: reverse("contracts:charge-requests"),
        lambda h: reverse("invoices:quotes"),
        lambda h: reverse("quotes:pipeline"),
        lambda h: reverse("admin:contracts_customer_change", args=[h["customer"].pk]),
        lambda h: reverse("admin:contracts_chargerequest_changelist"),
        lambda h: reverse("admin:quotes_quote_change", args=[h["quote"].pk]),
    ],
    ids=[
        "customer",
        "charge requests",
        "quotes",
        "renewals",
        "admin customer",
        "admin charges",
        "admin quote",
    ],
)
def test_staff_pages_show_hostile_text_as_text(admin_client, hostile, url):
    response = admin_client.get(url(hostile))
    assert response.status_code == 200
    html = response.content.decode()
    assert_shown_as_text(html, *HOSTILE)


def test_the_customer_pages_behind_the_links_show_hostile_text_as_text(client, hostile):
    quote_page = client.get(
        reverse("quotes:answer", args=[quote_services.customer_link_token(hostile["quote"])])
    )
    assert quote_page.status_code == 200
    assert_shown_as_text(quote_page.content.decode(), *HOSTILE)
    assert escape(f"恶意{SCRIPT}有限公司") in quote_page.content.decode()
    ChargeRequest.objects.filter(pk=hostile["charge"].pk).update(status="awaiting_customer")
    charge_page = client.get(
        reverse(
            "contracts:charge-request-answer", args=[contract_services.customer_link_token(hostile["charge"])]
        )
    )
    assert charge_page.status_code == 200
    assert_shown_as_text(charge_page.content.decode(), *HOSTILE)


class FetchRecorder:
    """Records what WeasyPrint asks the fetcher for, and any attempt to open a network connection."""

    def __init__(self, monkeypatch):
        self.fetched: list[str] = []
        self.connections: list = []
        fetch = pdf.StaticFilesFetcher.fetch

        def recording_fetch(fetcher, url, headers=None):
            self.fetched.append(url)
            return fetch(fetcher, url, headers)

        def refuse_connection(sock, address):
            self.connections.append(address)
            raise OSError("no network in this test")

        monkeypatch.setattr(pdf.StaticFilesFetcher, "fetch", recording_fetch)
        monkeypatch.setattr(socket.socket, "connect", refuse_connection)

    @property
    def outside_static_files(self) -> list[str]:
        return [url for url in self.fetched if not url.startswith(f"{pdf.ORIGIN}/static/")]


def pdf_facts(data: bytes) -> tuple[str, int, bool]:
    """The PDF's text, how many images it holds, and whether it has embedded files."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    images = sum(len(page.images) for page in reader.pages)
    return text, images, "/EmbeddedFiles" in str(reader.trailer["/Root"].get("/Names", {}))


def test_the_quote_and_invoice_pdfs_print_hostile_text_and_embed_nothing(client, hostile, monkeypatch):
    recorder = FetchRecorder(monkeypatch)
    render_quote_pdf(hostile["quote"].pk)
    render_invoice_pdf(hostile["invoice"].pk)
    quote_pdf = client.get(reverse("quotes:pdf", args=[quote_services.customer_link_token(hostile["quote"])]))
    assert quote_pdf["Content-Type"] == "application/pdf"
    invoice = Invoice.objects.get(pk=hostile["invoice"].pk)
    for data in (b"".join(quote_pdf.streaming_content), invoice.pdf.read()):
        text, images, embedded = pdf_facts(data)
        assert "file:///etc/passwd" in text  # printed as text, not followed
        assert "<img" in text
        assert "alert(" in text
        assert images == 0
        assert not embedded
        assert b"root:x:0:0" not in data
    assert recorder.fetched  # our stylesheet
    assert recorder.outside_static_files == []
    assert recorder.connections == []


def test_a_template_pointing_outside_our_static_files_embeds_nothing_and_fetches_nothing(monkeypatch, caplog):
    recorder = FetchRecorder(monkeypatch)
    html = (
        '<html><head><link rel="stylesheet" href="http://example.com/x.css">'
        "<style>@font-face { font-family: x; src: url(http://example.com/x.woff) }"
        " body { background: url(file:///etc/passwd) }</style></head><body>"
        '<img src="file:///etc/passwd"><img src="http://example.com/x.png">'
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>'
        '<object data="file:///etc/passwd"></object><embed src="http://example.com/x.svg">'
        "<p>正文 body</p></body></html>"
    )
    with caplog.at_level(logging.WARNING, logger="billing.pdf"):
        data = pdf.html_to_pdf(html)
    text, images, embedded = pdf_facts(data)
    assert "正文" in text
    assert images == 0
    assert not embedded
    assert b"root:x:0:0" not in data
    assert recorder.outside_static_files  # asked for, and refused:
    assert {url for url in recorder.outside_static_files} <= {
        "http://example.com/x.css",
        "http://example.com/x.woff",
        "file:///etc/passwd",
        "http://example.com/x.png",
        "http://example.com/x.svg",
    }
    assert "PDF rendering refused to fetch" in caplog.text
    assert recorder.connections == []
