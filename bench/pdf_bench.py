"""Chinese quote PDFs against a Latin one of the same layout, rendered in the same run.

The Latin baseline is the same one-page quote with every CJK character replaced by a Latin letter, so
the two differ only in the font work (CJK shaping and subsetting with HarfBuzz).
"""

import datetime
import re
import shutil
import subprocess
import time
from decimal import Decimal

INVOICE_LINES = 138
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _quote(lines: int):
    from catalog.models import ServiceItem
    from contracts.models import Customer
    from quotes.services import quote_add_line, quote_add_travel, quote_create

    quote = quote_create(
        customer=Customer.objects.get(code="DEMO-ACTIVE"), quote_date=datetime.date(2026, 3, 4)
    )
    services = ["custom-development", "requirements-analysis", "system-rollout", "architecture-optimisation"]
    for n in range(lines):
        quote_add_line(
            quote=quote,
            service=ServiceItem.objects.get(code=services[n % len(services)]),
            quantity=Decimal(1 + n % 7),
            description=f"第{n + 1}项 定制开发：流程与报表改造（含测试与上线支持）",
        )
    quote_add_travel(quote=quote, description="北京—南昌往返机票及住宿", amount=Decimal("3456.78"))
    return quote


def _invoice(lines: int):
    """A draft invoice of ``lines`` person-day lines and one travel line, as a run would bill them."""
    from djmoney.money import Money

    from contracts.models import Customer
    from invoices.models import Invoice, InvoiceLine

    invoice = Invoice.objects.create(customer=Customer.objects.get(code="DEMO-ACTIVE"), note="基准测试发票")
    for n in range(lines):
        gross = Decimal(1200 * (1 + n % 5))
        net = (gross / Decimal("1.06")).quantize(Decimal("0.01"))
        InvoiceLine.objects.create(
            invoice=invoice,
            position=n + 1,
            description=f"第{n + 1}项 定制开发人天 · 工程师 张伟 · 工单 TK-{4000 + n}",
            quantity=Decimal(1 + n % 5),
            unit="人天",
            unit_price=Money(1200, "CNY"),
            vat_rate=Decimal("0.06"),
            net=Money(net, "CNY"),
            vat=Money(gross - net, "CNY"),
            gross=Money(gross, "CNY"),
        )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=lines + 1,
        description="北京—南昌往返机票及住宿",
        quantity=Decimal(1),
        unit_price=Money("3456.78", "CNY"),
        vat_rate=Decimal(0),
        pass_through=True,
        net=Money("3456.78", "CNY"),
        vat=Money(0, "CNY"),
        gross=Money("3456.78", "CNY"),
    )
    return invoice


def _timed(html: str, repeat: int = 5) -> tuple[float, bytes]:
    from billing.pdf import html_to_pdf

    html_to_pdf(html)  # warm: fonts loaded once per process
    samples, data = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        data = html_to_pdf(html)
        samples.append(time.perf_counter() - start)
    return sorted(samples)[len(samples) // 2], data


def _pages(data: bytes) -> str:
    """The page count as pdfinfo (poppler-utils) reads it."""
    if not shutil.which("pdfinfo"):
        return "?"
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return re.search(r"Pages:\s+(\d+)", info).group(1)


def run() -> list[str]:
    from django.template.loader import render_to_string
    from django.utils.translation import override

    from invoices.documents import invoice_context
    from quotes.documents import quote_context

    with override("zh-hans"):
        one_page = render_to_string("quotes/quote_pdf.html", quote_context(_quote(6)))
        twelve = render_to_string("quotes/quote_pdf.html", quote_context(_quote(57)))
        invoice = render_to_string("invoices/invoice_pdf.html", invoice_context(_invoice(INVOICE_LINES)))
    latin = CJK.sub("x", one_page)
    t_latin, _ = _timed(latin)
    t_cjk, _ = _timed(one_page)
    t_twelve, data = _timed(twelve, repeat=3)
    pages = _pages(data)
    t_invoice, invoice_data = _timed(invoice, repeat=3)
    return [
        "## Quote PDF (WeasyPrint, Noto Sans CJK subset by HarfBuzz)",
        f"- Latin one page (baseline): {t_latin * 1000:.0f} ms",
        f"- Chinese one page: {t_cjk * 1000:.0f} ms; ratio {t_cjk / t_latin:.2f}",
        f"- Chinese {pages} pages: {t_twelve * 1000:.0f} ms; ratio {t_twelve / t_latin:.2f}",
        f"- Chinese invoice of {_pages(invoice_data)} pages ({INVOICE_LINES} lines): "
        f"{t_invoice * 1000:.0f} ms; ratio {t_invoice / t_latin:.2f}",
    ]
