"""Imports and exports in the admin (django-import-export), held to one set of rules for every model.

- Files are read by billing.spreadsheets (CSV and XLSX only, with its limits); exports escape formulas there.
- Between the preview and the confirmation the upload waits in IMPORT_TMP_DIR under a random name this code
  makes. The confirmation names it by a token signed for the user and the model (with the format and the
  resource chosen), valid IMPORT_CONFIRM_MAX_AGE_SECONDS: a name typed into the request, another user's
  upload or another model's is refused, and nothing outside the folder is ever read or deleted.
- An import is all or nothing at the confirmation too (one transaction, rolled back on any bad row); a
  failed confirmation shows its rows and writes nothing.
- Flags read yes/no, true/false, 是/否, 1/0 or are refused; dates further than IMPORT_DATE_WINDOW_YEARS from
  today are refused; a cell that looks like a formula is refused (``CheckedResource``).
"""

import datetime
import io
import re
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_permission_codename
from django.core import signing
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from import_export import resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import BaseStorage

from billing.errors import BillingError
from billing.spreadsheets import (
    FORMULA_REFUSED,
    formula_escaped_dataset,
    read_spreadsheet,
    refuse_repeated_columns,
    refused_on_import,
)

UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\Z")
NOT_PREVIEWED = _("This import is not one you previewed, or its preview is too old: upload the file again.")


# Files


class _SpreadsheetFormat:
    """An import-export format whose files billing.spreadsheets reads (by the extension of ``upload_name``)
    and whose exports it escapes."""

    upload_name = ""
    read = staticmethod(read_spreadsheet)  # a model's own reader may wrap it (invoices.resources)

    def create_dataset(self, in_stream, **kwargs):
        return self.read(io.BytesIO(in_stream), name=self.upload_name, size=len(in_stream))

    def export_data(self, dataset, **kwargs):
        return super().export_data(formula_escaped_dataset(dataset), **kwargs)


class SpreadsheetCSV(_SpreadsheetFormat, base_formats.CSV):
    """CSV read as bytes (its encodings and limits); written with formulas escaped."""

    upload_name = "upload.csv"

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"


class SpreadsheetXLSX(_SpreadsheetFormat, base_formats.XLSX):
    """XLSX checked before it is loaded; written with formulas escaped."""

    upload_name = "upload.xlsx"


