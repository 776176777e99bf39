"""Every event type the system records: its stable name, its payload version and what it means.

A type's name never changes; a payload that changes shape gets a new version. The README lists them with
an example payload each; `event_record` refuses a type that is not here.
"""

from django.utils.translation import gettext_lazy as _

EVENT_TYPES = {
    "service_period.started": (1, _("A service period started: the customer is covered for its products.")),
    "service_period.ending": (1, _("A service period ends soon (one event per renewal reminder step).")),
    "service_period.renewed": (1, _("A paid renewal period follows the one in force.")),
    "service_period.lapsed": (1, _("A service period ended with no renewal: nothing is promised after it.")),
    "quota.low": (1, _("A quota (trainings, prepaid person-days) is down to its low threshold.")),
    "quota.exhausted": (1, _("A quota is used up.")),
    "charge_request.approved": (1, _("Out-of-scope work was approved by the account manager.")),
    "charge_request.rejected": (1, _("Out-of-scope work was refused by the account manager or finance.")),
    "charge_request.confirmed": (1, _("The customer confirmed a charge request.")),
    "charge_request.declined": (1, _("The customer declined a charge request.")),
    "charge_request.closed": (1, _("A charge request was closed (its work done, or by the closing rule).")),
    "charge_request.reopened": (1, _("A closed charge request was reopened.")),
    "quote.sent": (1, _("A quote was sent to the customer.")),
    "quote.accepted": (1, _("The customer accepted a quote.")),
    "quote.declined": (1, _("The customer declined a quote.")),
    "quote.expired": (1, _("A sent quote was closed unanswered by the closing rule.")),
    "service_order.closed": (1, _("A service order was closed: its work delivered, what is left released.")),
    "invoice.issued": (1, _("An invoice was issued (its number is final).")),
    "invoice.paid": (1, _("An invoice is paid in full.")),
    "invoice.overdue": (1, _("An invoice passed its due date unpaid.")),
    "credit_note.issued": (1, _("A credit note was issued against an invoice.")),
    "payment.recorded": (1, _("A payment was recorded.")),
}


def event_type_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in EVENT_TYPES]
