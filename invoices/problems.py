"""The business-rule problems the invoices API can answer (RFC 9457 types under /api/problems/)."""

from django.utils.translation import gettext_lazy as _

from billing.problems import register_problem

register_problem(
    "invalid-statement-period",
    status=400,
    title=_("Invalid statement period"),
    description=_("A statement needs “from” and “to” dates written YYYY-MM-DD, “from” not after “to”."),
)
