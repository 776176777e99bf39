from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone

from billing.errors import BillingError
from catalog.models import (
    DataVolumePrice,
    HolidayScheduleDay,
    ServiceGroup,
    ServiceItem,
    ServiceTier,
)
from catalog.selectors import published_holiday_years, rate_card_in_force


@login_required
@permission_required("catalog.view_serviceitem", raise_exception=True)
def catalogue(request):
    """The whole catalogue on one page: services by group, tiers with their response times, the rate
    card in force and this year's holiday schedule."""
    today = timezone.localdate()
    try:
        rate_card = rate_card_in_force(on=today)
    except BillingError:
        rate_card = None
    context = {
        "groups": ServiceGroup.objects.prefetch_related(
            Prefetch("items", queryset=ServiceItem.objects.filter(active=True))
        ),
        "tiers": ServiceTier.objects.prefetch_related("response_targets", "arrival_commitments"),
        "rate_card": rate_card,
        "person_day_rates": rate_card.persondayrates.all() if rate_card else [],
        "unit_prices": rate_card.unitprices.select_related("service") if rate_card else [],
        "data_volume_prices": (
            DataVolumePrice.objects.filter(rate_card=rate_card)
            .select_related("service")
            .prefetch_related("tiers")
            if rate_card
            else []
        ),
        "travel_policy": getattr(rate_card, "travel_policy", None) if rate_card else None,
        "holidays": HolidayScheduleDay.objects.filter(date__year=today.year),
        "year": today.year,
        "year_published": today.year in published_holiday_years(),
    }
    return render(request, "catalog/catalogue.html", context)
