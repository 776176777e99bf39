"""Work logs imported from CSV or XLSX (django-import-export), by `manage.py import_work_logs` and in the
admin: every row is validated by the model's own rules and the import is all or nothing.

What a file must be (``read_work_log_file``):
- at most WORK_LOG_IMPORT_MAX_BYTES and WORK_LOG_IMPORT_MAX_ROWS, refused before it is read whole;
- CSV in UTF-8 (with or without the BOM Excel writes), or else GB18030, the superset of GBK that Chinese
  Excel saves "CSV" in; UTF-8 is tried first because GB18030 would misread UTF-8 text without an error;
- with the columns customer, engineer, date, ticket and days or hours; optional columns say what the work
  delivers: order_line (its id), or order (the accepted quote's reference, with service), or bundle (a
  prepaid bundle's id).

What each row must be (``WorkLogResource``): no cell that a spreadsheet would run as a formula (text
starting with =, +, -, @, a tab or a carriage return that is not a number), no key or content that an
earlier row of the file has, and no key already imported with other values (the same row imported again
is skipped, so a file can be imported twice), and what the API would refuse (``work_log_target``: a service
not billed per person-day, work no rate card prices on its date, an order line of another customer, of a
closed order or beyond its quantity). Every bad row is reported with its number (1 = the first row under
the header) and then nothing is imported.
"""

import csv
import datetime
import hashlib
import io
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

import openpyxl
import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.formats import base_formats
from import_export.instance_loaders import CachedInstanceLoader
from import_export.widgets import DateWidget, ForeignKeyWidget

from billing.errors import BillingError
from billing.history import CREATED, history_record
from contracts.models import Customer, PersonDayBundle
from invoices.models import HOURS_PER_DAY, WorkLog
from invoices.services import order_line_of_ticket, work_log_target
from quotes.models import OrderLine
from quotes.selectors import order_line_named

REQUIRED_COLUMNS = ("customer", "engineer", "date", "ticket")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_REFUSED = _("Looks like a spreadsheet formula; formulas are not imported.")
REPEATED_ROW = _("Repeats row %(row)s (the same key or the same work).")


def read_work_log_file(handle: BinaryIO, *, name: str, size: int) -> tablib.Dataset:
    """The rows of an uploaded or local CSV/XLSX file, or a BillingError saying why it is refused."""
    max_bytes = settings.WORK_LOG_IMPORT_MAX_BYTES
    if size > max_bytes:
        raise BillingError(
            _("The file has %(size)s bytes, more than the %(max)s imported at once: split it."),
            code="import_too_large",
            params={"size": size, "max": max_bytes},
        )
    if name.lower().endswith(".xlsx"):
        rows = _xlsx_rows(handle)
    else:
        rows = csv.reader(io.StringIO(decode_csv(handle.read(max_bytes + 1)), newline=""))
    return _dataset(rows)


