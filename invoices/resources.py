"""Work logs imported from CSV or XLSX (django-import-export), by `manage.py import_work_logs` and in the
admin: every row is validated by the model's own rules and the import is all or nothing.

What a file must be (``read_work_log_file``): what billing.spreadsheets reads (its size, row and column
limits, UTF-8 or GB18030 CSV decoded whole, XLSX checked before it is loaded, no column named twice), with
the columns customer, engineer, date, ticket and days or hours; optional columns say what the work
delivers: order_line (its id), or order (the accepted quote's reference, with service), or bundle (a
prepaid bundle's id).

What each row must be (``WorkLogResource``): no cell that a spreadsheet would run as a formula (text
starting with =, +, -, @, a tab or a carriage return that is not a number), no key or content that an
earlier row of the file has, and no key already imported with other values (the same row imported again
is skipped, so a file can be imported twice), and what the API would refuse (``work_log_target``: a service
not billed per person-day, work no rate card prices on its date, an order line of another customer, of a
closed order or beyond its quantity). A row keyed by its content is keyed by what it says, not how it
is written: 1, 1.0 and 8 hours are the same day, 2026-3-4 and 2026-03-04 the same date. Flags read
yes/no, true/false, 是/否, 1/0 and dates far from today are refused (billing.imports). Every bad row is
reported with its number (1 = the first row under the header) and then nothing is imported.
"""

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields
from import_export.instance_loaders import CachedInstanceLoader
from import_export.widgets import ForeignKeyWidget

from billing.errors import BillingError
from billing.history import CREATED, history_record
from billing.imports import CheckedResource, DateInWindowWidget, SpreadsheetCSV, SpreadsheetXLSX
from billing.spreadsheets import read_spreadsheet
from contracts.models import Customer, PersonDayBundle
from invoices.models import HOURS_PER_DAY, WorkLog
from invoices.services import order_line_of_ticket, work_log_target
from quotes.models import OrderLine
from quotes.selectors import order_line_named

REQUIRED_COLUMNS = ("customer", "engineer", "date", "ticket")
REPEATED_ROW = _("Repeats row %(row)s (the same key or the same work).")


def read_work_log_file(handle: BinaryIO, *, name: str, size: int) -> tablib.Dataset:
    """The rows of an uploaded or local CSV/XLSX file (read by billing.spreadsheets, with its limits), or a
    BillingError saying why it is refused."""
    dataset = read_spreadsheet(handle, name=name, size=size)
    headers = dataset.headers or []
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if "days" not in headers and "hours" not in headers:
        missing.append("days/hours")
    if missing:
        raise BillingError(
            _("The file lacks the column(s) %(columns)s; the first row must name the columns."),
            code="import_columns",
            params={"columns": ", ".join(missing)},
        )
    return dataset


def _normalise(row: dict) -> str | None:
    """``hours`` may stand for ``days`` (8 to the day); a row without a key is keyed by what it says, so
    importing the same work twice adds nothing however its numbers and dates are written; role and service
    have defaults. Returns the key such a row had before numbers were compared as numbers, when it differs
    (a file imported then is still recognised)."""
    if not row.get("days") and row.get("hours"):
        try:
            row["days"] = str(Decimal(str(row["hours"]).strip()) / HOURS_PER_DAY)
        except InvalidOperation:
            row["days"] = row["hours"]  # left for the model's validation to report
    legacy = None
    if not row.get("key"):
        said = {
            name: str(row.get(name, ""))
            for name in ("customer", "engineer", "date", "days", "ticket", "role")
        }
        meant = {**said, "date": _date_text(said["date"]), "days": _number_text(said["days"])}
        row["key"] = _content_key(meant)
        if said != meant:
            legacy = _content_key(said)
    if not row.get("role"):
        row["role"] = "engineer"
    if not row.get("service"):
        row["service"] = "custom-development"
    return legacy


def _content_key(values: dict) -> str:
    content = "|".join(values[name] for name in ("customer", "engineer", "date", "days", "ticket", "role"))
    return "import:" + hashlib.sha256(content.encode()).hexdigest()


def _number_text(text: str) -> str:
    """A number as its value (1.0 and 1 alike), or the text as it is when it is no number."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text
    return format(number.normalize(), "f") if number.is_finite() else text


def _date_text(text: str) -> str:
    try:
        return datetime.datetime.strptime(text.strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        return text


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


class WorkLogResource(CheckedResource):
    customer = fields.Field(
        attribute="customer", column_name="customer", widget=ForeignKeyWidget(Customer, field="code")
    )
    date = fields.Field(attribute="work_date", column_name="date", widget=DateInWindowWidget("%Y-%m-%d"))
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
        """Finds the rows that are bad whatever the database holds: formulas (CheckedResource) and repeated
        rows."""
        super().before_import(dataset, **kwargs)
        self._logged: dict[int, Decimal] = {}  # days earlier rows of the file log against each order line
        self._checked: dict[tuple, str | None] = {}
        self._customers: dict[str, Customer | None] = {}
        first_with_key: dict[str, int] = {}
        rows, legacy_keys = [], {}
        for number, values in enumerate(dataset.dict, 1):
            row = dict(values)
            legacy = _normalise(row)
            if legacy:
                legacy_keys[legacy] = row
            self._order_line_of(number, row)
            earlier = first_with_key.setdefault(row["key"], number)
            if earlier != number:
                self._problem(number, "key", REPEATED_ROW % {"row": earlier})
            rows.append(row)
        for key in WorkLog.objects.filter(idempotency_key__in=legacy_keys).values_list(
            "idempotency_key", flat=True
        ):
            legacy_keys[key]["key"] = key
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


@dataclass(frozen=True)
class WorkLogImport:
    """What an import of a work-log file did, or would do: every problem with its row number (None for the
    file as a whole), in row order; nothing was imported when there is one."""

    problems: list[tuple[int | None, str]]
    new: int
    unchanged: int
    rows: int


def work_logs_import(dataset: tablib.Dataset, *, dry_run: bool) -> WorkLogImport:
    """Imports the rows of a file read by ``read_work_log_file``, all or none (``WorkLogFileResource``);
    with ``dry_run`` nothing is written, whatever the rows. The command line and the staff page call this,
    the admin its own import-export views over ``WorkLogResource``."""
    result = WorkLogFileResource().import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        raise_errors=False,
    )
    problems: list[tuple[int | None, str]] = [(None, str(error.error)) for error in result.base_errors]
    for number, errors in result.row_errors():
        problems += [(number, str(error.error)) for error in errors]
    for row in result.invalid_rows:
        for field, messages in row.error_dict.items():
            problems.append((row.number, f"{field}: {'; '.join(str(text) for text in messages)}"))
    problems.sort(key=lambda problem: (problem[0] or 0, problem[1]))
    totals = result.totals
    return WorkLogImport(
        problems=problems, new=totals.get("new", 0), unchanged=totals.get("skip", 0), rows=len(dataset)
    )


class WorkLogCSV(SpreadsheetCSV):
    """The admin's CSV, read by read_work_log_file."""

    read = staticmethod(read_work_log_file)


class WorkLogXLSX(SpreadsheetXLSX):
    """The admin's XLSX, read by read_work_log_file (formulas kept as text, so that they are refused)."""

    read = staticmethod(read_work_log_file)
