"""An example ``data`` for every event type (events.types.EVENT_TYPES), and the README's list of event types
made from them: ``python -m events.examples`` writes it between the README's markers;
tests/events/test_readme.py fails when a type has no example or the README is not the generated text.

Each ``object`` is the object as the API shows it (money as {"amount": "1.00", "currency": "CNY"}); beside
it, the event's own facts. Lists inside an object are cut to one item here.
"""

import copy
import json
import os
from pathlib import Path

from django.utils import translation

from events.types import EVENT_TYPES

MONEY = {"amount": "30000.00", "currency": "CNY"}

PERIOD = {
    "id": 12,
    "contract": "HT-2025-001",
    "kind": "paid",
    "start": "2026-01-01",
    "end": "2026-12-31",
    "tier": "standard",
    "calendar": "5x8",
    "customer": "DEMO-ACTIVE",
    "products": [{"product": "KMS", "version": "8.2.0"}],
    "fee": MONEY,
    "trainings_per_year": 2,
    "retroactive": False,
    "status": "active",
    "lapsed_at": None,
}

QUOTA = {
    "kind": "training",
    "allowance": "2.00",
    "used": "1.00",
    "left": "1.00",
    "valid_from": "2026-01-01",
    "valid_until": "2026-12-31",
    "customer": "DEMO-ACTIVE",
    "unit": "training",
    "period": 12,
    "bundles": [],
    "contracts": ["HT-2025-001"],
}

CHARGE_REQUEST = {
    "id": 31,
    "customer": "DEMO-ACTIVE",
    "contract": "HT-2025-001",
    "ticket": "TK-1002",
    "service": "custom-development",
    "description": "A new monthly report",
    "estimated_person_days": "2.00",
    "estimated_amount": {"amount": "6360.00", "currency": "CNY"},
    "status": "approved",
    "requested_by": "api:Zendesk",
    "sent_to_customer_at": "2026-11-30T10:05:00+08:00",
    "customer_answered_at": None,
    "closed_at": None,
    "created_at": "2026-11-30T09:40:00+08:00",
    "events": [
        {"status": "approved", "actor": "account_manager", "note": "", "at": "2026-11-30T10:05:00+08:00"}
    ],
}

QUOTE = {
    "id": 18,
    "number": "Q2026-00018",
    "revision": 1,
    "reference": "Q2026-00018",
    "kind": "standard",
    "customer": "DEMO-ACTIVE",
    "status": "sent",
    "currency": "CNY",
    "quote_date": "2026-11-30",
    "valid_until": "2026-12-30",
    "discount": "0.00000000",
    "net": {"amount": "9000.00", "currency": "CNY"},
    "vat": {"amount": "540.00", "currency": "CNY"},
    "travel": {"amount": "0.00", "currency": "CNY"},
    "gross": {"amount": "9540.00", "currency": "CNY"},
    "sent_at": "2026-11-30T11:00:00+08:00",
    "answered_at": None,
    "closed_at": None,
    "lines": [
        {
            "position": 1,
            "kind": "service",
            "service": "custom-development",
            "description": "Custom development",
            "quantity": "3.00",
            "unit": "person-day",
            "unit_price": {"amount": "3000.00", "currency": "CNY"},
            "list_amount": {"amount": "9000.00", "currency": "CNY"},
            "discount": "0.00000000",
            "vat_rate": "0.0600",
            "tax_inclusive": False,
            "net": {"amount": "9000.00", "currency": "CNY"},
            "vat": {"amount": "540.00", "currency": "CNY"},
            "gross": {"amount": "9540.00", "currency": "CNY"},
        }
    ],
}

ORDER = {
    "id": 9,
    "reference": "Q2026-00018",
    "customer": "DEMO-ACTIVE",
    "status": "closed",
    "currency": "CNY",
    "created_at": "2026-11-30T15:00:00+08:00",
    "closed_at": "2026-12-20T17:30:00+08:00",
    "close_reason": "Delivered",
    "lines": [
        {
            "id": 21,
            "description": "Custom development",
            "service": "custom-development",
            "invoicing_policy": "delivered",
            "unit": "person-day",
            "unit_price": "3000.00",
            "discount": "0.00000000",
            "vat_rate": "0.0600",
            "tax_inclusive": False,
            "quantity": "3.000",
            "amount": "9000.00",
        }
    ],
}

INVOICE = {
    "id": 7,
    "number": "INV2026-00007",
    "kind": "invoice",
    "status": "issued",
    "customer": "DEMO-ACTIVE",
    "issue_date": "2026-11-30",
    "due_date": "2026-12-30",
    "currency": "CNY",
    "net": {"amount": "30000.00", "currency": "CNY"},
    "vat": {"amount": "1800.00", "currency": "CNY"},
    "travel": {"amount": "0.00", "currency": "CNY"},
    "gross": {"amount": "31800.00", "currency": "CNY"},
    "balance": {"amount": "31800.00", "currency": "CNY"},
    "credits": None,
    "lines": [
        {
            "position": 1,
            "description": "Standard maintenance 2027",
            "quantity": "1.00",
            "unit": "year",
            "unit_price": MONEY,
            "vat_rate": "0.0600",
            "net": MONEY,
            "vat": {"amount": "1800.00", "currency": "CNY"},
            "gross": {"amount": "31800.00", "currency": "CNY"},
        }
    ],
}

