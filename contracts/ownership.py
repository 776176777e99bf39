"""Whose customers a staff user acts for (客户归属). An account manager acts for the customers he manages,
for customers nobody manages yet, and, as a team lead (``ACCOUNT_MANAGER_TEAMS``), for those of his team's
managers. Users holding ``contracts.act_for_every_customer`` (finance, sales, administrators, superusers)
act for every customer. Services check it for every step a staff user takes for a customer, so the pages,
the admin and the API get the same answer; machines (API keys) are governed by their scopes instead."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from billing.roles import EVERY_CUSTOMER
from contracts.models import Customer

ASSIGN_ACCOUNT_MANAGER = "contracts.assign_account_manager"


class NotYourCustomer(BillingError):
    """A staff user acting for a customer another account manager manages (HTTP 403)."""

    status = 403


def acts_for(*, user, customer: Customer) -> bool:
    """Whether ``user`` may act for ``customer``; anyone who is not a staff user (a system step, an API
    key) is not limited here."""
    if not isinstance(user, AbstractBaseUser):
        return True
    if user.has_perm(EVERY_CUSTOMER):
        return True
    manager_id = customer.account_manager_id
    if manager_id is None or manager_id == user.pk:
        return True
    team = settings.ACCOUNT_MANAGER_TEAMS.get(user.get_username(), ())
    return bool(team) and customer.account_manager.get_username() in team


def ownership_refusal(*, user, customer: Customer) -> NotYourCustomer | None:
    """Why ``user`` may not act for ``customer`` (``acts_for``), or None when he may: for the checks that
    collect refusals before a step (an approval button shown or not)."""
    if acts_for(user=user, customer=customer):
        return None
    return NotYourCustomer(
        _("%(customer)s is managed by another account manager."),
        code="not_your_customer",
        params={"customer": customer.code},
    )


def ownership_check(*, user, customer: Customer) -> None:
    """Refuses (NotYourCustomer) a step ``user`` may not take for ``customer``."""
    refusal = ownership_refusal(user=user, customer=customer)
    if refusal is not None:
        raise refusal
