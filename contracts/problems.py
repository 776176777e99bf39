"""The business-rule problems the contracts API can answer (RFC 9457 types under /api/problems/)."""

from django.utils.translation import gettext_lazy as _

from billing.problems import register_problem

register_problem(
    "quota-exhausted",
    status=409,
    title=_("Quota exhausted"),
    description=_("The free trainings of the contract year or the prepaid person-days cannot hold this use."),
)
register_problem(
    "not-a-quota",
    status=422,
    title=_("Not a counted quota"),
    description=_("Only trainings and person-day services are consumed against a quota."),
)
register_problem(
    "not-covered",
    status=422,
    title=_("Not covered"),
    description=_("No service period runs on that day, so there is no quota to consume."),
)
register_problem(
    "invalid-version",
    status=422,
    title=_("Invalid version"),
    description=_("Versions are major.medium.minor, such as 8.5.2."),
)
register_problem(
    "upgrade-needs-versions",
    status=422,
    title=_("Upgrade check incomplete"),
    description=_("An upgrade check names the product and the version to upgrade to."),
)
register_problem(
    "invalid-severity",
    status=422,
    title=_("Invalid severity"),
    description=_("Severity is 1, 2, 3, 4 or non-fault."),
)
register_problem(
    "invalid-quantity",
    status=422,
    title=_("Invalid quantity"),
    description=_("Quantities are positive."),
)
register_problem(
    "contract-customer",
    status=422,
    title=_("Contract of another customer"),
    description=_("The contract named belongs to another customer."),
)
register_problem(
    "charge-status",
    status=409,
    title=_("Charge request in another state"),
    description=_("The charge request is not in a state that allows this step."),
)
