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
    "closed-contract-year",
    status=422,
    title=_("Contract year closed"),
    description=_(
        "The use is dated in a contract year that ended before today: nothing more is drawn in it, so "
        "unused trainings of an earlier year cannot be drawn by dating a use back."
    ),
)
register_problem(
    "consumption-in-future",
    status=422,
    title=_("Use dated ahead of time"),
    description=_(
        "The use is dated later than now by more than the allowed clock skew "
        "(CONSUMPTION_FUTURE_MARGIN_SECONDS)."
    ),
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
register_problem(
    "correction-exceeds-entry",
    status=409,
    title=_("Correction larger than the use"),
    description=_("A correction gives back at most what is left of the use after its earlier corrections."),
)
register_problem(
    "correction-of-correction",
    status=422,
    title=_("Correction of a correction"),
    description=_("A correction cannot be corrected; correct the use it gives back instead."),
)
register_problem(
    "reason-required",
    status=422,
    title=_("Reason required"),
    description=_("A correction of the consumption ledger says why it is made."),
)
register_problem(
    "reason-too-long",
    status=422,
    title=_("Reason too long"),
    description=_("A correction's reason has at most 500 characters."),
)
register_problem(
    "correction-forbidden",
    status=403,
    title=_("Correction not allowed"),
    description=_("Only the customer's account manager corrects its consumption."),
)
register_problem(
    "not-your-customer",
    status=403,
    title=_("Another account manager's customer"),
    description=_("An account manager acts for the customers he manages (or his team's) only."),
)
register_problem(
    "opened-after-at",
    status=422,
    title=_("Ticket opened after the moment asked about"),
    description=_("opened_at, when the ticket was opened, lies on or before at."),
)
