"""The account managers' lists (workspace.contract_lists): charge requests, contracts, service periods."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from djmoney.money import Money

from billing.roles import sync_roles
from catalog.models import Product, ServiceTier
from contracts.models import ChargeRequest, ChargeStatus
from contracts.services import charge_request_create
from tests.factories import ContractFactory, LicensedProductFactory, ServicePeriodFactory
from tests.workspace.conftest import (
    ListCase,
    check_export,
    check_paging,
    check_query_count,
    check_search,
    check_sort_by_customer,
    customer,
)
from tests.workspace.lists_helpers import listed
from workspace.contract_lists import ChargeRequestList, ContractList, PeriodList

pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


def charge_request(customer, i, **fields):
    fields.setdefault("estimated_person_days", Decimal(1))
    return charge_request_create(
        customer=customer,
        ticket_ref=fields.pop("ticket_ref", f"TK-{customer.code}-{i}"),
        description=fields.pop("description", f"报表定制 {i}"),
        requested_by="api:test",
        **fields,
    )


def contract(customer, i, **fields):
    made = ContractFactory(customer=customer, number=f"HT-{customer.code}-{i}", **fields)
    LicensedProductFactory(contract=made)
    return made


def period(customer, i, **fields):
    made = ServicePeriodFactory(contract=contract(customer, i), **fields)
    return made


CASES = {
    "charge requests": ListCase(
        "contracts:charge-requests",
        ChargeRequestList,
        charge_request,
        number=lambda charge: charge.ticket_ref,
        code=lambda charge: charge.customer.code,
        params={"tab": "all"},
    ),
    "contracts": ListCase(
        "contracts:contracts",
        ContractList,
        contract,
        number=lambda contract: contract.number,
        code=lambda contract: contract.customer.code,
    ),
    "periods": ListCase(
        "contracts:periods",
        PeriodList,
        period,
        number=lambda period: period.contract.number,
        code=lambda period: period.contract.customer.code,
    ),
}


@pytest.fixture(params=list(CASES))
def case(request, catalogue):
    return CASES[request.param]


def test_search_finds_a_row_by_customer_code_and_by_document_number(staff_client, case):
    check_search(staff_client, case)


def test_sorting_by_customer_orders_the_rows_both_ways(staff_client, case):
    check_sort_by_customer(staff_client, case)


def test_paging_shows_the_total_and_the_second_page(staff_client, case, monkeypatch):
    check_paging(staff_client, case, monkeypatch)


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_the_export_holds_exactly_the_filtered_rows_of_every_page_formula_safe(
    staff_client, case, monkeypatch, managers, format
):
    check_export(staff_client, case, monkeypatch, managers, format)


def test_a_page_costs_as_many_queries_for_thirty_rows_as_for_three(
    staff_client, case, managers, django_assert_max_num_queries
):
    check_query_count(staff_client, case, managers, django_assert_max_num_queries)


# Charge requests


def test_charge_request_filters_narrow_by_status_date_and_account_manager(staff_client, catalogue, managers):
    mine, theirs = customer(account_manager=managers[0]), customer(account_manager=managers[1])
    charge_request(mine, 1, ticket_ref="TK-WAITING")
    old = charge_request(mine, 2, ticket_ref="TK-OLD")
    ChargeRequest.objects.filter(pk=old.pk).update(
        status=ChargeStatus.REJECTED, created_at=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    )
    charge_request(theirs, 3, ticket_ref="TK-THEIRS", description="数据迁移")
    url = reverse("contracts:charge-requests")

    def tickets(**params):
        return {charge.ticket_ref for charge in listed(staff_client.get(url, {"tab": "all", **params}))}

    assert tickets() == {"TK-WAITING", "TK-OLD", "TK-THEIRS"}
    assert tickets(status=ChargeStatus.REJECTED) == {"TK-OLD"}
    assert tickets(raised_after="2026-01-01") == {"TK-WAITING", "TK-THEIRS"}
    assert tickets(raised_before="2025-12-31") == {"TK-OLD"}
    assert tickets(account_manager=managers[1].pk) == {"TK-THEIRS"}
    assert tickets(q="数据迁移") == {"TK-THEIRS"}
    assert tickets(tab="open") == {"TK-WAITING", "TK-THEIRS"}


def test_a_charge_request_row_has_the_decision_form_for_its_approver_and_the_refusal_for_others(
    client, catalogue, django_user_model
):
    sync_roles()
    group = Group.objects.get(name="account_manager")
    own, other = (
        django_user_model.objects.create_user(username=name, is_staff=True) for name in ("own", "other")
    )
    for user in (own, other):
        user.groups.set([group])
    charge = charge_request(customer(account_manager=own), 1, estimated_amount=Money(3000, "CNY"))
    url = reverse("contracts:charge-requests")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    client.force_login(other)
    page = client.get(url, {"tab": "all"}).content.decode()
    assert f'id="charge-{charge.pk}"' not in page
    assert "is managed by another account manager" in page
    assert not listed(client.get(url))  # nothing waits for him

    client.force_login(own)
    page = client.get(url).content.decode()
    assert f'id="charge-{charge.pk}"' in page
    decide = reverse("contracts:charge-request-decide", args=[charge.pk])
    assert f'action="{decide}"' in page
    back = f"{url}?tab=all&q={charge.customer.code}"
    answer = client.post(decide, {"decision": "reject", "note": "不收费", "next": back})
    assert answer["Location"] == back
    assert ChargeRequest.objects.get(pk=charge.pk).status == ChargeStatus.REJECTED
    elsewhere = client.post(decide, {"decision": "reject", "next": "https://evil.example/"})
    assert elsewhere["Location"] == url


# Contracts


def test_contract_filters_narrow_by_kind_date_product_and_account_manager(staff_client, catalogue, managers):
    kms = Product.objects.get(code="KMS")
    eis = Product.objects.exclude(pk=kms.pk).first()
    mine = customer(account_manager=managers[0])
    purchase = contract(mine, 1, signed_on=datetime.date(2024, 5, 1))
    renewal = ContractFactory(
        customer=mine,
        number="HT-RENEWAL",
        kind="renewal",
        continues=purchase,
        signed_on=datetime.date(2026, 5, 1),
    )
    other = ContractFactory(customer=customer(account_manager=managers[1]), number="HT-OTHER")
    LicensedProductFactory(contract=other, product=eis)
    url = reverse("contracts:contracts")

    def numbers(**params):
        return {c.number for c in listed(staff_client.get(url, params))}

    assert numbers(kind="renewal") == {"HT-RENEWAL"}
    assert numbers(signed_after="2026-01-01") == {"HT-RENEWAL"}
    assert numbers(signed_before="2024-12-31") == {purchase.number}
    # a renewal contract covers the products of the contract it continues
    assert numbers(product=kms.pk) == {purchase.number, "HT-RENEWAL"}
    assert numbers(product=eis.pk) == {"HT-OTHER"}
    assert numbers(account_manager=managers[1].pk) == {"HT-OTHER"}
    page = staff_client.get(url, {"q": "HT-RENEWAL"}).content.decode()
    assert "KMS 8.5.2" in page
    assert renewal.continues == purchase


def test_contracts_sort_by_signing_date(staff_client, catalogue):
    for i, day in enumerate(
        [datetime.date(2025, 3, 1), datetime.date(2023, 1, 1), datetime.date(2026, 7, 1)]
    ):
        contract(customer(), i, signed_on=day)
    url = reverse("contracts:contracts")
    signed = [c.signed_on for c in listed(staff_client.get(url, {"sort": "signed_on"}))]
    assert len(signed) == 3
    assert signed == sorted(signed)


# Service periods


@pytest.fixture
def periods(catalogue, managers):
    """As of 2026-12-01: an active paid period, a lapsed free one, a free one renewed by a paid one that
    starts the day after, and an upcoming one; each on its own customer but the last two."""
    premium = ServiceTier.objects.exclude(code="standard").order_by("position").first()
    active = period(customer(account_manager=managers[0]), 1, end=datetime.date(2027, 3, 31), tier=premium)
    lapsed = period(
        customer(account_manager=managers[1]),
        2,
        kind="free",
        fee=0,
        start=datetime.date(2025, 1, 1),
        end=datetime.date(2025, 12, 31),
    )
    renewed_customer = customer()
    renewed = period(
        renewed_customer,
        3,
        kind="free",
        fee=0,
        start=datetime.date(2024, 1, 1),
        end=datetime.date(2024, 12, 31),
    )
    upcoming = ServicePeriodFactory(
        contract=renewed.contract, start=datetime.date(2025, 1, 1), end=datetime.date(2026, 11, 30)
    )
    later = period(renewed_customer, 4, start=datetime.date(2026, 12, 2), end=datetime.date(2027, 12, 1))
    return {"active": active, "lapsed": lapsed, "renewed": renewed, "ended": upcoming, "upcoming": later}


def test_period_filters_narrow_by_state_kind_tier_end_and_account_manager(staff_client, periods, managers):
    url = reverse("contracts:periods")
    names = {p.pk: name for name, p in periods.items()}

    def shown(**params):
        return {names[p.pk] for p in listed(staff_client.get(url, params))}

    assert shown(state="active") == {"active"}
    assert shown(state="lapsed") == {"lapsed", "ended"}  # "ended" stops the day before "upcoming" starts
    assert shown(state="renewed") == {"renewed"}
    assert shown(state="upcoming") == {"upcoming"}
    assert shown(kind="free") == {"lapsed", "renewed"}
    assert shown(tier=periods["active"].tier.pk) == {"active"}
    assert shown(ends_after="2026-12-01", ends_before="2027-06-30") == {"active"}
    assert shown(account_manager=managers[1].pk) == {"lapsed"}
    assert shown(product=Product.objects.get(code="KMS").pk) == set(names.values())
    assert shown(product=Product.objects.exclude(code="KMS").first().pk) == set()


def test_periods_sort_by_their_end(staff_client, periods):
    url = reverse("contracts:periods")
    ends = [p.end for p in listed(staff_client.get(url, {"sort": "-end"}))]
    assert len(ends) == 5
    assert ends == sorted(ends, reverse=True)
    page = staff_client.get(url).content.decode()
    assert "period status-lapsed" in page
    assert "period status-active" in page
