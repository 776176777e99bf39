"""Work logs imported from CSV or XLSX (django-import-export): every row is validated by the model's own
rules and the import is all or nothing."""

import hashlib
from decimal import Decimal, InvalidOperation

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

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
        use_bulk = False

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