class ImportFolderStorage(BaseStorage):
    """An upload between its preview and its confirmation, in IMPORT_TMP_DIR under a name made here; any
    other name is refused before a file is touched."""

    def save(self, data):
        self.name = uuid.uuid4().hex
        folder = Path(settings.IMPORT_TMP_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        self._forget_abandoned(folder)
        self.path().write_bytes(data if isinstance(data, bytes) else data.encode())

    @staticmethod
    def _forget_abandoned(folder: Path) -> None:
        """Removes uploads previewed but never confirmed: their confirmations have expired."""
        oldest = time.time() - settings.IMPORT_CONFIRM_MAX_AGE_SECONDS
        for path in folder.iterdir():
            try:
                if UPLOAD_NAME.match(path.name) and path.stat().st_mtime < oldest:
                    path.unlink()
            except FileNotFoundError:  # removed meanwhile by another request
                continue

    def path(self) -> Path:
        if not isinstance(self.name, str) or not UPLOAD_NAME.match(self.name):
            raise SuspiciousFileOperation("import file name not made by ImportFolderStorage")
        return Path(settings.IMPORT_TMP_DIR) / self.name

    def read(self):
        return self.path().read_bytes()

    def remove(self):
        self.path().unlink(missing_ok=True)


class LimitedImportForm(ImportForm):
    """Refuses a file over IMPORT_MAX_BYTES before it is read."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            upload_size_check(upload.size)
        except BillingError as error:
            raise forms.ValidationError(str(error), code=error.code) from error
        return upload


class SignedConfirmImportForm(ConfirmImportForm):
    """The confirmation: the file, format and resource come from the signed token, not from the request."""

    def __init__(self, *args, salt: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.salt = salt

    def clean_import_file_name(self):
        signed = previewed_upload(self.cleaned_data["import_file_name"], salt=self.salt)
        if signed is None:
            raise ValidationError(NOT_PREVIEWED, code="import_not_previewed")
        self.signed = signed
        return signed["name"]

    def clean(self):
        cleaned = super().clean()
        if "import_file_name" in cleaned:
            cleaned["format"] = self.signed["format"]
            cleaned["resource"] = self.signed["resource"]
        return cleaned


def previewed_upload(token: str, *, salt: str) -> dict | None:
    """What a confirmation's token names (the upload's name in IMPORT_TMP_DIR, its format, ...) when it is
    signed with ``salt`` and younger than IMPORT_CONFIRM_MAX_AGE_SECONDS; None otherwise."""
    try:
        signed = signing.loads(token, salt=salt, max_age=settings.IMPORT_CONFIRM_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(signed, dict) or not UPLOAD_NAME.match(str(signed.get("name", ""))):
        return None
    return signed


def upload_keep(data: bytes, *, salt: str, **named) -> str:
    """Keeps a previewed upload in IMPORT_TMP_DIR for its confirmation (a staff page's import, as the
    admin's): the signed token that names it, with ``named`` (e.g. its format)."""
    storage = ImportFolderStorage()
    storage.save(data)
    return signing.dumps({**named, "name": storage.name}, salt=salt)


def upload_take(token: str, *, salt: str) -> tuple[bytes, dict]:
    """The upload a confirmation's token names, removed from the folder as it is read, with what the token
    says; a BillingError when the token is not one this user was given or is too old."""
    signed = previewed_upload(token, salt=salt)
    if signed is None:
        raise BillingError(NOT_PREVIEWED, code="import_not_previewed")
    storage = ImportFolderStorage(name=signed["name"])
    try:
        return storage.read(), signed
    except OSError as error:  # confirmed twice, or removed as abandoned
        raise BillingError(NOT_PREVIEWED, code="import_not_previewed") from error
    finally:
        storage.remove()


def upload_size_check(size: int) -> None:
    """Refuses a file over IMPORT_MAX_BYTES before it is read."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise BillingError(
            _("The file has %(size)s; at most %(max)s are imported at once. Split it into smaller files."),
            code="import_too_large",
            params={"size": filesizeformat(size), "max": filesizeformat(limit)},
        )


# Cells


class FlagWidget(widgets.BooleanWidget):
    """yes/no, true/false, 是/否, 1/0 (any case, spaces trimmed); an empty cell is no; anything else is
    refused (import-export's widget reads every unknown word as false)."""

    YES = {"1", "true", "yes", "是"}
    NO = {"0", "false", "no", "否", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        message = gettext("Write yes or no (or true/false, 是/否, 1/0), not %(value)r.")
        raise ValueError(message % {"value": value})


def date_window() -> tuple[datetime.date, datetime.date]:
    """The dates an import accepts: IMPORT_DATE_WINDOW_YEARS before and after this year."""
    years, today = settings.IMPORT_DATE_WINDOW_YEARS, timezone.localdate()
    return datetime.date(today.year - years, 1, 1), datetime.date(today.year + years, 12, 31)


class DateInWindowWidget(widgets.DateWidget):
    """A date, refused when it is not within ``date_window()`` (0001-01-01 and 9999-12-31 are typos)."""

    def clean(self, value, row=None, **kwargs):
        date = super().clean(value, row, **kwargs)
        first, last = date_window()
        if date is not None and not first <= date <= last:
            raise ValueError(
                gettext("%(date)s is outside the dates an import accepts (%(first)s to %(last)s).")
                % {"date": date.isoformat(), "first": first.isoformat(), "last": last.isoformat()}
            )
        return date


class CheckedResource(resources.ModelResource):
    """A resource whose flags and dates are read strictly, whose file names no column twice and whose cells
    that look like formulas are refused; every problem is reported with its row number."""

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        if isinstance(f, models.BooleanField):
            return FlagWidget
        if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
            return DateInWindowWidget
        return super().widget_from_django_field(f, default)

    def before_import(self, dataset, **kwargs):
        refuse_repeated_columns(dataset.headers)
        self._problems: dict[int, dict[str, list[str]]] = {}
        for number, row in enumerate(dataset.dict, 1):
            for column, value in row.items():
                if isinstance(value, str) and refused_on_import(value):
                    self._problem(number, column, FORMULA_REFUSED)

    def _problem(self, number: int, column: str, message) -> None:
        self._problems.setdefault(number, {}).setdefault(column, []).append(str(message))

    def before_import_row(self, row, row_number=None, **kwargs):
        self._row_problems = {
            column: list(texts) for column, texts in self._problems.get(row_number, {}).items()
        }

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        for column, texts in self._row_problems.items():
            errors.setdefault(column, []).extend(texts)
        super().validate_instance(instance, errors, validate_unique)


# The admin


class CheckedImportExportAdmin(ImportExportModelAdmin):
    """import-export's admin with this project's files, limits, signed confirmation and all-or-nothing
    import (see the module's docstring)."""

    import_formats = [SpreadsheetCSV, SpreadsheetXLSX]
    export_formats = [SpreadsheetCSV, SpreadsheetXLSX]
    import_form_class = LimitedImportForm
    confirm_form_class = SignedConfirmImportForm
    tmp_storage_class = ImportFolderStorage

    def has_import_permission(self, request):
        """As the role matrix (billing.roles) allows: an export needs the model's view permission, an import
        its add permission (the IMPORT_EXPORT_*_PERMISSION_CODE settings) and its change permission as well,
        since an import updates the rows it matches."""
        change = f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}"
        return super().has_import_permission(request) and request.user.has_perm(change)

    def confirmation_salt(self, request) -> str:
        return f"billing.imports:{self.opts.label_lower}:{request.user.pk}"

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        return {**kwargs, "salt": self.confirmation_salt(request)}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            token = {"name": initial["import_file_name"], "format": initial["format"]}
            token["resource"] = initial.get("resource") or ""
            initial["import_file_name"] = signing.dumps(token, salt=self.confirmation_salt(request))
        return initial

    def get_import_data_kwargs(self, **kwargs):
        return {**super().get_import_data_kwargs(**kwargs), "use_transactions": True,
                "rollback_on_validation_errors": True}  # fmt: skip

    def add_data_read_fail_error_to_form(self, form, e):
        """A file refused by billing.spreadsheets says why; other read failures as import-export says."""
        if isinstance(e, BillingError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        """The preview; an upload that cannot be confirmed is removed at once."""
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        upload = form.cleaned_data.get("import_file") if form is not None and form.is_bound else None
        name = getattr(upload, "tmp_storage_name", None)
        if name and not context.get("confirm_form"):
            ImportFolderStorage(name=name).remove()
        return response

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """The confirmation: reads the previewed upload named by the signed token (then removes it) and
        imports it whole or not at all."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():
            refusals = [text for errors in confirm_form.errors.values() for text in errors]
            return self._import_page(request, status=400, refusals=refusals)
        storage = ImportFolderStorage(name=confirm_form.cleaned_data["import_file_name"])
        try:
            input_format = self.get_import_formats()[int(confirm_form.cleaned_data["format"])]()
            dataset = input_format.create_dataset(storage.read())
        except (OSError, BillingError) as error:
            message = str(error) if isinstance(error, BillingError) else NOT_PREVIEWED
            return self._import_page(request, status=400, refusals=[message])
        finally:
            storage.remove()
        result = self.process_dataset(dataset, confirm_form, request, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return self._import_page(request, status=400, result=result)
        return self.process_result(result, request)

    def _import_page(self, request, *, status: int, refusals=(), **context) -> TemplateResponse:
        for message in refusals:
            messages.error(request, message)
        form = self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request)
        )
        page = {
            **self.admin_site.each_context(request),
            "title": _("Import"),
            "opts": self.model._meta,
            "form": form,
            "import_error_display": self.import_error_display,
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], page, status=status)
