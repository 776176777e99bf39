"""Finance records the fapiao the e-invoice platform issued: the platform's query export workbook and its
invoice XML files (one, many, or zipped) are uploaded together, previewed row by row (matched, unmatched,
conflicting; invoices.fapiao_import) and recorded on confirmation, whole or not at all. Between the two
steps the upload waits as the work-log import's does (billing.imports: a random name, a token signed for
the user); the files are kept together as one stored zip."""

import io
import zipfile
from dataclasses import asdict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from billing.errors import BillingError
from billing.imports import upload_keep, upload_size_check, upload_take
from invoices.fapiao_import import (
    FapiaoImportRefused,
    ParsedFapiao,
    fapiao_import_preview,
    fapiao_import_record,
    read_fapiao_upload,
)

PREVIEW_ROWS = 200
ACCEPTED = (".xlsx", ".xml", ".zip")
MAX_FILES = 100


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FapiaoFilesField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(FapiaoFilesField, self).clean(upload, initial) for upload in files]


class FapiaoFilesForm(forms.Form):
    files = FapiaoFilesField(
        label=gettext_lazy("Files from the e-invoice platform"),
        widget=MultipleFileInput(attrs={"accept": ",".join(ACCEPTED)}),
        help_text=gettext_lazy(
            "The invoice query export (.xlsx, sheet 发票基础信息), invoice XML files (.xml) or a .zip of "
            "them; several at once."
        ),
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("At most %(max)s files at once.") % {"max": MAX_FILES})
        for upload in files:
            if not upload.name.lower().endswith(ACCEPTED):
                raise forms.ValidationError(
                    _("%(name)s: upload .xlsx, .xml or .zip files.") % {"name": upload.name}
                )
        try:
            upload_size_check(sum(upload.size for upload in files))
        except BillingError as error:
            raise forms.ValidationError(str(error), code=error.code) from error
        return files


def _salt(request) -> str:
    return f"workspace.fapiao-import:{request.user.pk}"


def _bundle(files) -> bytes:
    """The uploaded files as one stored zip, named as uploaded (a name given twice gets a number)."""
    buffer, seen = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for place, upload in enumerate(files, 1):
            name = upload.name.replace("/", "_").replace("\\", "_")[:120]
            if name in seen:
                name = f"{place}-{name}"
            seen.add(name)
            bundle.writestr(name, upload.read())
    return buffer.getvalue()


def _read_bundle(data: bytes) -> tuple[ParsedFapiao, list[str]]:
    parsed, names = ParsedFapiao(), []
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        for member in bundle.infolist():
            upload_size_check(member.file_size)
            names.append(member.filename)
            parsed.extend(read_fapiao_upload(bundle.read(member), name=member.filename))
    return parsed, names


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(("invoices.add_fapiao", "invoices.change_fapiao"), raise_exception=True)
def fapiao_import(request):
    """Upload: the preview with every row (nothing is kept unless the upload is consistent), then a
    confirm button; the confirmation records the previewed upload named by its signed token."""
    form = FapiaoFilesForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "POST" and "token" in request.POST:
        try:
            data, _signed = upload_take(request.POST["token"], salt=_salt(request))
            parsed, names = _read_bundle(data)
            imported = fapiao_import_record(parsed=parsed, by=request.user, source=", ".join(names))
        except FapiaoImportRefused as refused:  # changed since its preview
            messages.error(request, str(refused))
            context |= {"preview": refused.preview, "form": FapiaoFilesForm()}
        except BillingError as error:
            messages.error(request, str(error))
            return redirect("invoices:fapiao-import")
        else:
            messages.success(
                request,
                _(
                    "Recorded: %(new)s fapiao, %(recorded)s recorded before (%(updated)s with a new status), "
                    "%(requests)s red-letter requests completed."
                )
                % asdict(imported),
            )
            return redirect("invoices:fapiao-import")
    elif request.method == "POST" and form.is_valid():
        files = form.cleaned_data["files"]
        try:
            data = _bundle(files)
            parsed, names = _read_bundle(data)
        except BillingError as error:
            form.add_error("files", str(error))
        else:
            preview = fapiao_import_preview(parsed)
            context |= {"preview": preview, "names": names}
            if preview.consistent and preview.rows:
                context["token"] = upload_keep(data, salt=_salt(request))
    if "preview" in context:
        preview = context["preview"]
        context |= {
            "matched": preview.matched[:PREVIEW_ROWS],
            "more_matched": max(len(preview.matched) - PREVIEW_ROWS, 0),
        }
    return render(request, "workspace/fapiao_import.html", context)
