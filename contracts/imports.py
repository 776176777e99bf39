"""Customers, contacts and contracts imported from CSV or XLSX (a vendor moving from spreadsheets).

The file is read by billing.spreadsheets (its limits, UTF-8 or GB18030 CSV, XLSX checked before it is
loaded, no column named twice); it must have the columns of its kind (``COLUMNS``; ``REQUIRED`` ones at
least) and no other. Each row is then written through the services of contracts.setup, the ones the pages
call, so a row meets the same rules (the USCC check, versions, unique codes and numbers, the free period
through ``period_add`` and its overlap rule, the user's permissions and customers); a cell that looks like
a spreadsheet formula is refused. Rows are written in file order in one transaction: a later row sees the
earlier ones (a contact of a customer two rows up, a period overlapping one of an earlier row). Every bad
row is reported with its number (1 = the first row under the header) and why; the preview always rolls
back, and the import commits only when every row is good.

Why not django-import-export's resources, as the work-log import: a contract row makes a contract, its
licensed products, its custom modules and its free period, and each is refused or accepted by a service,
not by one model's ``full_clean``; running the services themselves keeps one write path.
"""

import datetime
import re
from dataclasses import dataclass, field
from typing import BinaryIO

import tablib
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from billing.imports import DateInWindowWidget, FlagWidget
from billing.spreadsheets import FORMULA_REFUSED, looks_like_formula, read_spreadsheet
from catalog.models import Product, ServiceTier
from contracts.models import ContractKind, Customer
from contracts.setup import (
    SetupInvalid,
    contact_add,
    contract_create,
    customer_create,
    free_period_add,
    manager_of_new_customer,
)

COLUMNS = {
    "customers": ["code", "legal_name", "uscc", "city", "region", "arrival_area"],
    "contacts": ["customer", "name", "title", "email", "phone", "primary"],
    "contracts": [
        "customer", "number", "kind", "signed_on", "products", "custom_modules", "free_start", "free_end",
        "tier", "trainings_per_year",
    ],
}  # fmt: skip
REQUIRED = {
    "customers": ["code", "legal_name"],
    "contacts": ["customer", "name"],
    "contracts": ["customer", "number", "signed_on", "products"],
}
KINDS = [
    ("customers", _("Customers")),
    ("contacts", _("Contacts")),
    ("contracts", _("Contracts with their products and free period")),
]
# Which permission a file of each kind needs (the services check each row again).
PERMISSIONS = {
    "customers": "contracts.add_customer",
    "contacts": "contracts.add_contact",
    "contracts": "contracts.add_contract",
}
LIST_SEPARATOR = re.compile(r"[;；\n]")


@dataclass
class ImportedRow:
    number: int
    summary: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    kind: str
    rows: list[ImportedRow]
    committed: bool = False

    @property
    def bad_rows(self) -> list[ImportedRow]:
        return [row for row in self.rows if row.errors]


def setup_file_read(handle: BinaryIO, *, name: str, size: int, kind: str) -> tablib.Dataset:
    """The rows of a file of ``kind``, or a BillingError saying why the file is refused."""
    dataset = read_spreadsheet(handle, name=name, size=size)
    headers = [header for header in dataset.headers or [] if header]
    missing = [column for column in REQUIRED[kind] if column not in headers]
    if missing:
        raise BillingError(
            _("The file lacks the column(s) %(columns)s; the first row must name the columns."),
            code="import_columns",
            params={"columns": ", ".join(missing)},
        )
    unknown = [column for column in headers if column not in COLUMNS[kind]]
    if unknown:
        raise BillingError(
            _("The file has column(s) %(columns)s that a file of %(kind)s does not have (%(known)s)."),
            code="import_columns",
            params={"columns": ", ".join(unknown), "kind": kind, "known": ", ".join(COLUMNS[kind])},
        )
    return dataset


def template_dataset(kind: str) -> tablib.Dataset:
    """An empty file of ``kind``: its header row."""
    return tablib.Dataset(headers=COLUMNS[kind], title=kind)


def setup_import(*, kind: str, dataset: tablib.Dataset, by, commit: bool) -> ImportResult:
    """Writes the rows of ``dataset`` through the set-up services; rolled back unless ``commit`` and
    every row is good."""
    write = WRITERS[kind]
    rows, memo = [], {}
    with transaction.atomic():
        for number, values in enumerate(dataset.dict, 1):
            values = {name: str(value or "").strip() for name, value in values.items() if name}
            row = ImportedRow(number=number)
            rows.append(row)
            row.errors = [
                f"{name}: {FORMULA_REFUSED}" for name, value in values.items() if looks_like_formula(value)
            ]
            if row.errors:
                continue
            try:
                with transaction.atomic():
                    row.summary = write(values, by, memo)
            except SetupInvalid as error:
                row.errors = [
                    f"{name}: {text}" if name != "__all__" else text
                    for name, texts in error.errors.items()
                    for text in texts
                ]
            except (BillingError, ValueError) as error:
                row.errors = [str(error)]
        committed = commit and not any(row.errors for row in rows)
        if not committed:
            transaction.set_rollback(True)
    return ImportResult(kind=kind, rows=rows, committed=committed)


