"""Webhook endpoints: adding, changing and deleting them, for the API and the admin alike (the one write
path; the model's audit history records each change and who made it).

Where an endpoint may point is checked by ``events.delivery.webhook_url_check`` (https, public addresses
unless the administrator lists the host); its secret is made by ``webhook_secret_new`` and shown once, by
whoever called ``webhook_endpoint_create``.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from events.delivery import endpoint_catch_up, webhook_secret_new, webhook_url_check
from events.models import WebhookEndpoint
from events.types import EVENT_TYPES

CHANGEABLE = ("url", "event_types", "description", "enabled")


def event_types_check(event_types: Iterable[str]) -> list[str]:
    """The types as an endpoint keeps them (registry order, each once); refuses a type not in
    events.types.EVENT_TYPES, since an endpoint listening to it would silently receive nothing."""
    chosen = set(event_types)
    if unknown := sorted(chosen - EVENT_TYPES.keys()):
        raise ValidationError(
            {
                "event_types": ValidationError(
                    _("Unknown event type(s): %(types)s."),
                    code="unknown_event_type",
                    params={"types": ", ".join(unknown)},
                )
            }
        )
    return [name for name in EVENT_TYPES if name in chosen]


def endpoint_url_check(url: str) -> None:
    """``webhook_url_check``, its refusal naming the field ``url``."""
    try:
        webhook_url_check(url)
    except ValidationError as error:
        raise ValidationError({"url": error.error_list}) from None


def webhook_endpoint_create(
    *, url: str, event_types: Iterable[str] = (), description: str = "", enabled: bool = True
) -> WebhookEndpoint:
    """Adds an endpoint with a new signing secret (``endpoint.secret``: show it to the caller now; no read
    shows it again). No ``event_types`` means every type."""
    endpoint_url_check(url)
    endpoint = WebhookEndpoint(
        url=url,
        event_types=event_types_check(event_types),
        description=description,
        enabled=enabled,
        secret=webhook_secret_new(),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Changes ``url``, ``event_types``, ``description`` or ``enabled``. Enabling an endpoint clears why it
    was disabled, and what it missed goes out in order (events.delivery.endpoint_catch_up): the deliveries
    given up and every event recorded since."""
    if unknown := set(changes) - set(CHANGEABLE):
        raise TypeError(f"webhook_endpoint_update cannot change {sorted(unknown)}")
    if "url" in changes and changes["url"] != endpoint.url:
        endpoint_url_check(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = event_types_check(changes["event_types"])
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        enabled_again = changes.get("enabled") and not locked.enabled
        if enabled_again:
            locked.disabled_reason = ""
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
        if enabled_again:
            endpoint_catch_up(locked)
    return locked


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deletes the endpoint with its deliveries and their attempts; its history stays."""
    endpoint.delete()
