"""Who may approve a charge request lives in contracts.services (charge_request_can_approve, from the same
checks charge_request_approve raises on): the charge-requests page lists a request as waiting for a user
exactly when the service would accept that user's approval."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from djmoney.money import Money

from contracts.models import ChargeRequest
from contracts.services import charge_request_approve, charge_request_can_approve, charge_request_create
from tests.demo_roles import load_demo, log_in, service_accepts

pytestmark = pytest.mark.django_db


def approval_accepted(request: ChargeRequest, user) -> bool:
    """Whether charge_request_approve accepts ``user``'s approval; nothing it did is kept."""
    return service_accepts(lambda: charge_request_approve(request=request, by=user))


@pytest.fixture
def cases(catalogue, django_user_model):
    """Users of every role, a second account manager and a superuser; requests waiting for a first
    approval (one raised by the account manager himself) and for finance (one approved by the superuser)."""
    users = load_demo(django_user_model)
    other_manager = django_user_model.objects.create_user(username="am2", is_staff=True)
    other_manager.groups.set(Group.objects.filter(name="account_manager"))
    users["other_manager"] = django_user_model.objects.get(pk=other_manager.pk)
    users["boss"] = django_user_model.objects.create_superuser(username="boss")
    customer = users["account_manager"].managed_customers.get(code="DEMO-ACTIVE")

    def raise_request(ticket, amount, **extra):
        return charge_request_create(
            customer=customer,
            ticket_ref=ticket,
            description="报表",
            requested_by="api:test",
            estimated_amount=Money(amount, "CNY"),
            **extra,
        )

    small = raise_request("TK-1", 3000)
    own = raise_request("TK-2", 3000, requested_by_user=users["account_manager"])
    large = charge_request_approve(request=raise_request("TK-3", 50000), by=users["account_manager"])
    large_by_boss = charge_request_approve(request=raise_request("TK-4", 50000), by=users["boss"])
    return users, [small, own, large, large_by_boss]


def test_the_charge_requests_page_lists_a_request_for_a_user_exactly_when_the_service_would_accept(
    client, cases
):
    users, requests = cases
    shown_somewhere = set()
    for name, user in users.items():
        page = log_in(client, user).get(reverse("contracts:charge-requests"))
        if page.status_code != 200:
            assert not any(approval_accepted(request, user) for request in requests), name
            continue
        content = page.content.decode()
        for request in requests:
            request.refresh_from_db()
            shown = f'id="charge-{request.pk}"' in content
            assert shown == charge_request_can_approve(request, user) == approval_accepted(request, user), (
                name,
                request.ticket_ref,
            )
            if shown:
                shown_somewhere.add((name, request.ticket_ref))
    # the account manager approves his customer's request, not his own, and the other manager none;
    # finance the large ones; the administrator role (holding every permission, not limited to his own
    # customers) and the superuser any first approval, but not the second of the one they gave the first
    assert shown_somewhere == {
        ("account_manager", "TK-1"),
        ("administrator", "TK-1"),
        ("administrator", "TK-2"),
        ("administrator", "TK-3"),
        ("administrator", "TK-4"),
        ("boss", "TK-1"),
        ("boss", "TK-2"),
        ("boss", "TK-3"),
        ("finance", "TK-3"),
        ("finance", "TK-4"),
    }
