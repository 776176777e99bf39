"""The one-way flow of the apps, as import-linter contracts (pyproject.toml, [tool.importlinter]): the staff
pages (workspace) read and act on every app, an app imports only those below it (invoices > quotes >
contracts > catalog), and billing's shared modules import no app."""

import subprocess
import sys
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_imports_follow_the_one_way_flow():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_staff_pages_keep_their_addresses_and_names():
    assert reverse("staff-home") == "/staff/"
    assert reverse("invoices:issue", args=[1]) == "/staff/invoices/1/issue"
    assert reverse("quotes:builder", args=[1]) == "/staff/quotes/1/"
    assert reverse("contracts:entitlement-lookup") == "/staff/entitlements/"
    assert reverse("invoices:quotes") == "/staff/quotes/"
    assert reverse("quotes:answer", args=["t"]) == "/q/t/"
    assert reverse("contracts:charge-request-answer", args=["t"]) == "/c/charge-requests/t/"


def test_every_staff_page_is_served_by_the_workspace():
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    staff = [(route, view) for route, view in walk(get_resolver().url_patterns) if route.startswith("staff/")]
    assert staff
    assert all(view.__module__.startswith("workspace.") for _route, view in staff), [
        (route, view.__module__) for route, view in staff if not view.__module__.startswith("workspace.")
    ]
