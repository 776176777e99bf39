"""Import and export of rate-card prices and holiday schedules (django-import-export).

Every resource validates rows with the models' own rules (``clean_model_instances``) and billing.imports'
(flags, dates, formulas), and the admin imports only files with no bad row: all or nothing.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields
from import_export.widgets import DecimalWidget, ForeignKeyWidget

from billing.imports import CheckedResource
from catalog.models import DayKind, HolidayScheduleDay, PersonDayRate, RateCard, ServiceItem, UnitPrice

CHANGE_NOT_CONFIRMED = _(
    "Changes %(date)s from %(before)s to %(after)s: confirm the changes to existing days to import it."
)


class RateCardWidget(ForeignKeyWidget):
    """A rate card written as ``code:version`` (``list:2``)."""

    def __init__(self):
        super().__init__(RateCard)

    def clean(self, value, row=None, **kwargs):
        if not value:
            return None
        code, _sep, version = str(value).rpartition(":")
        try:
            return RateCard.objects.get(code=code or "list", version=int(version))
        except (RateCard.DoesNotExist, ValueError) as error:
            raise ValueError(f"unknown rate card {value!r} (write code:version, e.g. list:1)") from error

    def render(self, value, obj=None, **kwargs):
        return f"{value.code}:{value.version}" if value else ""


class MoneyAmountWidget(DecimalWidget):
    """The amount of a django-money field; its currency travels in the ``*_currency`` column."""

    def render(self, value, obj=None, **kwargs):
        return super().render(getattr(value, "amount", value), obj, **kwargs)


class HolidayScheduleDayResource(CheckedResource):
    """A row that changes a day already in the schedule (National Day made a working day, a day renamed) is
    a change: the preview lists it (``result.changed_days``, old and new), and it is imported only with
    ``changes_confirmed``; without it the row is refused and nothing is imported."""

    COMPARED = ("kind", "name_zh", "name_en")

    def __init__(self, *, changes_confirmed: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.changes_confirmed = changes_confirmed

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.changed_days: list[dict] = []

    def after_init_instance(self, instance, new, row, **kwargs):
        self._before = None if new else {name: getattr(instance, name) for name in self.COMPARED}
        self._dry_run = kwargs.get("dry_run", False)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        after = {name: getattr(instance, name) for name in self.COMPARED}
        if self._before is not None and after != self._before:
            change = {
                "date": instance.date.isoformat(),
                "before": _described(self._before),
                "after": _described(after),
            }
            self.changed_days.append(change)
            if not (self.changes_confirmed or self._dry_run):
                errors.setdefault("kind", []).append(str(CHANGE_NOT_CONFIRMED % change))
        super().validate_instance(instance, errors, validate_unique)

    def after_import(self, dataset, result, **kwargs):
        result.changed_days = self.changed_days

    class Meta:
        model = HolidayScheduleDay
        fields = ("date", "kind", "name_zh", "name_en")
        import_id_fields = ("date",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


def _described(day: dict) -> str:
    kinds = dict(DayKind.choices)
    kind = kinds.get(day["kind"], day["kind"])
    return gettext("%(kind)s “%(name_zh)s / %(name_en)s”") % {**day, "kind": kind}


class PersonDayRateResource(CheckedResource):
    rate_card = fields.Field(attribute="rate_card", column_name="rate_card", widget=RateCardWidget())
    price = fields.Field(attribute="price", column_name="price", widget=MoneyAmountWidget())

    class Meta:
        model = PersonDayRate
        fields = ("rate_card", "role", "delivery_mode", "price", "price_currency", "tax_inclusive")
        import_id_fields = ("rate_card", "role", "delivery_mode")
        clean_model_instances = True
        skip_unchanged = True


class UnitPriceResource(CheckedResource):
    rate_card = fields.Field(attribute="rate_card", column_name="rate_card", widget=RateCardWidget())
    price = fields.Field(attribute="price", column_name="price", widget=MoneyAmountWidget())
    service = fields.Field(
        attribute="service", column_name="service", widget=ForeignKeyWidget(ServiceItem, field="code")
    )

    class Meta:
        model = UnitPrice
        fields = ("rate_card", "service", "basis", "price", "price_currency", "tax_inclusive")
        import_id_fields = ("rate_card", "service", "basis")
        clean_model_instances = True
        skip_unchanged = True
