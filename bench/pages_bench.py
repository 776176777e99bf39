"""Every staff page at growing numbers of customers: server time and query count side by side.

The pages are enumerated from the URL resolver (every pattern under /staff/), so pages added later are
measured without touching this file; each URL parameter is filled with a real object, found by the path
segment before it (``/staff/invoices/<pk>/`` an invoice, ``/staff/customers/<code>/`` a customer). Objects
are taken from one customer with a long history, so a page that reads "all of this customer's" rows grows
with the data as it would in real use. Each page is asked once to warm up, then BENCH_PAGES_REPEAT times
through Django's test client (the whole request: middleware, session, view, template), signed in as a
superuser, who sees every page. A page is flagged when its query count grows with the data, or when its
median server time is over 300 ms at the largest size.

    BENCH_ONLY=pages BENCH_PAGES_CUSTOMERS=100,10000 make bench

The database grows from one size to the next (`load_scale` adds the customers missing), so the sizes go
up; with BENCH_DATABASE_URL pointing at a database already loaded, a size below what it holds is measured
at what it holds.
"""

import datetime
import os
import re
import statistics
import time
from dataclasses import dataclass, field

SLOW_MS = 300
SLOW_SECONDS = 3
SEGMENT_MODELS = {  # path segment before a parameter -> "app_label.Model"; others are guessed by name
    "customers": "contracts.Customer",
    "consumption": "contracts.ConsumptionEntry",
    "charge-requests": "contracts.ChargeRequest",
    "contracts": "contracts.Contract",
    "periods": "contracts.ServicePeriod",
    "contacts": "contracts.Contact",
    "quotes": "quotes.Quote",
    "orders": "quotes.ServiceOrder",
    "renewals": "contracts.ServicePeriod",
    "invoices": "invoices.Invoice",
    "credit-notes": "invoices.Invoice",
    "lines": "invoices.InvoiceLine",
    "invoice-runs": "invoices.InvoiceRun",
    "runs": "invoices.InvoiceRun",
    "travel": "invoices.TravelExpense",
    "payments": "invoices.Payment",
    "work-logs": "invoices.WorkLog",
}
SLUG_FIELDS = {"code": "code", "number": "number"}  # parameter -> the model field it holds


@dataclass
class PageFigure:
    route: str
    url: str = ""
    status: int = 0
    queries: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    note: str = ""


@dataclass
class SizeFigures:
    customers: int
    invoices: int
    work_logs: int
    pages: dict[str, PageFigure] = field(default_factory=dict)


