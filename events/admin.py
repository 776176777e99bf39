"""Events and webhooks in the admin, for administrators (the only role holding the events permissions):
endpoints are added, changed, deleted and their secrets rotated through the services the API calls; events
and deliveries are read-only, a delivery is resent by ``delivery_resend``."""

import datetime
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.admin import AuditHistoryAdmin, frozen
from events.delivery import delivery_resend, events_replay, webhook_secret_rotate
from events.endpoints import (
    endpoint_url_check,
    event_types_check,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from events.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from events.types import EVENT_TYPES

REPLAY_DAYS = 7


class WebhookEndpointForm(forms.ModelForm):
    """The endpoint's terms, checked by the service's own rules (where the URL may point, known types)."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=[(name, name) for name in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every type, those added later included."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "event_types", "description", "enabled"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if self.instance.pk is None or url != self.instance.url:
            try:
                endpoint_url_check(url)
            except ValidationError as error:
                raise ValidationError(error.message_dict["url"]) from None
        return url

    def clean_event_types(self):
        try:
            return event_types_check(self.cleaned_data["event_types"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["event_types"]) from None


def _show_secret(modeladmin, request, endpoint: WebhookEndpoint, message) -> None:
    modeladmin.message_user(
        request,
        format_html(message, url=endpoint.url, secret=endpoint.secret),
        level=messages.WARNING,
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditHistoryAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "enabled", "type_list", "disabled_reason", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    readonly_fields = ["disabled_reason", "previous_secret_until", "created_at"]
    actions = ["enable", "disable", "rotate_secret", "replay_recent"]

    def get_fields(self, request, obj=None):
        fields = WebhookEndpointForm.Meta.fields
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description=_("event types"))
    def type_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) or _("every type")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in WebhookEndpointForm.Meta.fields}
        if change:  # the form has already changed ``obj``: the service compares with the stored endpoint
            webhook_endpoint_update(endpoint=WebhookEndpoint.objects.get(pk=obj.pk), **data)
            obj.refresh_from_db()
            return
        created = webhook_endpoint_create(**data)
        obj.pk = created.pk
        obj.refresh_from_db()
        _show_secret(
            self,
            request,
            created,
            _(
                "The signing secret of {url} is <code>{secret}</code>. Copy it to the receiver now: it will "
                "not be shown again."
            ),
        )

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        changed = 0
        for endpoint in queryset.filter(enabled=not enabled):
            webhook_endpoint_update(endpoint=endpoint, enabled=enabled)
            changed += 1
        message = (
            ngettext("Enabled %(count)d endpoint.", "Enabled %(count)d endpoints.", changed)
            if enabled
            else ngettext("Disabled %(count)d endpoint.", "Disabled %(count)d endpoints.", changed)
        )
        self.message_user(request, message % {"count": changed})

    @admin.action(description=_("Enable the selected endpoints"), permissions=["change"])
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable the selected endpoints"), permissions=["change"])
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)

    @admin.action(
        description=_("Rotate the signing secret of the selected endpoints"), permissions=["change"]
    )
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhook_secret_rotate(endpoint)
            _show_secret(
                self,
                request,
                endpoint,
                _(
                    "The new signing secret of {url} is <code>{secret}</code>. Copy it to the receiver now: "
                    "it will not be shown again. The previous one signs too for the overlap."
                ),
            )

    @admin.action(
        description=format_lazy(
            _("Replay the events of the last {days} days to the selected endpoints"), days=REPLAY_DAYS
        ),
        permissions=["change"],
    )
    def replay_recent(self, request, queryset):
        since = timezone.now() - datetime.timedelta(days=REPLAY_DAYS)
        first = Event.objects.filter(occurred_at__gte=since).aggregate(first=Min("id"))["first"]
        for endpoint in queryset:
            count = events_replay(endpoint, after_id=first - 1) if first is not None else 0
            self.message_user(
                request,
                ngettext(
                    "%(url)s: %(count)d event will be sent again.",
                    "%(url)s: %(count)d events will be sent again.",
                    count,
                )
                % {"url": endpoint.url, "count": count},
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    """What the outbox records, for reading: nothing is added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["webhook_id", "type", "customer_code", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["=customer_code"]
    search_help_text = _("A customer code.")
    show_full_result_count = False
    fields = ["webhook_id", "type", "version", "occurred_at", "customer_code", "key", "payload"]
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload(self, obj: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.envelope(), indent=2, ensure_ascii=False))


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = ["started_at", "duration_ms", "status_code", "succeeded", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint",
        "customer_code",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["=customer_code"]
    search_help_text = _("A customer code.")
    show_full_result_count = False
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]

    def get_readonly_fields(self, request, obj=None):
        return frozen(Delivery)

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("events.change_delivery")

    @admin.action(description=_("Resend the selected deliveries (same webhook-id)"), permissions=["resend"])
    def resend(self, request, queryset):
        resent = 0
        for delivery in queryset:
            delivery_resend(delivery)
            resent += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.", "%(count)d deliveries will be sent again.", resent
            )
            % {"count": resent},
        )
