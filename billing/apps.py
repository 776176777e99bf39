from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from simple_history.signals import pre_create_historical_record

        from billing import mail, second_factor  # noqa: F401  register their deployment checks
        from billing.apikeys import key_changed
        from billing.history import note_api_client
        from billing.models import ApiKey

        def forget(**_kwargs):
            key_changed()

        post_save.connect(forget, sender=ApiKey, dispatch_uid="forget-api-keys-on-save", weak=False)
        post_delete.connect(forget, sender=ApiKey, dispatch_uid="forget-api-keys-on-delete", weak=False)
        pre_create_historical_record.connect(note_api_client, dispatch_uid="history-names-the-api-key")