def staff_routes() -> list[str]:
    """The route of every URL pattern under /staff/, in the resolver's order."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("staff/"):
                found.append(route)

    walk(get_resolver().url_patterns, "")
    return list(dict.fromkeys(found))


def _model_for(segment: str):
    from django.apps import apps

    if segment in SEGMENT_MODELS:
        return apps.get_model(SEGMENT_MODELS[segment])
    wanted = segment.replace("-", "").rstrip("s")
    for model in apps.get_models():
        if model._meta.model_name in (wanted, segment.replace("-", "")):
            return model
    return None


class Objects:
    """Real objects for URL parameters: of the customer with the longest history where the model has a
    customer, else the most recent one."""

    def __init__(self):
        from contracts.models import Customer
        from invoices.models import Invoice

        self.customer = (
            Customer.objects.filter(code__startswith="SCALE-", contracts__signed_on__isnull=False)
            .order_by("contracts__signed_on", "pk")
            .first()
        ) or Customer.objects.order_by("pk").first()
        self.invoice = (
            Invoice.objects.filter(customer=self.customer, status="issued", kind="invoice")
            .order_by("-issue_date")
            .first()
        )

    def pick(self, model, parent=None):
        from invoices.models import Invoice

        if model is Invoice and self.invoice is not None:
            return self.invoice
        rows = model._default_manager.all()
        if parent is not None:
            links = [f.name for f in model._meta.fields if f.is_relation and f.related_model is type(parent)]
            if links:
                rows = rows.filter(**{links[0]: parent})
        field_names = {f.name for f in model._meta.fields}
        if parent is None and "customer" in field_names:
            own = rows.filter(customer=self.customer).order_by("-pk").first()
            if own is not None:
                return own
        if model is type(self.customer):
            return self.customer
        return rows.order_by("-pk").first()


def fill(route: str, objects: Objects) -> tuple[str | None, str]:
    """The URL of ``route`` with real objects in its parameters, or None and why not."""
    parts = route.split("/")
    parent = None
    for i, part in enumerate(parts):
        match = re.fullmatch(r"<(?:\w+:)?(\w+)>", part)
        if not match:
            if "<" in part:  # e.g. <kind>.<suffix>: a file name, not an object
                return None, f"{part} is not an object"
            continue
        name = match.group(1)
        if not (name == "pk" or name.endswith("_pk") or name in SLUG_FIELDS):
            return None, f"<{name}> is not an object"
        segment = parts[i - 1] if i else ""
        model = _model_for(segment)
        if model is None:
            return None, f"no model for “{segment}”"
        obj = objects.pick(model, parent=parent)
        if obj is None:
            return None, f"no {model._meta.model_name} in the data"
        parts[i] = str(getattr(obj, SLUG_FIELDS.get(name, "pk")))
        parent = obj
    return "/" + "/".join(parts), ""


def measure(repeat: int) -> dict[str, PageFigure]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    users = get_user_model().objects
    admin = users.filter(username="bench-admin").first() or users.create_superuser(
        "bench-admin", "bench@example.com", None
    )
    objects = Objects()
    figures = {}
    with override_settings(OTP_REQUIRED=False, ALLOWED_HOSTS=["*"]):
        client = Client()
        client.force_login(admin)
        for route in staff_routes():
            figure = PageFigure(route=route)
            figures[route] = figure
            url, why = fill(route, objects)
            if url is None:
                figure.note = why
                continue
            figure.url = url
            start = time.perf_counter()
            response = client.get(url)  # warm-up (a PDF rendered once here is stored)
            warm_up = time.perf_counter() - start
            figure.status = response.status_code
            if response.status_code == 405:
                figure.note = "POST only"
                continue
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            samples = [(time.perf_counter() - start) * 1000]
            figure.queries = len(queries)
            # a page taking seconds is slow whatever its figure: asked twice more, not BENCH_PAGES_REPEAT
            for _ in range(2 if warm_up > SLOW_SECONDS else repeat - 1):
                start = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - start) * 1000)
            samples.sort()
            figure.median_ms = statistics.median(samples)
            figure.p95_ms = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
            if response.status_code != 200:
                figure.note = f"HTTP {response.status_code}"
            elif not response.get("Content-Type", "").startswith("text/html"):
                figure.note = response["Content-Type"].split(";")[0]
    return figures


def grow_to(customers: int, *, seed: int) -> int:
    """Adds scale customers until there are ``customers``; returns how many there are."""
    from contracts.models import Customer
    from invoices.scale_demo import load_scale

    have = Customer.objects.filter(code__startswith="SCALE-").count()
    if have < customers:
        load_scale(customers=customers - have, seed=seed + have)
    return max(have, customers)


def run(sizes: list[int], *, repeat: int | None = None, seed: int = 1) -> list[str]:
    from invoices.models import Invoice, WorkLog

    repeat = repeat or int(os.environ.get("BENCH_PAGES_REPEAT", "7"))
    results: list[SizeFigures] = []
    loads = []
    for size in sorted(sizes):
        start = time.perf_counter()
        have = grow_to(size, seed=seed)
        loads.append(f"{have:,} customers loaded after {time.perf_counter() - start:.0f} s more")
        results.append(
            SizeFigures(
                customers=have,
                invoices=Invoice.objects.count(),
                work_logs=WorkLog.objects.count(),
                pages=measure(repeat),
            )
        )
    return report(results, repeat=repeat, loads=loads)


def report(results: list[SizeFigures], *, repeat: int, loads: list[str]) -> list[str]:
    first, last = results[0], results[-1]
    heads = " | ".join(f"{r.customers:,} cust.: queries, median / p95 ms" for r in results)
    lines = [
        f"## Staff pages at {' and '.join(f'{r.customers:,}' for r in results)} customers "
        f"({datetime.date.today()}, SQLite, test client, superuser, median of {repeat})",
        *(
            f"- {r.customers:,} customers: {r.invoices:,} invoices, {r.work_logs:,} work logs"
            for r in results
        ),
        *(f"- {line}" for line in loads),
        "",
        f"| page | URL | {heads} | flag |",
        "|---|---|" + "---|" * len(results) + "---|",
    ]
    skipped, flagged = [], []
    for route, figure in last.pages.items():
        if figure.note and not figure.median_ms:
            skipped.append(f"`/{route}` ({figure.note})")
            continue
        cells = []
        for result in results:
            page = result.pages.get(route)
            cells.append(f"{page.queries}, {page.median_ms:.0f} / {page.p95_ms:.0f}" if page else "-")
        flags = []
        start = first.pages.get(route)
        if start and start.median_ms and figure.queries > start.queries:
            flags.append(f"queries grow (+{figure.queries - start.queries})")
        if figure.median_ms > SLOW_MS:
            flags.append(f"> {SLOW_MS} ms")
        if figure.note:
            flags.append(figure.note)
        if any("grow" in flag or "ms" in flag for flag in flags):
            flagged.append(route)
        lines.append(f"| `/{route}` | `{figure.url}` | {' | '.join(cells)} | {'; '.join(flags)} |")
    lines += [
        "",
        f"- flagged (queries grow or over {SLOW_MS} ms at {last.customers:,}): {len(flagged)} of "
        f"{len(last.pages) - len(skipped)} pages measured",
        f"- not measured: {', '.join(skipped) or 'none'}",
    ]
    return lines


if __name__ == "__main__":  # against the database in DATABASE_URL, as it is: python -m bench.pages_bench
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from contracts.models import Customer

    have = Customer.objects.filter(code__startswith="SCALE-").count()
    print("\n".join(run([have])))
