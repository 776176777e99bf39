import pytest
from django.urls import reverse

from contracts import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data(catalogue):
    demo.load()


def test_the_entitlement_lookup_shows_the_decision_of_the_api(admin_client, demo_data):
    url = reverse("contracts:entitlement-lookup")
    lapsed = admin_client.get(url, {"customer": "DEMO-LAPSED", "service": "hotline", "quantity": 1})
    assert 'data-outcome="not_covered"' in lapsed.content.decode()
    active = admin_client.get(
        url, {"customer": "DEMO-ACTIVE", "service": "defect-fix", "severity": "1", "quantity": 1}
    ).content.decode()
    assert 'data-outcome="included"' in active
    assert 'id="respond-by"' in active


def test_the_lookup_form_reports_bad_input(admin_client, demo_data):
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"), {"customer": "NOPE", "service": "hotline"}
    )
    assert page.status_code == 200
    assert "data-outcome" not in page.content.decode()
    assert "errorlist" in page.content.decode()