# --- one row of each kind -------------------------------------------------------------------------------


def _customer(code: str, memo: dict) -> Customer:
    """The customer a row names (read once per file: a file names few customers in many rows)."""
    customers = memo.setdefault("customers", {})
    if code not in customers:
        customers[code] = Customer.objects.filter(code=code).first()
    customer = customers[code]
    if customer is None:
        raise ValueError(gettext("customer: no customer has the code “%(code)s”.") % {"code": code})
    return customer


def _date(values: dict, name: str) -> datetime.date | None:
    try:
        return DateInWindowWidget("%Y-%m-%d").clean(values.get(name) or None)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from error


def _choice(values: dict, name: str, choices, default: str) -> str:
    text = values.get(name) or default
    for value, label in choices:
        if text in (value, str(label)):
            return value
    known = ", ".join(value for value, _label in choices)
    raise ValueError(
        gettext("%(column)s: “%(value)s” is none of %(known)s.")
        % {"column": name, "value": text, "known": known}
    )


def _products(text: str, products: dict[str, Product]) -> list[tuple[Product, str]]:
    """``KMS 8.5.2; EIS 5.2.0`` (a product code and its version, also ``KMS:8.5.2``)."""
    licensed = []
    for item in filter(None, (part.strip() for part in LIST_SEPARATOR.split(text))):
        code, _separator, version = item.replace(":", " ").replace("：", " ").partition(" ")
        product = products.get(code.strip())
        if product is None or not version.strip():
            raise ValueError(
                gettext("products: “%(item)s” is not a product code and its version, such as KMS 8.5.2.")
                % {"item": item}
            )
        licensed.append((product, version.strip()))
    return licensed


def _custom_modules(text: str) -> list[tuple[str, str, None]]:
    """``oa-approval: 定制审批流模块; ...`` (a module's code and its name)."""
    modules = []
    for item in filter(None, (part.strip() for part in LIST_SEPARATOR.split(text))):
        code, _separator, name = item.replace("：", ":").partition(":")
        if not name.strip():
            raise ValueError(
                gettext(
                    "custom_modules: “%(item)s” is not a module's code and name, such as oa-flow: 审批流."
                )
                % {"item": item}
            )
        modules.append((code.strip(), name.strip(), None))
    return modules


def _write_customer(values: dict, by, memo: dict) -> str:
    customer = customer_create(
        by=by,
        code=values.get("code", ""),
        legal_name=values.get("legal_name", ""),
        uscc=values.get("uscc", ""),
        city=values.get("city", ""),
        region=values.get("region", ""),
        arrival_area=values.get("arrival_area", ""),
        account_manager=manager_of_new_customer(by),
    )
    return str(customer)


def _write_contact(values: dict, by, memo: dict) -> str:
    customer = _customer(values.get("customer", ""), memo)
    contact = contact_add(
        customer=customer,
        by=by,
        name=values.get("name", ""),
        title=values.get("title", ""),
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        is_primary=FlagWidget().clean(values.get("primary", "")),
    )
    return f"{customer.code}: {contact.name}"


def _write_contract(values: dict, by, memo: dict) -> str:
    customer = _customer(values.get("customer", ""), memo)
    if "products" not in memo:
        memo["products"] = Product.objects.in_bulk(field_name="code")
    products = memo["products"]
    contract = contract_create(
        customer=customer,
        by=by,
        number=values.get("number", ""),
        kind=_choice(values, "kind", ContractKind.choices, ContractKind.PURCHASE),
        signed_on=_date(values, "signed_on"),
        products=_products(values.get("products", ""), products),
        custom_modules=_custom_modules(values.get("custom_modules", "")),
    )
    summary = f"{customer.code}: {contract.number}"
    start, end = _date(values, "free_start"), _date(values, "free_end")
    if start or end:
        if not (start and end):
            raise ValueError(gettext("free_start and free_end: give both, or neither."))
        tier_code = values.get("tier") or ServiceTier.STANDARD
        tier = ServiceTier.objects.filter(code=tier_code).first()
        if tier is None:
            raise ValueError(gettext("tier: no tier has the code “%(code)s”.") % {"code": tier_code})
        trainings = values.get("trainings_per_year") or "2"
        if not trainings.isdigit():
            raise ValueError(
                gettext("trainings_per_year: a whole number, not “%(value)s”.") % {"value": trainings}
            )
        period = free_period_add(
            contract=contract, by=by, start=start, end=end, tier=tier, trainings_per_year=int(trainings)
        )
        summary += f", {period.start}–{period.end}"
    return summary


WRITERS = {"customers": _write_customer, "contacts": _write_contact, "contracts": _write_contract}
