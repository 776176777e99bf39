from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog import snapshot

        for model in self.get_models():
            post_save.connect(
                snapshot.changed, sender=model, dispatch_uid=f"catalog-snapshot-save-{model.__name__}"
            )
            post_delete.connect(
                snapshot.changed, sender=model, dispatch_uid=f"catalog-snapshot-delete-{model.__name__}"
            )
