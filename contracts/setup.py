"""Setting up a customer after a sale (客户建档): the customer, its contacts, the purchase contract with its
licensed products, versions and custom modules, and the free service period (免费服务期).

Account managers, who own the relationship, do it from the staff pages and imports; these services hold
the rules the admin holds: every row passes its model's validation (``full_clean``: the USCC check of
``contracts.models.validate_uscc``, versions, unique codes and numbers, a contract continuing one of the
same customer), a period goes through ``period_add`` (no overlap within a contract), each step needs the
model permission of the user's role (billing.roles) and is taken only for a customer the user acts for
(contracts.ownership), and the history of every audited row names the user. Who manages a customer is set
by those who assign account managers; anyone else who creates a customer manages it himself, or leaves it
to nobody.
"""

import datetime
from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as uscc_number

from billing.errors import BillingError
from catalog.models import BusinessCalendar, Product, ServiceTier
from contracts.models import (
    Contact,
    Contract,
    ContractKind,
    Customer,
    CustomModule,
    LicensedProduct,
    PeriodKind,
    ServicePeriod,
)
from contracts.ownership import ASSIGN_ACCOUNT_MANAGER, ownership_check
from contracts.services import period_add

CUSTOMER_FIELDS = ("code", "legal_name", "uscc", "city", "region", "arrival_area")
CUSTOMER_CHANGEABLE = (*CUSTOMER_FIELDS[1:], "account_manager")  # the code names the customer in links
CONTACT_FIELDS = ("name", "title", "email", "phone", "is_primary")


class SetupForbidden(BillingError):
    """A step the user's role does not allow (HTTP 403)."""

    status = 403


class SetupInvalid(BillingError):
    """A row its model's validation refuses; ``errors`` holds the messages by field (``__all__`` for the
    row), ``part`` which part of a set-up it is (customer, contact, contract, period)."""

    def __init__(self, errors: dict[str, list[str]], *, part: str = ""):
        self.errors, self.part = errors, part
        texts = [text for messages in errors.values() for text in messages]
        super().__init__("%(errors)s", code="setup_invalid", params={"errors": " ".join(texts)})


def _permission_check(by, *permissions: str) -> None:
    """A staff user needs each permission; a system step (no user) is not limited here."""
    if not isinstance(by, AbstractBaseUser):
        return
    missing = [permission for permission in permissions if not by.has_perm(permission)]
    if missing:
        raise SetupForbidden(
            _("Your role does not allow this (it lacks %(permissions)s)."),
            code="setup_forbidden",
            params={"permissions": ", ".join(missing)},
        )


def _validated_save(instance: models.Model, by, *, part: str) -> models.Model:
    """Saves ``instance`` after its model's own validation, its history naming ``by``."""
    try:
        instance.full_clean()
    except ValidationError as error:
        raise SetupInvalid(_by_field(error), part=part) from error
    if isinstance(by, AbstractBaseUser):
        instance._history_user = by
    instance.save()
    return instance


def _by_field(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: list(messages) for field, messages in error.message_dict.items()}
    return {NON_FIELD_ERRORS: list(error.messages)}


def _compact(uscc: str) -> str:
    """The USCC without the spaces and dashes it is often written with (as Customer.clean keeps it)."""
    return uscc_number.compact(uscc) if uscc else ""


def _manager_check(by, manager) -> None:
    """Only who assigns account managers names another one (as in the admin); anyone may take a customer
    himself or leave it unmanaged."""
    if not isinstance(by, AbstractBaseUser) or by.has_perm(ASSIGN_ACCOUNT_MANAGER):
        return
    if manager is not None and manager.pk != by.pk:
        raise SetupForbidden(
            _("Only an administrator assigns a customer to another account manager."),
            code="assign_account_manager",
        )


def manager_of_new_customer(by):
    """Who manages a customer ``by`` creates without naming a manager: himself, unless he is one who
    assigns account managers (an administrator sets up customers for others)."""
    if isinstance(by, AbstractBaseUser) and not by.has_perm(ASSIGN_ACCOUNT_MANAGER):
        return by
    return None


# --- customers and contacts --------------------------------------------------------------------------


@transaction.atomic
def customer_create(
    *,
    by,
    code: str,
    legal_name: str,
    uscc: str = "",
    city: str = "",
    region: str = "",
    arrival_area: str = "",
    account_manager=None,
) -> Customer:
    """A new customer, validated as the admin validates it (its USCC with its check character)."""
    _permission_check(by, "contracts.add_customer")
    _manager_check(by, account_manager)
    customer = Customer(
        code=code,
        legal_name=legal_name,
        uscc=_compact(uscc),
        city=city,
        region=region,
        account_manager=account_manager,
    )
    if arrival_area:
        customer.arrival_area = arrival_area
    return _validated_save(customer, by, part="customer")


