"""Staff pages where account managers set up the customers they win: a new customer in one form (its first
contact, the purchase contract with its products and custom modules, the free period), then its
particulars, contacts, further contracts and free periods, and imports from CSV/XLSX. Each page writes
through contracts.setup; a refusal of the services comes back as an error on the form."""

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from billing.errors import BillingError
from billing.imports import NOT_PREVIEWED, UPLOAD_NAME, ImportFolderStorage
from billing.spreadsheets import formula_escaped_dataset
from contracts.imports import KINDS, PERMISSIONS, setup_file_read, setup_import, template_dataset
from contracts.models import Contact, Contract, Customer
from contracts.ownership import acts_for
from contracts.setup import (
    SetupInvalid,
    contact_add,
    contact_update,
    contract_create,
    customer_setup,
    customer_update,
    free_period_add,
    manager_of_new_customer,
)
from workspace.setup_forms import (
    ContactForm,
    ContractForm,
    CustomerForm,
    CustomModuleFormSet,
    FreePeriodForm,
    ImportForm,
    LicenceFormSet,
)

CONFIRM_SALT = "contracts.imports:{user}"


def _acting_for(request, customer: Customer) -> None:
    """The pages refuse (403) a customer the user does not act for, as the services would."""
    if not acts_for(user=request.user, customer=customer):
        raise PermissionDenied


def _refusal_on(form, error: BillingError) -> None:
    """A service's refusal as the form's errors: by field when it names the form's fields."""
    if isinstance(error, SetupInvalid):
        for name, texts in error.errors.items():
            form.add_error(name if name in form.fields else None, texts)
    else:
        form.add_error(None, str(error))


def _licences(formset) -> list:
    return [(row["product"], row["version"]) for row in formset.cleaned_data if row]


def _modules(formset) -> list:
    return [(row["code"], row["name"], row.get("product")) for row in formset.cleaned_data if row]


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.add_customer", raise_exception=True)
def customer_new(request):
    """A new customer after a sale: the customer, its first contact, the purchase contract with its licensed
    products and custom modules, and the free period, saved together or not at all."""
    data = request.POST or None
    forms = {
        "customer": CustomerForm(data, prefix="customer", user=request.user),
        "contact": ContactForm(data, prefix="contact"),
        "contract": ContractForm(data, prefix="contract"),
        "period": FreePeriodForm(data, prefix="period"),
    }
    licences = LicenceFormSet(data, prefix="products")
    modules = CustomModuleFormSet(data, prefix="modules")
    if request.method == "POST" and all(f.is_valid() for f in [*forms.values(), licences, modules]):
        customer_data = forms["customer"].cleaned_data
        manager = customer_data.pop("account_manager", None) or manager_of_new_customer(request.user)
        try:
            customer = customer_setup(
                by=request.user,
                customer={**customer_data, "account_manager": manager},
                contact=forms["contact"].cleaned_data,
                contract={
                    **forms["contract"].cleaned_data,
                    "products": _licences(licences),
                    "custom_modules": _modules(modules),
                },
                free_period=forms["period"].cleaned_data,
            )
        except BillingError as error:
            part = getattr(error, "part", "") or "customer"
            _refusal_on(forms.get(part, forms["contract"]), error)
        else:
            messages.success(request, _("%(customer)s is set up.") % {"customer": customer})
            return redirect("invoices:customer", code=customer.code)
    context = {**forms, "licences": licences, "modules": modules}
    return render(request, "contracts/customer_new.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.change_customer", raise_exception=True)
def customer_edit(request, code: str):
    customer = get_object_or_404(Customer, code=code)
    _acting_for(request, customer)
    form = CustomerForm(
        request.POST or None, instance=Customer.objects.get(pk=customer.pk), user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(customer=customer, by=request.user, **form.cleaned_data)
        except BillingError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("The customer's particulars are saved."))
            return redirect("invoices:customer", code=customer.code)
    return render(request, "contracts/setup_form.html", _page(customer, form, _("Edit the customer")))


def _page(customer: Customer, form, title: str, **more) -> dict:
    return {"customer": customer, "form": form, "title": title, **more}


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.add_contact", raise_exception=True)
def contact_new(request, code: str):
    customer = get_object_or_404(Customer, code=code)
    _acting_for(request, customer)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_add(customer=customer, by=request.user, **form.cleaned_data)
        except BillingError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("The contact is added."))
            return redirect("invoices:customer", code=customer.code)
    return render(request, "contracts/setup_form.html", _page(customer, form, _("New contact")))


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.change_contact", raise_exception=True)
def contact_edit(request, pk: int):
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=pk)
    _acting_for(request, contact.customer)
    form = ContactForm(request.POST or None, instance=Contact.objects.get(pk=contact.pk))
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(contact=contact, by=request.user, **form.cleaned_data)
        except BillingError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("The contact is saved."))
            return redirect("invoices:customer", code=contact.customer.code)
    return render(request, "contracts/setup_form.html", _page(contact.customer, form, _("Edit the contact")))


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.add_contract", raise_exception=True)
def contract_new(request, code: str):
    """A further contract of a customer, with its licensed products and custom modules."""
    customer = get_object_or_404(Customer, code=code)
    _acting_for(request, customer)
    data = request.POST or None
    form = ContractForm(data, prefix="contract")
    licences = LicenceFormSet(data, prefix="products")
    modules = CustomModuleFormSet(data, prefix="modules")
    if request.method == "POST" and all(f.is_valid() for f in (form, licences, modules)):
        try:
            contract = contract_create(
                customer=customer,
                by=request.user,
                **form.cleaned_data,
                products=_licences(licences),
                custom_modules=_modules(modules),
            )
        except BillingError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("Contract %(number)s is added.") % {"number": contract.number})
            return redirect("contracts:period-new", pk=contract.pk)
    context = _page(customer, form, _("New contract"), licences=licences, modules=modules)
    return render(request, "contracts/contract_new.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.add_serviceperiod", raise_exception=True)
