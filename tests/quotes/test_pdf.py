"""Quote PDFs: Chinese text, totals in capitals, and a fetcher that serves only our static files."""

import re
import subprocess

import pytest

from billing.pdf import StaticFilesFetcher, html_to_pdf, sha256
from quotes.models import Quote
from quotes.services import quote_send
from quotes.tasks import render_quote_pdf

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF as pdftotext (poppler) reads it, without white space (table cells wrap)."""
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def test_a_sent_quotes_pdf_holds_the_chinese_text_and_the_total_in_capitals(quote):
    quote_send(quote=quote)
    render_quote_pdf(quote.pk)
    quote.refresh_from_db()
    data = quote.pdf.read()
    assert data.startswith(b"%PDF")
    assert quote.pdf_sha256 == sha256(data)
    text = pdf_text(data)
    assert "报价单Quotation" in text
    assert "定制开发服务" in text
    assert "伍万肆仟玖佰伍拾陆元柒角捌分" in text
    assert "示例科技有限公司" in text


def test_rendering_again_keeps_the_first_pdf(quote):
    quote_send(quote=quote)
    first = render_quote_pdf(quote.pk)
    assert render_quote_pdf(quote.pk) == first
    assert Quote.objects.get(pk=quote.pk).pdf_sha256 == first


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.com/style.css",
        "https://documents.invalid/etc/passwd",
        "https://documents.invalid/static/../../etc/passwd",
        "https://documents.invalid/static/css/missing.css",
    ],
)
def test_the_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(ValueError, match="static file"):
        StaticFilesFetcher().fetch(url)


def test_the_fetcher_serves_our_stylesheet():
    response = StaticFilesFetcher().fetch("https://documents.invalid/static/css/document.css")
    assert b"@page" in response.read()


def test_stored_text_pointing_at_local_files_embeds_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = html_to_pdf(
        f'<link rel="attachment" href="file://{secret}"><img src="file://{secret}">'
        f'<link rel="stylesheet" href="file://{secret}"><style>@import url("file://{secret}");</style>'
        f'<a rel="attachment" href="https://example.com/x">x</a><p>hello 你好</p>'
    )
    assert data.startswith(b"%PDF")
    assert b"TOP-SECRET-CONTENT" not in data
    assert b"EmbeddedFile" not in data
    assert "hello你好" in pdf_text(data)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_and_stores_the_pdf(quote, real_celery_worker):
    Quote.objects.filter(pk=quote.pk).update(status="sent")
    digest = render_quote_pdf.delay(quote.pk).get(timeout=120, disable_sync_subtasks=False)
    quote.refresh_from_db()
    assert quote.pdf_sha256 == digest
    assert sha256(quote.pdf.read()) == digest
