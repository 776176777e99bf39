"""Work logs imported from CSV or XLSX (django-import-export): every row is validated by the model's own
rules and the import is all or nothing."""

import hashlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.instance_loaders import CachedInstanceLoader
from import_export.widgets import ForeignKeyWidget

from billing.history import CREATED, history_record
from contracts.models import Customer
from invoices.models import HOURS_PER_DAY, WorkLog


class WorkLogResource(resources.ModelResource):
    customer = fields.Field(
        attribute="customer", column_name="customer", widget=ForeignKeyWidget(Customer, field="code")
    )
    date = fields.Field(attribute="work_date", column_name="date")
    ticket = fields.Field(attribute="ticket_ref", column_name="ticket")
    service = fields.Field(attribute="service_code", column_name="service")
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
            "key",
        )
        import_id_fields = ("key",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        # Existing keys in one query, new rows in batches: the import runs in one transaction and rolls
        # back on any bad row (use_transactions + rollback_on_validation_errors), so batches commit nothing
        # on their own.
        instance_loader_class = CachedInstanceLoader
        use_bulk = True
        batch_size = 1000

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
        """The model's rules, less two that would query per row: the key's uniqueness (the database enforces
        it; existing keys are found by the cached loader) and the customer's existence (the widget found
        it, or reported the row)."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "customer"], validate_unique=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


class WorkLogFileResource(WorkLogResource):
    """For the command line: no row diffs (they are for the admin's preview)."""

    class Meta(WorkLogResource.Meta):
        skip_diff = True

    def before_import(self, dataset, **kwargs):
        """Reads the file's customers in one query (a file names few customers in many rows)."""
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

    def before_import_row(self, row, **kwargs):
        """``hours`` may stand for ``days`` (8 to the day); a row without a key is keyed by its content, so
        importing the same file twice adds nothing."""
        if not row.get("days") and row.get("hours"):
            try:
                row["days"] = str(Decimal(str(row["hours"])) / HOURS_PER_DAY)
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
