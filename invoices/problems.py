"""The business-rule problems the invoices API can answer (RFC 9457 types under /api/problems/)."""

from django.utils.translation import gettext_lazy as _

from billing.problems import register_problem

register_problem(
    "credit-zero",
    status=422,
    title=_("Credit of 0.00"),
    description=_("A credit note line credits more than 0.00; a quantity that rounds to 0.00 is refused."),
)
register_problem(
    "credit-too-much",
    status=409,
    title=_("More than is left to credit"),
    description=_("A line is credited at most for what was billed and not credited yet."),
)
register_problem(
    "credit-quantity-or-amount",
    status=422,
    title=_("A quantity or an amount"),
    description=_("Each credited line gives either a quantity or an agreed amount (VAT included)."),
)
register_problem(
    "credit-not-allowed",
    status=409,
    title=_("Not an issued invoice"),
    description=_("Only an issued invoice is credited; a credit note is not credited again."),
)
