"""Pages for customers, reached through signed links without a login."""

from django.views.decorators.http import require_http_methods

from billing.signed_answer import answer_page
from contracts.services import CUSTOMER_ANSWER, charge_request_customer_answer, charge_request_price


@require_http_methods(["GET", "POST"])
def charge_request_answer(request, token: str):
    """The customer confirms or declines an out-of-scope charge (or reopens a closed one)."""
    return answer_page(
        request,
        token,
        link=CUSTOMER_ANSWER,
        template="contracts/charge_request_answer.html",
        answer=lambda document, **answer: charge_request_customer_answer(request=document, **answer),
        context=lambda charge: {"charge": charge, "price": charge_request_price(charge)},
    )
