"""PDFs as production renders them: with the hashed, compressed static files (whitenoise's manifest storage,
collected by `collectstatic`) as well as with the plain storage of development, the documents get their
stylesheet (page numbers, the Simplified Chinese font, one page for a short document); and the fetcher
still serves nothing but the project's own static files."""

import datetime
import io
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import override_settings
from pypdf import PdfReader

from billing.pdf import ORIGIN, StaticFilesFetcher
from catalog.models import ServiceItem
from invoices.models import Invoice, InvoiceRun
from invoices.services import invoice_issue, invoice_run_execute
from invoices.statements import statement_pdf
from invoices.tasks import render_invoice_pdf
from quotes.models import Quote
from quotes.services import quote_add_line, quote_create, quote_send
from quotes.tasks import render_quote_pdf
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db

DEVELOPMENT = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
PRODUCTION = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """`collectstatic` as `make serve-prod` runs it, into a folder of the test session, of the project's
    own static files (the documents link nothing else; compressing the third-party API docs takes minutes)."""
    root = tmp_path_factory.mktemp("staticfiles")
    own_files_only = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    with override_settings(
        STATIC_ROOT=root, STORAGES=production_storages(), STATICFILES_FINDERS=own_files_only
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


def production_storages() -> dict:
    return {**settings.STORAGES, "staticfiles": PRODUCTION}


@pytest.fixture(params=["development", "production"])
def static_storage(request, settings):
    """The static storage of development (files found where they are) or of production (collected,
    hashed names from the manifest)."""
    if request.param == "production":
        settings.STATIC_ROOT = request.getfixturevalue("collected_static")
        settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION}
    else:
        settings.STORAGES = {**settings.STORAGES, "staticfiles": DEVELOPMENT}
    return request.param


def fonts(reader: PdfReader) -> set[str]:
    """The base names of the fonts of every page, without their subset tag (``ABCDEF+``)."""
    names = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def assert_styled(data: bytes, *, pages: int) -> None:
    """A document with its stylesheet: the Simplified Chinese forms of Noto Sans CJK (the Japanese, Korean or
    traditional ones draw some characters differently), its page count and "page / pages" at the foot."""
    reader = PdfReader(io.BytesIO(data))
    names = fonts(reader)
    assert any(re.fullmatch(r"Noto-Sans-CJK-SC(-\w+)?", name) for name in names), names
    assert not [name for name in names if re.search(r"CJK-(JP|KR|TC|HK)", name, re.IGNORECASE)], names
    assert len(reader.pages) == pages
    for number, page in enumerate(reader.pages, start=1):
        assert re.search(rf"\b{number} / {pages}\b", page.extract_text()), page.extract_text()[-200:]


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME", legal_name="示例科技有限公司", uscc="91110000802100433B")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=50000)
    return customer


def test_production_static_files_give_an_invoice_its_stylesheet(
    static_storage, customer, django_capture_on_commit_callbacks
):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)))
    invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 3, 31))
    render_invoice_pdf(invoice.pk)
    invoice.refresh_from_db()
    assert_styled(invoice.pdf.read(), pages=1)


def test_production_static_files_give_a_quote_its_stylesheet(static_storage, customer, django_user_model):
    sales = django_user_model.objects.create_user(username="sales", is_staff=True)
    quote = quote_create(
        customer=customer, quote_date=D(2026, 3, 4), valid_until=D(2026, 4, 3), created_by=sales
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=5)
    quote_send(quote=quote)
    render_quote_pdf(quote.pk)
    assert_styled(Quote.objects.get(pk=quote.pk).pdf.read(), pages=1)


def test_production_static_files_give_a_statement_its_stylesheet(static_storage, customer):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)))
    invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 3, 31))
    assert_styled(statement_pdf(customer=customer, start=D(2026, 1, 1), end=D(2026, 6, 30)), pages=1)


def test_the_fetcher_serves_the_stylesheet_by_the_name_the_storage_gives_it(static_storage):
    url = ORIGIN + static("css/document.css")
    hashed = re.search(r"/document\.[0-9a-f]{12}\.css$", url)
    assert bool(hashed) == (static_storage == "production")
    assert b"@page" in StaticFilesFetcher().fetch(url).read()


def test_the_fetcher_serves_no_file_of_the_static_root_that_the_manifest_does_not_name(
    static_storage, collected_static
):
    planted = collected_static / "css" / "planted.css"
    planted.write_text("@page { size: A3 }")
    try:
        with pytest.raises(ValueError, match="static file"):
            StaticFilesFetcher().fetch(ORIGIN + "/static/css/planted.css")
    finally:
        planted.unlink()


@pytest.mark.parametrize(
    "path",
    [
        "/static//etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/css/..%2f..%2fpyproject.toml",
        "/static/css/document.css%00.png",
        "/static/../billing/settings.py",
        "/staticfiles.json",
        "/static/staticfiles.json",
        "/static/css/document.css.gz",
        "/static/",
        "/media/invoices/secret.pdf",
    ],
)
def test_the_fetcher_refuses_what_is_not_a_static_file_under_either_storage(static_storage, path):
    with pytest.raises(ValueError, match="static file"):
        StaticFilesFetcher().fetch(ORIGIN + path)


def test_the_fetcher_refuses_a_static_url_of_another_origin(static_storage):
    with pytest.raises(ValueError, match="static file"):
        StaticFilesFetcher().fetch("https://example.com" + static("css/document.css"))