def decode_csv(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 (GBK's superset); anything else is refused."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # UTF-16 ("Unicode text") or a binary file read as GB18030
            break
        return text
    raise BillingError(
        _("The file is neither UTF-8 nor GBK/GB18030 text: save it from Excel as “CSV UTF-8” or as XLSX."),
        code="import_encoding",
    )


def _xlsx_rows(handle: BinaryIO):
    """The first sheet's rows, read lazily; formulas are read as their text (=...), not their results,
    so that they are refused."""
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises zipfile, XML and KeyError alike for a broken file
        raise BillingError(
            _("The file is not a readable XLSX workbook."), code="import_unreadable"
        ) from error
    for row in book.worksheets[0].iter_rows(values_only=True):
        yield [_cell_text(value) for value in row]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _dataset(rows) -> tablib.Dataset:
    max_rows = settings.WORK_LOG_IMPORT_MAX_ROWS
    rows = iter(rows)
    headers = [str(header).strip().lower() for header in next(rows, [])]
    while headers and not headers[-1]:
        headers.pop()
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if "days" not in headers and "hours" not in headers:
        missing.append("days/hours")
    if missing:
        raise BillingError(
            _("The file lacks the column(s) %(columns)s; the first row must name the columns."),
            code="import_columns",
            params={"columns": ", ".join(missing)},
        )
    body, ragged = [], []
    for number, row in enumerate(rows, 1):
        if number > max_rows:
            raise BillingError(
                _("The file has more than %(max)s rows; split it into smaller files."),
                code="import_too_many_rows",
                params={"max": max_rows},
            )
        cells = [str(cell) for cell in row]
        while len(cells) > len(headers) and not cells[-1].strip():
            cells.pop()
        if len(cells) > len(headers):
            ragged.append(number)
        body.append(cells + [""] * (len(headers) - len(cells)))
    while body and not any(cell.strip() for cell in body[-1]):
        body.pop()  # the empty lines a spreadsheet leaves at the end
    if ragged:
        raise BillingError(
            _("Row(s) %(rows)s have more cells than the header has columns; nothing was imported."),
            code="import_ragged_rows",
            params={"rows": ", ".join(map(str, ragged[:20]))},
        )
    return tablib.Dataset(*body, headers=headers)


def looks_like_formula(value: str) -> bool:
    """Text a spreadsheet would run as a formula (=, +, -, @ first), unless it is a plain number."""
    if not value.startswith(FORMULA_STARTS):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return True
    return False


def _normalise(row: dict) -> None:
    """``hours`` may stand for ``days`` (8 to the day); a row without a key is keyed by its content, so
    importing the same file twice adds nothing; role and service have defaults."""
    if not row.get("days") and row.get("hours"):
        try:
            row["days"] = str(Decimal(str(row["hours"]).strip()) / HOURS_PER_DAY)
        except InvalidOperation:
            row["days"] = row["hours"]  # left for the model's validation to report
    if not row.get("key"):
        content = "|".join(
            str(row.get(name, "")) for name in ("customer", "engineer", "date", "days", "ticket", "role")
        )
        row["key"] = "import:" + hashlib.sha256(content.encode()).hexdigest()
    if not row.get("role"):
        row["role"] = "engineer"
    if not row.get("service"):
        row["service"] = "custom-development"


# What a row says about a work log; a key imported again must say the same.
COMPARED_FIELDS = (
    "customer_id",
    "engineer",
    "role",
    "work_date",
    "days",
    "on_site",
    "ticket_ref",
    "service_code",
    "description",
    "order_line_id",
    "bundle_id",
)


class WorkLogResource(resources.ModelResource):
    customer = fields.Field(
        attribute="customer", column_name="customer", widget=ForeignKeyWidget(Customer, field="code")
    )
    date = fields.Field(attribute="work_date", column_name="date", widget=DateWidget("%Y-%m-%d"))
    ticket = fields.Field(attribute="ticket_ref", column_name="ticket")
    service = fields.Field(attribute="service_code", column_name="service")
    order_line = fields.Field(
        attribute="order_line", column_name="order_line", widget=ForeignKeyWidget(OrderLine)
    )
    bundle = fields.Field(attribute="bundle", column_name="bundle", widget=ForeignKeyWidget(PersonDayBundle))
    key = fields.Field(attribute="idempotency_key", column_name="key")

    class Meta:
        model = WorkLog
        fields = (
            "customer",
            "engineer",
            "role",
            "date",
            "days",
            "on_site",
            "ticket",
            "service",
            "description",
            "order_line",
            "bundle",
            "key",
        )
        import_id_fields = ("key",)
        clean_model_instances = True
        # Existing keys in one query, new rows in batches: the import runs in one transaction and rolls
        # back on any bad row (use_transactions + rollback_on_validation_errors), so batches commit nothing
        # on their own.
        instance_loader_class = CachedInstanceLoader
        use_bulk = True
        batch_size = 1000

    def before_import(self, dataset, **kwargs):
        """Finds the rows that are bad whatever the database holds: formulas and repeated rows."""
        self._problems: dict[int, dict[str, list[str]]] = {}
        self._logged: dict[int, Decimal] = {}  # days earlier rows of the file log against each order line
        self._checked: dict[tuple, str | None] = {}
        self._customers: dict[str, Customer | None] = {}
        first_with_key: dict[str, int] = {}
        rows = []
        for number, values in enumerate(dataset.dict, 1):
            row = dict(values)
            for column, value in row.items():
                if isinstance(value, str) and looks_like_formula(value):
                    self._problem(number, column, FORMULA_REFUSED)
            _normalise(row)
            self._order_line_of(number, row)
            earlier = first_with_key.setdefault(row["key"], number)
            if earlier != number:
                self._problem(number, "key", REPEATED_ROW % {"row": earlier})
            rows.append(row)
        # The rows as imported (keys, days from hours, defaults), so that the instance loader, which reads
        # the dataset's keys before the rows are imported, finds the keys imported before.
        headers = list(dict.fromkeys(name for row in rows for name in row)) or list(dataset.headers or [])
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append([row.get(name, "") for name in headers])

    def _order_line_of(self, number: int, row: dict) -> None:
        """An ``order`` (quote reference) column names the order's line of the row's service; without one,
        a ticket that is the reference of one of the customer's accepted quotes does, as in
        ``work_log_record`` (``order_line_of_ticket``)."""
        if row.get("order_line"):
            return
        try:
            if row.get("order"):
                line = order_line_named(quote_reference=row["order"], service_code=row["service"])
            else:
                code = row.get("customer") or ""
                if code not in self._customers:
                    self._customers[code] = Customer.objects.filter(code=code).first()
                customer = self._customers[code]
                line = customer and order_line_of_ticket(
                    customer=customer, ticket_ref=str(row.get("ticket") or ""), service_code=row["service"]
                )
        except BillingError as error:
            self._problem(number, "order", str(error))
            return
        if line:
            row["order_line"] = line.pk

    def _problem(self, number: int, column: str, message) -> None:
        self._problems.setdefault(number, {}).setdefault(column, []).append(str(message))

    def before_import_row(self, row, row_number=None, **kwargs):
        self._row_problems = {
            column: list(messages) for column, messages in self._problems.get(row_number, {}).items()
        }

    def after_init_instance(self, instance, new, row, **kwargs):
        self._stored = None if new else {name: getattr(instance, name) for name in COMPARED_FIELDS}

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """A key already imported is skipped when the row says the same again, and refused otherwise: an
        import never changes a recorded work log (it may have been invoiced)."""
        if self._stored is None or import_validation_errors or self._row_problems:
            return False
        if {name: getattr(instance, name) for name in COMPARED_FIELDS} == self._stored:
            return True
        self._row_problems.setdefault("key", []).append(
            str(_("Already imported with other values; an import never changes a recorded work log."))
        )
        return False

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """import-export's bulk insert, and the audit history of the new logs in one INSERT ... SELECT."""
        if self.create_instances and (using_transactions or not dry_run):
            try:
                created = WorkLog.objects.bulk_create(self.create_instances, batch_size=batch_size)
                history_record(
                    WorkLog.objects.filter(pk__in=[log.pk for log in created]), history_type=CREATED
                )
            except Exception as error:  # reported per import-export's rules (raise_errors or the result)
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's rules and the row's problems, less two rules that would query per row: the key's
        uniqueness (the database enforces it; existing keys are found by the cached loader) and the
        customer's existence (the widget found it, or reported the row)."""
        errors = dict(import_validation_errors or {})
        for column, messages in self._row_problems.items():
            errors.setdefault(column, []).extend(messages)
        try:
            instance.full_clean(exclude=[*errors, "customer"], validate_unique=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if not errors and self._stored is None:
            problem = self._target_problem(instance)
            if problem:
                errors["order_line" if instance.order_line_id else "service"] = [problem]
        if errors:
            raise ValidationError(errors)

    def _target_problem(self, instance: WorkLog) -> str | None:
        """What the API would refuse of this work log (work_log_target), or None. A log against an order line
        is checked with the days earlier rows of the file log against it; others once per kind of work."""
        if instance.order_line_id is None:
            kind = (instance.customer_id, instance.service_code, instance.work_date, instance.role)
            kind += (instance.on_site, instance.bundle_id)
            if kind not in self._checked:
                self._checked[kind] = _refusal(instance)
            return self._checked[kind]
        pending = self._logged.get(instance.order_line_id, Decimal(0))
        problem = _refusal(instance, pending=pending)
        if problem is None:
            self._logged[instance.order_line_id] = pending + instance.days
        return problem


def _refusal(instance: WorkLog, *, pending: Decimal = Decimal(0)) -> str | None:
    try:
        work_log_target(instance, pending=pending)
    except BillingError as error:
        return str(error)
    return None


class WorkLogFileResource(WorkLogResource):
    """For the command line: no row diffs (they are for the admin's preview)."""

    class Meta(WorkLogResource.Meta):
        skip_diff = True

    def before_import(self, dataset, **kwargs):
        """Reads the file's customers in one query (a file names few customers in many rows)."""
        super().before_import(dataset, **kwargs)
        codes = set(dataset["customer"]) if "customer" in (dataset.headers or []) else set()
        self._customers = Customer.objects.in_bulk(codes, field_name="code")

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute != "customer":
            return super().import_field(field, instance, row, is_m2m, **kwargs)
        customer = self._customers.get(row.get("customer"))
        if customer is None:
            raise ValueError(f"unknown customer {row.get('customer')!r}")
        instance.customer = customer
        return None


class WorkLogCSV(base_formats.CSV):
    """The admin's CSV: read as bytes and decoded by read_work_log_file's rule, with its limits."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        return read_work_log_file(io.BytesIO(in_stream), name="upload.csv", size=len(in_stream))


class WorkLogXLSX(base_formats.XLSX):
    """The admin's XLSX, read by read_work_log_file (formulas kept as text, so that they are refused)."""

    def create_dataset(self, in_stream, **kwargs):
        return read_work_log_file(io.BytesIO(in_stream), name="upload.xlsx", size=len(in_stream))
