"""Template filters of the staff pages and documents."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(fraction) -> str:
    """A fraction as a percentage without rounding away what matters: 0.125 -> "12.5%", 0.06 -> "6%"."""
    if fraction in (None, ""):
        return ""
    value = (Decimal(str(fraction)) * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f}%"
