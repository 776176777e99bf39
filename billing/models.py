"""Data shared by the whole project rather than one business app."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.history import audit_history


class ApiKey(models.Model):
    """A credential for a machine client (a ticketing tool) calling the REST API.

    Only a SHA-256 hash of the key is stored; the key itself is shown once, when it is created
    (see ``billing.apikeys``). ``prefix`` is the public part of the key, used to find the row and to
    tell keys apart in lists.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    history = audit_history(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_expired(self, at: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or timezone.now())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


from billing.idempotency import IdempotencyRecord  # noqa: E402  (its module holds the logic around it)

__all__ = ["ApiKey", "IdempotencyRecord"]
