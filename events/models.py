"""The outbox of domain events and the webhook endpoints they are delivered to.

An event is a row written in the same transaction as the change it describes (a transactional outbox): a
rolled-back change leaves no event, a committed one is never lost, whatever the broker does. Each enabled
endpoint that listens to the event's type gets a delivery row in that same transaction; Celery tasks send
the deliveries (events.delivery) and log each attempt.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.history import audit_history
from events.types import event_type_choices


class Event(models.Model):
    """One thing that happened, in order (``id`` is the cursor of ``GET /api/v1/events?after=``)."""

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(_("type"), max_length=64, choices=event_type_choices(), db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)
    customer_code = models.CharField(_("customer"), max_length=40, blank=True, db_index=True)
    # The object as the API shows it (JSON), under the event's own shape (see events.types).
    data = models.JSONField(_("data"), encoder=DjangoJSONEncoder, default=dict)
    # Events recorded by a periodic check (a period that lapsed, an invoice now overdue) carry a key that
    # makes recording them again a no-op.
    key = models.CharField(_("key"), max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.type}"

    @property
    def webhook_id(self) -> str:
        """The message id of every delivery of this event (the ``webhook-id`` header): the same on each
        retry and replay, so a receiver can drop what it has already handled."""
        return f"evt_{self.id}"

    def envelope(self) -> dict:
        """What a receiver gets and the event list shows: the Standard Webhooks payload shape."""
        return {
            "id": self.webhook_id,
            "type": self.type,
            "version": self.version,
            "timestamp": self.occurred_at.isoformat(),
            "customer": self.customer_code or None,
            "data": self.data,
        }


class WebhookEndpoint(models.Model):
    """A URL that receives the events of the types it lists (every type when none), signed with its secret
    (Standard Webhooks, HMAC-SHA256). After a secret is rotated the previous one signs too, until
    ``previous_secret_until``."""

    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = audit_history(excluded_fields=["secret", "previous_secret"])

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    def listens_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed (retries exhausted)")


class Delivery(models.Model):
    """One event for one endpoint. Deliveries of one endpoint and customer go out in event order: a pending
    one holds back the later ones until it is delivered or given up."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    customer_code = models.CharField(_("customer"), max_length=40, blank=True)  # the event's, for ordering
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["event_id", "endpoint_id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["endpoint", "customer_code", "status", "event"], name="delivery_queue"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: what the receiver answered, or why nothing came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"
