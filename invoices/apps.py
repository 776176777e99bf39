from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    name = "invoices"
    verbose_name = _("Invoices")

    def ready(self):
        # The entitlement check asks whether a period's fee is overdue; contracts may not import invoices.
        from contracts.fees import register_overdue_fee_reader
        from invoices.selectors import period_fee_overdue

        register_overdue_fee_reader(period_fee_overdue)