@transaction.atomic
def customer_update(*, customer: Customer, by, **changes) -> Customer:
    """Changes a customer's name, USCC, place or (for who assigns them) account manager; its code, which
    links and files name it by, stays."""
    unknown = set(changes) - set(CUSTOMER_CHANGEABLE)
    if unknown:
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    _permission_check(by, "contracts.change_customer")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ownership_check(user=by, customer=customer)
    if "account_manager" in changes and changes["account_manager"] != customer.account_manager:
        _permission_check(by, ASSIGN_ACCOUNT_MANAGER)
    if "uscc" in changes:
        changes["uscc"] = _compact(changes["uscc"])
    for name, value in changes.items():
        setattr(customer, name, value)
    return _validated_save(customer, by, part="customer")


@transaction.atomic
def contact_add(
    *,
    customer: Customer,
    by,
    name: str,
    title: str = "",
    email: str = "",
    phone: str = "",
    is_primary: bool = False,
) -> Contact:
    _permission_check(by, "contracts.add_contact")
    ownership_check(user=by, customer=customer)
    contact = Contact(
        customer=customer, name=name, title=title, email=email, phone=phone, is_primary=is_primary
    )
    return _validated_save(contact, by, part="contact")


@transaction.atomic
def contact_update(*, contact: Contact, by, **changes) -> Contact:
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    _permission_check(by, "contracts.change_contact")
    contact = Contact.objects.select_for_update().select_related("customer").get(pk=contact.pk)
    ownership_check(user=by, customer=contact.customer)
    for name, value in changes.items():
        setattr(contact, name, value)
    return _validated_save(contact, by, part="contact")


# --- contracts and periods ---------------------------------------------------------------------------


@transaction.atomic
def contract_create(
    *,
    customer: Customer,
    by,
    number: str,
    signed_on: datetime.date,
    kind: str = ContractKind.PURCHASE,
    products: Iterable[tuple[Product, str]] = (),
    custom_modules: Iterable[tuple[str, str, Product | None]] = (),
    continues: Contract | None = None,
    covers_all_products: bool = False,
    note: str = "",
) -> Contract:
    """A contract with the products it licenses (product, version) and the custom modules built for the
    customer (code, name, product or None)."""
    products, custom_modules = list(products), list(custom_modules)
    _permission_check(
        by,
        "contracts.add_contract",
        *(["contracts.add_licensedproduct"] if products else []),
        *(["contracts.add_custommodule"] if custom_modules else []),
    )
    ownership_check(user=by, customer=customer)
    contract = Contract(
        customer=customer,
        number=number,
        kind=kind,
        signed_on=signed_on,
        continues=continues,
        covers_all_products=covers_all_products,
        note=note,
    )
    _validated_save(contract, by, part="contract")
    for product, version in products:
        _validated_save(
            LicensedProduct(contract=contract, product=product, version=version), by, part="products"
        )
    for code, name, product in custom_modules:
        module = CustomModule(contract=contract, code=code, name=name, product=product)
        _validated_save(module, by, part="custom_modules")
    return contract


def free_period_add(
    *,
    contract: Contract,
    by,
    start: datetime.date,
    end: datetime.date,
    tier: ServiceTier,
    calendar: BusinessCalendar | None = None,
    trainings_per_year: int = 2,
) -> ServicePeriod:
    """The free service period that comes with a purchase, through ``period_add`` (no overlap within the
    contract). Paid periods come from renewals (quotes accepted, contracts.services.period_renew)."""
    _permission_check(by, "contracts.add_serviceperiod")
    ownership_check(user=by, customer=contract.customer)
    try:
        return period_add(
            contract=contract,
            kind=PeriodKind.FREE,
            start=start,
            end=end,
            tier=tier,
            calendar=calendar,
            trainings_per_year=trainings_per_year,
            by=by,
        )
    except BillingError as error:
        error.part = "period"
        raise


# --- the whole set-up ----------------------------------------------------------------------------------


@transaction.atomic
def customer_setup(
    *,
    by,
    customer: dict,
    contract: dict,
    contact: dict | None = None,
    free_period: dict | None = None,
) -> Customer:
    """A new customer with its first contact, its purchase contract and the free period, all or nothing:
    each part is the keyword arguments of its service (less the customer, the contract and ``by``)."""
    created = customer_create(by=by, **customer)
    if contact:
        contact_add(customer=created, by=by, **contact)
    signed = contract_create(customer=created, by=by, **contract)
    if free_period:
        free_period_add(contract=signed, by=by, **free_period)
    return created
