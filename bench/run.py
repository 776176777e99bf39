"""Benchmarks, each reported as a ratio against a baseline measured in the same run.

Run with `make bench`; results are printed and written to bench/out/latest.md. Figures worth keeping go to
bench/RESULTS.md with the command that produced them.
"""

import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> str:
    """A fresh SQLite file (or BENCH_DATABASE_URL), migrated; returns its URL."""
    db = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{db}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return os.environ["DATABASE_URL"]


def timed(fn, repeat: int = 5) -> float:
    """Median seconds of ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_calendar() -> list[str]:
    """add_working_time on the seeded 5x8 calendar against a minute-by-minute count of the same rules."""
    from catalog.calendar import add_working_time, load_calendar
    from tests.catalog.test_calendar import oracle_add

    cal = load_calendar("5x8")
    tz = cal.tz
    rng = random.Random(7)
    starts = [
        dt.datetime(2026, 1, 1, tzinfo=tz) + dt.timedelta(minutes=rng.randrange(0, 350 * 24 * 60))
        for _ in range(300)
    ]
    hours = [1, 8, 12, 16, 24]

    def ours():
        for i, start in enumerate(starts):
            add_working_time(start, dt.timedelta(hours=hours[i % 5]), calendar=cal)

    def baseline():
        for i, start in enumerate(starts):
            oracle_add(cal, start, hours[i % 5] * 60)

    t_ours, t_base = timed(ours), timed(baseline, repeat=3)
    per_call = t_ours / len(starts) * 1e6
    return [
        "## Calendar: response deadline (add_working_time), 300 deadlines of 1-24 working hours",
        f"- ours: {per_call:.1f} µs per deadline",
        f"- baseline (minute-by-minute count of the same rules): {t_base / len(starts) * 1e6:.1f} µs",
        f"- ratio ours/baseline: {t_ours / t_base:.4f}",
    ]


def bench_load_catalog() -> list[str]:
    """A second load_catalog (nothing to create) against the first."""
    from catalog.services import load_catalog

    start = time.perf_counter()
    load_catalog()
    first = time.perf_counter() - start
    second = timed(load_catalog, repeat=3)
    return [
        "## load_catalog",
        f"- first load: {first * 1000:.0f} ms; reload (nothing created): {second * 1000:.0f} ms",
        f"- ratio reload/first: {second / first:.2f}",
    ]


# BENCH_ONLY=pdf,http (a comma-separated list of these) runs only those parts; the catalogue and the demo
# data are always loaded.
PARTS = (
    "catalog",
    "calendar",
    "pdf",
    "import",
    "fapiao-import",
    "invoices",
    "queries",
    "inprocess",
    "http",
    "pages",
    "run-workers",
    "fapiao",
    "events",
)


def main() -> None:
    only = [part for part in os.environ.get("BENCH_ONLY", "").split(",") if part]
    if unknown := set(only) - set(PARTS):
        raise SystemExit(f"BENCH_ONLY: unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    wanted = set(only or PARTS)
    database_url = setup_django()
    from bench import fapiao_bench, http_check, invoice_bench, pages_bench, pdf_bench
    from billing.apikeys import create_api_key
    from catalog.services import load_catalog
    from contracts import demo

    lines = [f"# Benchmarks {dt.datetime.now():%Y-%m-%d %H:%M}", ""]
    print(*lines, sep="\n", flush=True)

    def add(part: list[str]) -> None:
        """A part's lines, printed as soon as it ends (a later part that fails loses nothing of it)."""
        lines.extend([*part, ""])
        print(*part, "", sep="\n", flush=True)

    if "catalog" in wanted:
        add(bench_load_catalog())
    load_catalog()
    if "calendar" in wanted:
        add(bench_calendar())
    demo.load()
    if "pdf" in wanted:
        add(pdf_bench.run())
    if "import" in wanted:
        add(invoice_bench.import_rates())
    if "fapiao-import" in wanted:  # the platform's answer of BENCH_FAPIAO_ROWS issued fapiao
        from bench import fapiao_import_bench

        add(fapiao_import_bench.run(int(os.environ.get("BENCH_FAPIAO_ROWS", "5000"))))
    if "invoices" in wanted:
        customers = int(os.environ.get("BENCH_INVOICE_CUSTOMERS", "10000"))
        add(invoice_bench.invoice_run(customers))
    if "pages" in wanted:  # every staff page at each size (BENCH_PAGES_CUSTOMERS, the database grows)
        sizes = [int(n) for n in os.environ.get("BENCH_PAGES_CUSTOMERS", "100,10000").split(",") if n]
        add(pages_bench.run(sizes))
    if "run-workers" in wanted:  # the invoice run shared by 1 and 2 Celery worker processes
        customers = int(os.environ.get("BENCH_RUN_CUSTOMERS", "10000"))
        add(invoice_bench.invoice_run_workers(customers, database_url))
    if "fapiao" in wanted:  # the batch workbook export (BENCH_FAPIAO_INVOICES, several workbooks)
        add(fapiao_bench.export(int(os.environ.get("BENCH_FAPIAO_INVOICES", "5000"))))
    if "events" in wanted:  # outbox queries; a burst of BENCH_EVENTS delivered over HTTP
        from bench import events_bench

        add(events_bench.run())
    _key, raw_key = create_api_key(name="bench", scopes=["entitlements:read"])
    if "queries" in wanted:  # also puts 100k contracts in the database for the HTTP runs
        add(http_check.query_counts())
    if "inprocess" in wanted:
        add(http_check.in_process(raw_key))
    if "http" in wanted:
        add(http_check.run(database_url, raw_key))
    report = "\n".join(lines)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report)


if __name__ == "__main__":
    main()
