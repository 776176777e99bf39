"""The statement of account's staff page, PDF and e-mail: finance and the customer's own account manager
see it, another account manager does not; the PDF carries the totals; the e-mail goes to the billing
contacts with the PDF."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from billing.errors import BillingError
from billing.roles import sync_roles
from contracts.models import Contact
from invoices.statements import statement_pdf, statement_send
from tests.invoices.conftest import D, cny, usd

pytestmark = pytest.mark.django_db
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def staff(django_user_model, two_currencies):
    sync_roles()

    def user(name: str, role: str):
        person = django_user_model.objects.create_user(username=name, password="x", is_staff=True)
        person.groups.set(Group.objects.filter(name=role))
        return person

    customer = two_currencies[0]
    users = {
        "finance": user("finance", "finance"),
        "manager": user("manager", "account_manager"),
        "other_manager": user("other", "account_manager"),
        "sales": user("sales", "sales"),
    }
    customer.account_manager = users["manager"]
    customer.save()
    return users


def statement_url(customer, name="invoices:statement"):
    return reverse(name, args=[customer.code])


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_finance_sees_the_statement_of_any_customer_per_currency(client, staff, two_currencies):
    customer, *_rest = two_currencies
    client.force_login(staff["finance"])
    response = client.get(statement_url(customer), YEAR)
    assert response.status_code == 200
    cny_statement, usd_statement = response.context["statements"]
    assert (cny_statement.closing, usd_statement.closing) == (cny("6500.10"), usd("1000.00"))
    assert response.context["start"] == D(2026, 1, 1)
    assert reverse("invoices:invoice", args=[two_currencies[1].pk]) in response.content.decode()


def test_the_account_manager_sees_the_statement_of_his_own_customer(client, staff, two_currencies):
    customer, cny_invoice, *_rest = two_currencies
    client.force_login(staff["manager"])
    response = client.get(statement_url(customer), YEAR)
    assert response.status_code == 200
    # he sees the invoice numbers, not links to finance's invoice pages that would refuse him
    assert cny_invoice.number in response.content.decode()
    assert reverse("invoices:invoice", args=[cny_invoice.pk]) not in response.content.decode()
    page = client.get(reverse("invoices:customer", args=[customer.code])).content.decode()
    assert statement_url(customer) in page


def test_another_account_manager_is_refused_the_statement(client, staff, two_currencies):
    customer, *_rest = two_currencies
    client.force_login(staff["other_manager"])
    assert client.get(statement_url(customer), YEAR).status_code == 403
    assert client.get(statement_url(customer, "invoices:statement-pdf"), YEAR).status_code == 403
    assert client.post(statement_url(customer, "invoices:statement-send"), YEAR).status_code == 403
    assert mail.outbox == []
    page = client.get(reverse("invoices:customer", args=[customer.code])).content.decode()
    assert statement_url(customer) not in page


def test_sales_and_anonymous_visitors_are_refused_the_statement(client, staff, two_currencies):
    customer, *_rest = two_currencies
    client.force_login(staff["sales"])
    assert client.get(statement_url(customer), YEAR).status_code == 403
    client.logout()
    assert client.get(statement_url(customer), YEAR).status_code == 302


def customer_page(client, user, customer):
    client.force_login(user)
    response = client.get(reverse("invoices:customer", args=[customer.code]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_sales_does_not_see_invoices_on_the_customer_page(client, staff, two_currencies):
    customer, cny_invoice, usd_invoice, march, note = two_currencies
    page = customer_page(client, staff["sales"], customer)
    for document in (cny_invoice, usd_invoice, march, note):
        assert document.number not in page
    assert "Invoices" not in page
    assert "open " not in page  # no open balance either


def test_another_account_manager_does_not_see_invoices_on_the_customer_page(client, staff, two_currencies):
    customer, cny_invoice, *_rest = two_currencies
    page = customer_page(client, staff["other_manager"], customer)
    assert cny_invoice.number not in page


def test_finance_and_the_own_account_manager_see_invoices_with_open_balances(client, staff, two_currencies):
    customer, cny_invoice, usd_invoice, *_rest = two_currencies
    for user in (staff["finance"], staff["manager"]):
        page = customer_page(client, user, customer)
        assert cny_invoice.number in page
        assert usd_invoice.number in page
        assert "open " in page


def test_the_statement_page_refuses_from_after_to(client, staff, two_currencies):
    customer, *_rest = two_currencies
    client.force_login(staff["finance"])
    response = client.get(
        statement_url(customer), {"from": "2026-12-31", "to": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.context["statements"] == []
    assert "after its end" in response.context["error"]
    pdf = client.get(
        statement_url(customer, "invoices:statement-pdf"), {"from": "2026-1-1", "to": "2026-12-31"}
    )
    assert pdf.status_code == 400
    assert pdf["Content-Type"].startswith("text/html")


def test_the_statement_pdf_carries_the_totals_of_each_currency(client, staff, two_currencies):
    customer, *_rest = two_currencies
    client.force_login(staff["finance"])
    response = client.get(statement_url(customer, "invoices:statement-pdf"), YEAR)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Closing balance (CNY)" in text
    assert "Closing balance (USD)" in text
    assert "6500.10" in text
    assert "1000.00" in text
    assert "12000.10" in text  # invoiced in CNY
    assert "-2500.00" in text  # credited
    assert "-234.56" in text  # paid in USD


def test_the_statement_pdf_gives_a_yuan_closing_balance_in_capitals(two_currencies):
    customer, *_rest = two_currencies
    text = pdf_text(statement_pdf(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31)))
    assert "陆仟伍佰元壹角" in text


def test_the_statement_e_mail_goes_to_the_primary_contact_with_the_pdf(client, staff, two_currencies):
    customer, *_rest = two_currencies
    Contact.objects.create(customer=customer, name="李会计", email="li@two.example.com", is_primary=True)
    Contact.objects.create(customer=customer, name="张工", email="zhang@two.example.com")
    client.force_login(staff["manager"])
    response = client.post(statement_url(customer, "invoices:statement-send"), YEAR)
    assert response.status_code == 302
    assert response["Location"].startswith(statement_url(customer))
    [message] = mail.outbox
    assert message.to == ["li@two.example.com"]
    assert customer.legal_name in message.subject
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("statement-TWO-20260101-20261231.pdf", "application/pdf")
    assert "6500.10" in pdf_text(content)


def test_a_statement_with_no_primary_contact_is_not_sent(client, staff, two_currencies):
    customer, *_rest = two_currencies
    Contact.objects.create(customer=customer, name="张工", email="zhang@two.example.com")
    client.force_login(staff["finance"])
    response = client.post(
        statement_url(customer, "invoices:statement-send"), YEAR, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert mail.outbox == []
    assert "no primary contact" in response.content.decode()


def test_the_statement_service_sends_to_every_primary_contact_and_names_them(two_currencies):
    customer, *_rest = two_currencies
    Contact.objects.create(customer=customer, name="李会计", email="li@two.example.com", is_primary=True)
    Contact.objects.create(customer=customer, name="王经理", email="wang@two.example.com", is_primary=True)
    Contact.objects.create(customer=customer, name="赵总", email="", is_primary=True)
    sent_to = statement_send(customer=customer, start=D(2026, 1, 1), end=D(2026, 6, 30))
    assert sorted(sent_to) == ["li@two.example.com", "wang@two.example.com"]
    [message] = mail.outbox
    assert sorted(message.to) == sorted(sent_to)
    assert message.attachments[0][0] == "statement-TWO-20260101-20260630.pdf"


def test_the_statement_service_refuses_bad_dates_and_sends_nothing(two_currencies):
    customer, *_rest = two_currencies
    Contact.objects.create(customer=customer, name="李会计", email="li@two.example.com", is_primary=True)
    with pytest.raises(BillingError) as refused:
        statement_send(customer=customer, start=D(2026, 7, 1), end=D(2026, 6, 30))
    assert refused.value.code == "invalid_statement_period"
    assert mail.outbox == []
