"""The business-rule problems the invoices API (work logs, orders, credit notes) can answer (RFC 9457
types under /api/problems/); the statement's too."""

from django.utils.translation import gettext_lazy as _

from billing.problems import register_problem

register_problem(
    "order-closed",
    status=409,
    title=_("Order closed"),
    description=_("The order is closed: no more work is logged against it and it cannot be closed again."),
)
register_problem(
    "order-overrun",
    status=409,
    title=_("Beyond the ordered quantity"),
    description=_("The work is more than the order line has left; ask for a new order or a charge request."),
)
register_problem(
    "order-line-customer",
    status=422,
    title=_("Order line of another customer"),
    description=_("The order line named belongs to another customer's order."),
)
register_problem(
    "order-line-not-person-days",
    status=422,
    title=_("Order line not in person-days"),
    description=_("Work logs deliver order lines in person-days only."),
)
register_problem(
    "unknown-order-line",
    status=422,
    title=_("Unknown order line"),
    description=_("No order line has that id, or the order has no line of that service."),
)
register_problem(
    "unknown-order",
    status=422,
    title=_("Unknown order"),
    description=_("The reference names no accepted quote with a service order."),
)
register_problem(
    "invalid-statement-period",
    status=400,
    title=_("Invalid statement period"),
    description=_("A statement needs “from” and “to” dates written YYYY-MM-DD, “from” not after “to”."),
)
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
