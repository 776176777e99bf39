from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from billing.apikeys import SCOPES, check_key_terms, create_api_key, revoke_api_key
from billing.errors import BillingError
from billing.models import ApiKey


class ApiKeyCreationForm(forms.ModelForm):
    """The terms of a new key; the key itself is generated when the form is saved."""

    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[
            (scope, format_lazy("{} ({})", scope, description)) for scope, description in SCOPES.items()
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at"]

    def clean(self):
        cleaned_data = super().clean()
        try:
            check_key_terms(scopes=cleaned_data.get("scopes", []), expires_at=cleaned_data.get("expires_at"))
        except BillingError as error:
            raise ValidationError(str(error), code=error.code) from error
        return cleaned_data


class AuditHistoryAdmin(SimpleHistoryAdmin):
    """The admin of a model with audit history (billing.history): its history page lists every version with
    who made it and what changed. Reading it needs the historical model's view permission
    (``SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS``), which only the administrator role and
    superusers hold; others do not see the link."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["hide_history"] = not self.has_view_history_or_change_history_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


def frozen(model) -> list[str]:
    """Every field of ``model``: the read-only fields of a document its services alone change."""
    return [field.name for field in model._meta.fields]


def as_form_error(check, *args, **kwargs) -> None:
    """Runs a service's check in a form's ``clean()``: its BillingError becomes the form's error."""
    try:
        check(*args, **kwargs)
    except BillingError as error:
        raise ValidationError(str(error), code=error.code) from error


class ServiceAdmin(AuditHistoryAdmin):
    """The admin of a document that only its services move (STYLE: services are the one write path).
    Its actions call the services the staff pages call; a BillingError raised by a service while a form is
    saved rolls the whole save back (the change form runs in one transaction) and comes back as an error
    message on the same page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BillingError as error:
            self.message_user(request, str(error), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def apply_service(self, request, queryset, service) -> None:
        """Calls ``service(document)`` for each selected document: one message per document, its result's
        status or the service's refusal."""
        for document in queryset:
            try:
                result = service(document)
            except BillingError as error:
                self.message_user(request, f"{document}: {error}", level=messages.ERROR)
            else:
                result = result if result is not None else document
                status = getattr(result, "get_status_display", None)
                self.message_user(request, f"{result}: {status()}" if status else str(result))


class RecordedAdmin(ServiceAdmin):
    """The admin of a record its service adds (``record``) and nothing changes after: on the add page
    only ``readonly_fields`` are read-only, on a stored one every field; one is deleted only while
    ``settled_field`` is empty (not yet charged or approved), or never when there is none."""

    settled_field: str | None = None

    def record(self, request, data: dict) -> models.Model:
        raise NotImplementedError

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else frozen(self.model)

    def has_delete_permission(self, request, obj=None):
        if self.settled_field is None:
            return False
        return super().has_delete_permission(request, obj) and (
            obj is None or getattr(obj, self.settled_field) is None
        )

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset.filter(**{f"{self.settled_field}__isnull": True}))

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field of a stored record is read-only
        obj.pk = self.record(request, form.cleaned_data).pk
        obj.refresh_from_db()


@admin.register(ApiKey)
class ApiKeyAdmin(AuditHistoryAdmin):
    """Keys are issued here or by `manage.py create_api_key`. Only the name of an issued key can change:
    for other scopes or expiry, issue a new key and revoke the old one."""

    list_display = ["name", "prefix", "scope_list", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = [
        "prefix",
        "scope_list",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyCreationForm.Meta.fields
        return ["name", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        api_key, raw_key = create_api_key(
            name=obj.name, scopes=obj.scopes, expires_at=obj.expires_at, created_by=request.user
        )
        obj.pk = api_key.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            format_html(
                _("The API key for “{name}” is <code>{key}</code>. Copy it now: it will not be shown again."),
                name=api_key.name,
                key=raw_key,
            ),
            level=messages.WARNING,
        )

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            revoke_api_key(api_key=api_key)
            revoked += 1
        self.message_user(
            request,
            ngettext("Revoked %(count)d API key.", "Revoked %(count)d API keys.", revoked)
            % {"count": revoked},
        )