def period_new(request, pk: int):
    """The free period of a contract (period_add: it may not overlap another period of the contract)."""
    contract = get_object_or_404(Contract.objects.select_related("customer"), pk=pk)
    _acting_for(request, contract.customer)
    form = FreePeriodForm(request.POST or None, initial={"start": contract.signed_on})
    if request.method == "POST" and form.is_valid():
        try:
            free_period_add(contract=contract, by=request.user, **form.cleaned_data)
        except BillingError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("The free period is added."))
            return redirect("invoices:customer", code=contract.customer.code)
    title = _("Free period of contract %(number)s") % {"number": contract.number}
    context = _page(contract.customer, form, title, contract=contract)
    periods = contract.periods.select_related("tier")
    return render(request, "contracts/setup_form.html", {**context, "periods": periods})


# --- imports --------------------------------------------------------------------------------------------


def _kinds_for(user) -> list:
    return [(kind, label) for kind, label in KINDS if user.has_perm(PERMISSIONS[kind])]


def _salt(request) -> str:
    return CONFIRM_SALT.format(user=request.user.pk)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.add_customer", raise_exception=True)
def setup_import_page(request):
    """Upload, preview (every row, the bad ones with their numbers and why; nothing written), confirm (the
    previewed upload, named by a token signed for the user, imported whole or not at all)."""
    kinds = _kinds_for(request.user)
    if request.method == "POST" and "token" in request.POST:
        return _import_confirm(request, kinds)
    form = ImportForm(request.POST or None, request.FILES or None, kinds=kinds)
    context = {"form": form, "kinds": kinds}
    if request.method == "POST" and form.is_valid():
        upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
        suffix = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
        raw = upload.read(settings.IMPORT_MAX_BYTES + 1)
        try:
            dataset = setup_file_read(io.BytesIO(raw), name=f"upload.{suffix}", size=upload.size, kind=kind)
        except BillingError as error:
            form.add_error("file", str(error))
        else:
            result = setup_import(kind=kind, dataset=dataset, by=request.user, commit=False)
            context["result"] = result
            if result.rows and not result.bad_rows:
                storage = ImportFolderStorage()
                storage.save(raw)
                token = {"name": storage.name, "kind": kind, "suffix": suffix}
                context["token"] = signing.dumps(token, salt=_salt(request))
    return render(request, "contracts/setup_import.html", context)


def _import_confirm(request, kinds):
    form = ImportForm(kinds=kinds)
    try:
        signed = signing.loads(
            request.POST["token"], salt=_salt(request), max_age=settings.IMPORT_CONFIRM_MAX_AGE_SECONDS
        )
        if not UPLOAD_NAME.match(str(signed.get("name", ""))) or signed["kind"] not in dict(kinds):
            raise signing.BadSignature
    except (signing.BadSignature, KeyError):
        messages.error(request, str(NOT_PREVIEWED))
        return render(request, "contracts/setup_import.html", {"form": form}, status=400)
    storage = ImportFolderStorage(name=signed["name"])
    try:
        raw = storage.read()
        dataset = setup_file_read(
            io.BytesIO(raw), name=f"upload.{signed['suffix']}", size=len(raw), kind=signed["kind"]
        )
    except (OSError, BillingError) as error:
        messages.error(request, str(error) if isinstance(error, BillingError) else str(NOT_PREVIEWED))
        return render(request, "contracts/setup_import.html", {"form": form}, status=400)
    finally:
        storage.remove()
    result = setup_import(kind=signed["kind"], dataset=dataset, by=request.user, commit=True)
    if not result.committed:
        context = {"form": form, "result": result}
        return render(request, "contracts/setup_import.html", context, status=400)
    count = len(result.rows)
    messages.success(
        request,
        ngettext("%(count)s row is imported.", "%(count)s rows are imported.", count) % {"count": count},
    )
    return redirect("contracts:customer-import")


@require_GET
@login_required
@permission_required("contracts.add_customer", raise_exception=True)
def setup_import_template(request, kind: str, suffix: str):
    """The header row of a file of ``kind``, as CSV (UTF-8 with the BOM Excel reads) or XLSX."""
    if kind not in PERMISSIONS or suffix not in ("csv", "xlsx"):
        raise Http404
    dataset = formula_escaped_dataset(template_dataset(kind))
    if suffix == "csv":
        body = "\ufeff" + dataset.export("csv")
        content_type = "text/csv; charset=utf-8"
    else:
        body = dataset.export("xlsx")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{suffix}"'
    return response
