"""The home page and the catalogue page, in zh-hans and en."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_home_page_says_what_the_product_is_in_chinese_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert '<html lang="zh-hans">' in text
    assert "售后服务合同与计费" in text
    assert reverse("admin:index") in text
    assert reverse("catalog:catalogue") in text


def test_the_home_page_speaks_english_when_asked(client):
    page = client.get("/", headers={"accept-language": "en"})
    text = page.content.decode()
    assert '<html lang="en">' in text
    assert "After-sales contracts and billing" in text
    assert "person-days" in text


def test_the_language_switch_remembers_the_choice(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "After-sales contracts and billing" in client.get("/").content.decode()


def test_the_catalogue_needs_a_login(client):
    response = client.get(reverse("catalog:catalogue"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_catalogue_page_shows_services_tiers_prices_and_holidays(admin_client, catalogue):
    page = admin_client.get(reverse("catalog:catalogue"))
    assert page.status_code == 200
    text = page.content.decode()
    for code in ("hotline", "custom-development", "data-migration", "on-site-service"):
        assert f'id="service-{code}"' in text
    assert "专业健康诊断" in text
    assert "免费送AGP一年使用许可" in text
    assert "战略合作服务" in text
    assert "¥4,500.00" in text  # architect on site
    assert "春节" in text or "元旦" in text


def test_the_catalogue_page_in_english(admin_client, catalogue):
    page = admin_client.get(reverse("catalog:catalogue"), headers={"accept-language": "en"})
    text = page.content.decode()
    assert "Professional health diagnosis" in text
    assert "Strategic partnership" in text
    assert "Level 1: system down" in text
    assert "CN¥4,500.00" in text
