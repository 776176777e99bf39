"""Tax classification codes on the catalogue's services (leaf codes only, 19 digits), VAT rates per kind of
taxpayer, and their admin."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse

from catalog.models import ServiceItem, TaxCategory, TaxCode, validate_tax_code
from catalog.selectors import vat_rate_on

D = datetime.date
pytestmark = pytest.mark.django_db


def test_a_seeded_catalogue_has_a_leaf_tax_code_and_a_fapiao_name_on_every_service(catalogue):
    leaves = set(TaxCode.objects.filter(leaf=True).values_list("code", flat=True))
    services = list(ServiceItem.objects.all())
    assert services
    for service in services:
        assert service.tax_code in leaves, service.code
        assert service.fapiao_name, service.code
        service.full_clean()  # the validators agree
    assert ServiceItem.objects.get(code="custom-development").tax_code == "3040201010000000000"
    assert ServiceItem.objects.get(code="kms-course").fapiao_name == "培训费"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("304020103000000000", "tax_code_digits"),  # 18 digits
        ("30402010300000000000", "tax_code_digits"),  # 20
        ("304020103000000000X", "tax_code_digits"),
        ("３０４０２０１０３００００００００００", "tax_code_digits"),  # full-width digits
        ("3040201000000000000", "tax_code_parent"),  # 软件服务, a parent
    ],
)
def test_a_code_is_19_digits_and_never_a_parent(catalogue, code, error):
    with pytest.raises(ValidationError) as refused:
        validate_tax_code(code)
    assert refused.value.code == error


def test_a_leaf_code_the_catalogue_does_not_know_yet_is_taken(catalogue):
    validate_tax_code("3040201030000000000")
    validate_tax_code("3049999990000000000")


def test_the_vendors_kind_of_taxpayer_sets_the_rates(catalogue, settings):
    assert vat_rate_on(category_code=TaxCategory.SERVICES, on=D(2026, 3, 1)) == Decimal("0.06")
    assert vat_rate_on(category_code=TaxCategory.SOFTWARE, on=D(2026, 3, 1)) == Decimal("0.13")
    settings.VENDOR_TAXPAYER_KIND = "small_scale"
    assert vat_rate_on(category_code=TaxCategory.SERVICES, on=D(2026, 3, 1)) == Decimal("0.01")
    assert vat_rate_on(category_code=TaxCategory.SOFTWARE, on=D(2026, 3, 1)) == Decimal("0.01")
    assert vat_rate_on(category_code=TaxCategory.SERVICES, on=D(2028, 1, 1)) == Decimal("0.03")


def _service_form(service: ServiceItem, **changes) -> dict:
    data = {key: ("" if value is None else value) for key, value in model_to_dict(service).items()}
    return {**data, **changes}


def test_the_admin_edits_a_services_code_and_name_and_refuses_a_bad_code(admin_client, catalogue):
    service = ServiceItem.objects.get(code="health-check")
    url = reverse("admin:catalog_serviceitem_change", args=[service.pk])
    assert "3040201030000000000" in admin_client.get(url).content.decode()
    for bad, code in (("304020103", "tax_code_digits"), ("3040201000000000000", "tax_code_parent")):
        response = admin_client.post(url, _service_form(service, tax_code=bad))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert [error.code for error in errors.as_data()["tax_code"]] == [code]
        assert str(errors["tax_code"][0]) in response.content.decode()  # shown on the page
        service.refresh_from_db()
        assert service.tax_code == "3040201030000000000"
    response = admin_client.post(
        url, _service_form(service, tax_code="3040203000000000000", fapiao_name="信息系统服务费")
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.tax_code, service.fapiao_name) == ("3040203000000000000", "信息系统服务费")


def test_the_admin_lists_tax_codes_services_codes_and_rates_by_kind(admin_client, catalogue):
    codes = admin_client.get(reverse("admin:catalog_taxcode_changelist") + "?leaf__exact=0").content.decode()
    assert "3040201000000000000" in codes
    assert "3040201030000000000" not in codes
    services = admin_client.get(reverse("admin:catalog_serviceitem_changelist")).content.decode()
    assert "软件开发服务费" in services
    rates = admin_client.get(reverse("admin:catalog_vatrate_changelist")).content.decode()
    assert "小规模纳税人" in rates  # the label names the kind in Chinese in both languages
