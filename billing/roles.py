"""Staff roles as groups of permissions. Permissions are named by "app_label.codename" strings, so this
module imports no app; `manage.py sync_roles` (also run by `load_demo`) makes the groups match."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

VIEW_CATALOGUE = [
    "catalog.view_product", "catalog.view_serviceitem", "catalog.view_servicetier", "catalog.view_ratecard",
    "catalog.view_persondayrate", "catalog.view_unitprice", "catalog.view_datavolumeprice",
    "catalog.view_upgradeprice",
]  # fmt: skip
VIEW_CUSTOMERS = [
    "contracts.view_customer", "contracts.view_contact", "contracts.view_contract",
    "contracts.view_serviceperiod", "contracts.view_persondaybundle", "contracts.view_consumptionentry",
    "contracts.view_chargerequest",
]  # fmt: skip
# Everyone but an account manager acts for every customer; he acts for his own (contracts.ownership).
EVERY_CUSTOMER = "contracts.act_for_every_customer"
SALES = [*VIEW_CATALOGUE, *VIEW_CUSTOMERS, EVERY_CUSTOMER, "quotes.view_quote", "quotes.add_quote",
         "quotes.change_quote", "quotes.view_serviceorder"]  # fmt: skip

ROLES = {
    "sales": (_("Sales"), SALES),
    "sales_manager": (_("Sales manager"), [*SALES, "quotes.approve_discount"]),
    "account_manager": (
        _("Account manager"),
        [
            *VIEW_CATALOGUE,
            *VIEW_CUSTOMERS,
            "contracts.change_customer",
            "contracts.add_contact",
            "contracts.change_contact",
            "contracts.change_chargerequest",
            "contracts.approve_chargerequest",
            "contracts.add_consumptionentry",
            "quotes.view_quote",
            "quotes.add_quote",
            "quotes.change_quote",
            "quotes.view_serviceorder",
            "quotes.change_serviceorder",
            # setting up the customers they win (contracts.setup)
            "contracts.add_customer",
            "contracts.add_contract",
            "contracts.add_licensedproduct",
            "contracts.add_custommodule",
            "contracts.add_serviceperiod",
            # the customers' fapiao details, which finance keeps (contracts.fapiao_details)
            "contracts.view_fapiaodetails",
        ],
    ),
    "finance": (
        _("Finance"),
        [
            *VIEW_CATALOGUE,
            *VIEW_CUSTOMERS,
            EVERY_CUSTOMER,
            "contracts.finance_approve_chargerequest",
            "contracts.change_chargerequest",
            "contracts.view_fapiaodetails",
            "contracts.add_fapiaodetails",
            "contracts.change_fapiaodetails",
            "quotes.view_quote",
            "quotes.view_serviceorder",
            "invoices.view_charge",
            "invoices.view_invoice",
            "invoices.change_invoice",
            "invoices.delete_invoice",
            "invoices.view_invoicerun",
            "invoices.add_invoicerun",
            "invoices.view_payment",
            "invoices.add_payment",
            "invoices.view_worklog",
            "invoices.add_worklog",
            "invoices.change_worklog",
            "invoices.view_travelexpense",
            "invoices.add_travelexpense",
            "invoices.change_travelexpense",
            "invoices.view_datavolumeusage",
            "invoices.add_datavolumeusage",
            "invoices.view_redletterrequest",
            "invoices.change_redletterrequest",
            # fapiao (数电发票): a batch workbook sent to the platform requests them (invoices.fapiao_batch)
            "invoices.view_fapiaobatch",
            "invoices.add_fapiaobatch",
            # recording the fapiao the e-invoice platform issued (invoices.fapiao_import)
            "invoices.view_fapiao",
            "invoices.add_fapiao",
            "invoices.change_fapiao",
        ],
    ),
    "administrator": (_("Administrator"), "__all__"),
}

# Permissions that approve, bill or collect money or grant a discount: who holds any of them (account
# managers, sales managers, finance, administrators, superusers) signs in with a second factor; plain sales
# does not.
MONEY_POWERS = [
    "contracts.approve_chargerequest",
    "contracts.finance_approve_chargerequest",
    "quotes.approve_discount",
    "invoices.add_invoicerun",
    "invoices.change_invoice",
    "invoices.delete_invoice",
    "invoices.add_payment",
    "invoices.change_travelexpense",
]


def has_money_powers(user) -> bool:
    """Whether ``user`` may move money or grant a discount, and so must pass a second factor."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or any(user.has_perm(permission) for permission in MONEY_POWERS)


@transaction.atomic
def sync_roles() -> dict[str, int]:
    """Creates the role groups and sets exactly their permissions; returns the permission count of each."""
    everything = list(Permission.objects.all())
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    counts = {}
    for code, (_label, names) in ROLES.items():
        group, _created = Group.objects.get_or_create(name=code)
        if names == "__all__":
            permissions = everything
        else:
            unknown = [name for name in names if name not in by_name]
            if unknown:  # a renamed model or permission must not silently shrink a role
                raise LookupError(f"role {code}: unknown permissions {unknown}; run migrate first")
            permissions = [by_name[name] for name in names]
        group.permissions.set(permissions)
        counts[code] = len(permissions)
    return counts
