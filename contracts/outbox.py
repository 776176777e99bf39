"""The contract events (events.types): service periods, quotas and charge requests, recorded by the
contract services inside their own transaction (events.services.event_record), each with the object as
the API shows it under ``object`` and its own facts beside it. Events a periodic check may find again carry
a key, so that each is recorded once."""

import datetime
from decimal import Decimal

from contracts.models import ChargeRequest, Customer, PersonDayBundle, QuotaKind, ServicePeriod
from contracts.quotas import Quota, quota_low_threshold
from contracts.selectors import periods_shown
from contracts.serializers import ChargeRequestSerializer, QuotaEventSerializer, ServicePeriodEventSerializer
from events.models import Event
from events.services import event_record


def keys_recorded(keys: list[str]) -> set[str]:
    """Which of ``keys`` an event was recorded under (one query): a periodic check skips them before it
    loads what an event would show."""
    return set(Event.objects.filter(key__in=keys).values_list("key", flat=True))


def period_shown(period: ServicePeriod, *, today: datetime.date) -> tuple[str, dict]:
    """The customer code and the period as its events show it (two queries)."""
    shown = periods_shown(ServicePeriod.objects.filter(pk=period.pk), today=today)[0]
    return shown.contract.customer.code, ServicePeriodEventSerializer(shown).data


def period_event_record(
    event_type: str, period: ServicePeriod, *, today: datetime.date, key: str | None = None, **extras
) -> Event | None:
    customer_code, shown = period_shown(period, today=today)
    return event_record(event_type, customer_code=customer_code, data={"object": shown, **extras}, key=key)


def period_started_key(period: ServicePeriod) -> str:
    return f"service_period.started:{period.pk}"


def quota_events_record(
    *,
    customer: Customer,
    quota: Quota,
    drawn: Decimal,
    period: ServicePeriod | None = None,
    day: datetime.date | None = None,
) -> Event | None:
    """After a use that drew ``drawn`` from ``quota`` (read after it: the trainings of ``period``, or the
    person-days of the bundles valid on ``day``): quota.exhausted when the use left
    nothing, quota.low when it brought what is left down to the threshold
    (contracts.quotas.quota_low_threshold). Each once per quota and contract year (for person-days: per
    set of bundles valid on the day, so a new bundle is a new quota); a use that crosses neither line
    records nothing, so events purged after their retention are not recorded again."""
    threshold = quota_low_threshold(quota)
    before = quota.left + drawn
    if quota.left <= 0 < before:
        event_type = "quota.exhausted"
    elif quota.left <= threshold < before:
        event_type = "quota.low"
    else:
        return None
    bundles = []
    if quota.kind == QuotaKind.TRAINING:
        identity = f"{QuotaKind.TRAINING}:{period.pk}:{quota.valid_from}"
    else:
        bundles = list(
            PersonDayBundle.objects.filter(
                contract__customer=customer, valid_from__lte=day, valid_until__gte=day
            )
            .select_related("contract")
            .order_by("pk")
        )
        identity = f"{QuotaKind.PERSON_DAYS}:{customer.pk}:{'-'.join(str(b.pk) for b in bundles)}"
    key = f"{event_type}:{identity}"
    if keys_recorded([key]):
        return None
    shown = QuotaEventSerializer(
        {
            "customer": customer.code,
            "unit": "training" if quota.kind == QuotaKind.TRAINING else "person_day",
            "kind": quota.kind,
            "allowance": quota.allowance,
            "used": quota.used,
            "left": quota.left,
            "valid_from": quota.valid_from,
            "valid_until": quota.valid_until,
            "period": period.pk if period else None,
            "bundles": [b.pk for b in bundles],
            "contracts": sorted({period.contract.number} if period else {b.contract.number for b in bundles}),
        }
    ).data
    extras = {"threshold": f"{threshold:.2f}"} if event_type == "quota.low" else {}
    return event_record(event_type, customer_code=customer.code, data={"object": shown, **extras}, key=key)


def charge_request_event_record(event_type: str, request: ChargeRequest, **extras) -> Event:
    """The request as the API shows it, read again with its history (two queries)."""
    shown = (
        ChargeRequest.objects.select_related("customer", "contract")
        .prefetch_related("events")
        .get(pk=request.pk)
    )
    return event_record(
        event_type,
        customer_code=shown.customer.code,
        data={"object": ChargeRequestSerializer(shown).data, **extras},
    )
