"""A customer's fapiao details (发票抬头 and what the fully digital e-invoice prints of the buyer), kept by
finance: the one write path of the staff page and the admin. The taxpayer number is the customer's USCC,
kept on the customer (contracts.setup), never copied here."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from contracts.models import Customer, FapiaoDetails, FapiaoType
from contracts.ownership import ownership_check

FAPIAO_FIELDS = ("title", "address", "phone", "bank", "bank_account", "email", "fapiao_type")
CHANGE_FAPIAO_DETAILS = "contracts.change_fapiaodetails"
ADD_FAPIAO_DETAILS = "contracts.add_fapiaodetails"


class FapiaoDetailsInvalid(BillingError):
    """Details a rule refuses; ``errors`` holds the messages by field (``__all__`` for the whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        texts = [str(text) for messages in errors.values() for text in messages]
        super().__init__("%(errors)s", code="fapiao_details_invalid", params={"errors": " ".join(texts)})


class FapiaoDetailsForbidden(BillingError):
    status = 403


def fapiao_details_of(customer: Customer) -> FapiaoDetails:
    """The customer's fapiao details, or (unsaved) what they start from: its legal name as the title, a
    VAT special invoice (专票) for a customer with a USCC, an ordinary one (普票) otherwise."""
    details = FapiaoDetails.objects.filter(customer=customer).first()
    if details is not None:
        return details
    return FapiaoDetails(
        customer=customer,
        title=customer.legal_name,
        fapiao_type=FapiaoType.SPECIAL if customer.uscc else FapiaoType.ORDINARY,
    )


def fapiao_details_check(*, customer: Customer, details: FapiaoDetails) -> None:
    """Refuses (FapiaoDetailsInvalid, every problem by field) details the model's validation refuses, or a
    VAT special invoice (专票) for a customer without a USCC: its taxpayer number is required on one."""
    errors: dict[str, list[str]] = {}
    try:
        details.full_clean(exclude=["customer"])
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            errors |= {field: list(texts) for field, texts in error.message_dict.items()}
        else:
            errors[NON_FIELD_ERRORS] = list(error.messages)
    if details.fapiao_type == FapiaoType.SPECIAL and not customer.uscc:
        errors.setdefault("fapiao_type", []).append(
            _(
                "A VAT special invoice (专票) carries the buyer's taxpayer number: enter the customer's "
                "unified social credit code on the customer first, or choose an ordinary invoice (普票)."
            )
        )
    if errors:
        raise FapiaoDetailsInvalid(errors)


@transaction.atomic
def fapiao_details_save(*, customer: Customer, data: dict, by=None) -> FapiaoDetails:
    """Creates or changes the customer's fapiao details from ``data`` (the fields of FAPIAO_FIELDS it
    holds; text is stripped), after the checks, its history naming ``by``. A staff user needs the add or
    change permission (finance) and to act for the customer (contracts.ownership)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    details = FapiaoDetails.objects.select_for_update().filter(customer=customer).first()
    if isinstance(by, AbstractBaseUser):
        permission = CHANGE_FAPIAO_DETAILS if details is not None else ADD_FAPIAO_DETAILS
        if not by.has_perm(permission):
            raise FapiaoDetailsForbidden(
                _("Your role does not allow this (it lacks %(permissions)s)."),
                code="fapiao_details_forbidden",
                params={"permissions": permission},
            )
        ownership_check(user=by, customer=customer)
    details = details or fapiao_details_of(customer)
    for name in FAPIAO_FIELDS:
        if name in data:
            value = data[name]
            setattr(details, name, value.strip() if isinstance(value, str) else value)
    fapiao_details_check(customer=customer, details=details)
    if isinstance(by, AbstractBaseUser):
        details._history_user = by
    details.save()
    return details
