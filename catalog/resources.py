"""Import and export of rate-card prices and holiday schedules (django-import-export).

Every resource validates rows with the models' own rules (``clean_model_instances``) and the admin
imports only files with no bad row: all or nothing.
"""

from import_export import fields, resources
from import_export.widgets import DecimalWidget, ForeignKeyWidget

from catalog.models import HolidayScheduleDay, PersonDayRate, RateCard, ServiceItem, UnitPrice


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


class HolidayScheduleDayResource(resources.ModelResource):
    class Meta:
        model = HolidayScheduleDay
        fields = ("date", "kind", "name_zh", "name_en")
        import_id_fields = ("date",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class PersonDayRateResource(resources.ModelResource):
    rate_card = fields.Field(attribute="rate_card", column_name="rate_card", widget=RateCardWidget())
    price = fields.Field(attribute="price", column_name="price", widget=MoneyAmountWidget())

    class Meta:
        model = PersonDayRate
        fields = ("rate_card", "role", "delivery_mode", "price", "price_currency", "tax_inclusive")
        import_id_fields = ("rate_card", "role", "delivery_mode")
        clean_model_instances = True
        skip_unchanged = True


class UnitPriceResource(resources.ModelResource):
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
