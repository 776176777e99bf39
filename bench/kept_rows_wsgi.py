"""The check without its query, for the HTTP benchmark only: each process keeps a customer's periods after
reading them once. Never shipped (a renewal would not be seen); it measures what the rest of a check costs.
"""

from billing.wsgi import application  # noqa: F401  (what gunicorn serves)
from contracts import entitlements

_read = entitlements._customer_periods
_kept: dict = {}


def _kept_periods(customer):
    if isinstance(customer, str):
        if customer not in _kept:
            _kept[customer] = _read(customer)
        return _kept[customer]
    return _read(customer)


entitlements._customer_periods = _kept_periods