CREDIT_NOTE = {
    "number": "INV2026-00008",
    "credits": "INV2026-00007",
    "customer": "DEMO-ACTIVE",
    "issue_date": "2026-12-02",
    "currency": "CNY",
    "reason": "Discount agreed after delivery",
    "gross": {"amount": "-1060.00", "currency": "CNY"},
    "red_letter": None,
    "lines": [
        {
            "position": 1,
            "credits_position": 1,
            "description": "Standard maintenance 2027",
            "quantity": "-1.00",
            "unit": "year",
            "unit_price": {"amount": "1000.00", "currency": "CNY"},
            "net": {"amount": "-1000.00", "currency": "CNY"},
            "vat": {"amount": "-60.00", "currency": "CNY"},
            "gross": {"amount": "-1060.00", "currency": "CNY"},
            "credited_quantity": "1.00",
        }
    ],
}

PAYMENT = {
    "id": 5,
    "customer": "DEMO-ACTIVE",
    "date": "2026-12-15",
    "amount": {"amount": "31800.00", "currency": "CNY"},
    "currency": "CNY",
    "reference": "ICBC 2026121500042",
    "allocations": [{"invoice": "INV2026-00007", "amount": {"amount": "31800.00", "currency": "CNY"}}],
}


def _with(base: dict, **changes) -> dict:
    return {**copy.deepcopy(base), **changes}


EXAMPLES: dict[str, dict] = {
    "service_period.started": {"object": PERIOD},
    "service_period.ending": {"object": PERIOD, "reminder_days": 30, "ends_on": "2026-12-31"},
    "service_period.renewed": {
        "object": _with(PERIOD, id=13, start="2027-01-01", end="2027-12-31", status="upcoming"),
        "renews": {"id": 12, "contract": "HT-2025-001", "end": "2026-12-31"},
    },
    "service_period.lapsed": {
        "object": _with(PERIOD, status="lapsed", lapsed_at="2027-01-01T00:05:00+08:00")
    },
    "quota.low": {"object": QUOTA, "threshold": "1.00"},
    "quota.exhausted": {"object": _with(QUOTA, used="2.00", left="0.00")},
    "charge_request.approved": {"object": CHARGE_REQUEST, "finance_approved": False},
    "charge_request.rejected": {"object": _with(CHARGE_REQUEST, status="rejected")},
    "charge_request.confirmed": {
        "object": _with(CHARGE_REQUEST, status="confirmed", customer_answered_at="2026-12-01T09:12:00+08:00")
    },
    "charge_request.declined": {
        "object": _with(CHARGE_REQUEST, status="declined", customer_answered_at="2026-12-01T09:12:00+08:00")
    },
    "charge_request.closed": {
        "object": _with(CHARGE_REQUEST, status="closed", closed_at="2026-12-31T02:00:00+08:00"),
        "closed_by": "closing_rule",
    },
    "charge_request.reopened": {"object": _with(CHARGE_REQUEST, status="sent")},
    "quote.sent": {"object": QUOTE},
    "quote.accepted": {
        "object": _with(QUOTE, status="accepted", answered_at="2026-12-01T16:20:00+08:00"),
        "previous_status": "sent",
        "order": 9,
    },
    "quote.declined": {
        "object": _with(QUOTE, status="declined", answered_at="2026-12-01T16:20:00+08:00"),
        "previous_status": "sent",
    },
    "quote.expired": {"object": _with(QUOTE, status="closed", closed_at="2026-12-31T02:00:00+08:00")},
    "service_order.closed": {"object": ORDER},
    "invoice.issued": {"object": INVOICE},
    "invoice.paid": {
        "object": _with(INVOICE, balance={"amount": "0.00", "currency": "CNY"}),
        "settled_by": {"kind": "payment", "id": 5, "reference": "B-2026-0107"},
    },
    "invoice.overdue": {"object": INVOICE, "days_overdue": 1},
    "credit_note.issued": {"object": CREDIT_NOTE, "invoice": INVOICE},
    "payment.recorded": {
        "object": PAYMENT,
        "invoice": _with(INVOICE, balance={"amount": "0.00", "currency": "CNY"}),
    },
}

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- event types: generated by `python -m events.examples`; do not edit by hand -->"
END = "<!-- end of event types -->"


def example_envelope(event_type: str) -> dict:
    """What a receiver gets for an event of this type (events.models.Event.envelope)."""
    return {
        "id": "evt_1042",
        "type": event_type,
        "version": EVENT_TYPES[event_type][0],
        "timestamp": "2026-12-01T10:00:00+08:00",
        "customer": "DEMO-ACTIVE",
        "data": EXAMPLES[event_type],
    }


def readme_section() -> str:
    """The README's list of event types: each with its version, what it means and an example payload."""
    parts = [BEGIN, ""]
    with translation.override("en"):
        meanings = {event_type: str(meaning) for event_type, (_version, meaning) in EVENT_TYPES.items()}
    for event_type, (version, _meaning) in EVENT_TYPES.items():
        meaning = meanings[event_type]
        parts += [
            f"<details><summary><code>{event_type}</code> (version {version}): {meaning}</summary>",
            "",
            "```json",
            json.dumps(example_envelope(event_type), indent=2, ensure_ascii=False),
            "```",
            "",
            "</details>",
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def readme_with_section(readme: str) -> str:
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + readme_section() + readme[end:]


if __name__ == "__main__":  # python -m events.examples: writes the section into the README
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing.settings")
    django.setup()
    README.write_text(readme_with_section(README.read_text()))
