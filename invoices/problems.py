"""The business-rule problems the work-log and order API can answer (RFC 9457 types under /api/problems/)."""

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
