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

    from quotes.documents import quote_context

    with override("zh-hans"):
        one_page = render_to_string("quotes/quote_pdf.html", quote_context(_quote(6)))
        twelve = render_to_string("quotes/quote_pdf.html", quote_context(_quote(52)))
    latin = CJK.sub("x", one_page)
    t_latin, _ = _timed(latin)
    t_cjk, _ = _timed(one_page)
    t_twelve, data = _timed(twelve, repeat=3)
    pages = _pages(data)
    return [
        "## Quote PDF (WeasyPrint, Noto Sans CJK subset by HarfBuzz)",
        f"- Latin one page (baseline): {t_latin * 1000:.0f} ms",
        f"- Chinese one page: {t_cjk * 1000:.0f} ms; ratio {t_cjk / t_latin:.2f}",
        f"- Chinese {pages} pages: {t_twelve * 1000:.0f} ms; ratio {t_twelve / t_latin:.2f}",
    ]
