"""Importing customers, contacts and contracts from CSV/XLSX (contracts.imports, the staff import page):
a preview lists every bad row with its number and why, nothing is written unless every row is good."""

import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.roles import sync_roles
from contracts.imports import COLUMNS
from contracts.models import Contact, Contract, Customer, PeriodKind
from contracts.setup import customer_create
from tests.demo_roles import messages_of
from tests.spreadsheet_files import handmade_xlsx

pytestmark = pytest.mark.django_db

USCC_A, USCC_B = "91110000MA0000001L", "91440000MA0000003B"
URL = "/staff/customers/import"


@pytest.fixture
def users(catalogue, django_user_model, settings, tmp_path):
    settings.IMPORT_TMP_DIR = str(tmp_path / "imports")
    sync_roles()
    users = {}
    for role in ("account_manager", "finance"):
        user = django_user_model.objects.create_user(username=role, is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = user
    return users


@pytest.fixture
def am_client(client, users):
    client.force_login(users["account_manager"])
    return client


def csv_file(rows, *, encoding="utf-8", name="file.csv") -> SimpleUploadedFile:
    text = "\r\n".join(",".join(row) for row in rows) + "\r\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


CUSTOMERS = [
    ["code", "legal_name", "uscc", "city", "region"],
    ["IMP-A", "甲软件有限公司", USCC_A, "北京", "北京市"],
    ["IMP-B", "乙软件有限公司", USCC_B, "广州", "广东省"],
]


def preview(client, kind, upload):
    return client.post(URL, {"kind": kind, "file": upload})


def confirm(client, response):
    return client.post(URL, {"token": response.context["token"]})


def test_a_preview_lists_every_bad_row_with_its_number_and_writes_nothing(am_client):
    rows = [
        *CUSTOMERS,
        ["IMP-C", "丙有限公司", "91110000MA00000010", "", ""],  # wrong check character
        ["IMP-D", '=HYPERLINK("http://x")', "", "", ""],
        ["IMP-A", "重复的代码", "", "", ""],  # the code of row 1
    ]
    response = preview(am_client, "customers", csv_file(rows))
    assert response.status_code == 200
    result = response.context["result"]
    bad = {row.number: " ".join(row.errors) for row in result.bad_rows}
    assert sorted(bad) == [3, 4, 5]
    assert bad[3].startswith("uscc:")
    assert bad[4].startswith("legal_name:")
    assert bad[5].startswith("code:")
    assert "token" not in response.context
    page = response.content.decode()
    assert 'data-row="3"' in page
    assert "bad-row" in page
    assert not Customer.objects.exists()


def test_a_valid_file_is_previewed_then_imported_whole(am_client, users):
    response = preview(am_client, "customers", csv_file(CUSTOMERS))
    assert [row.summary for row in response.context["result"].rows] == [
        "IMP-A 甲软件有限公司",
        "IMP-B 乙软件有限公司",
    ]
    assert not Customer.objects.exists()  # a preview writes nothing
    done = confirm(am_client, response)
    assert done.status_code == 302, messages_of(done)
    imported = Customer.objects.order_by("code")
    assert [c.code for c in imported] == ["IMP-A", "IMP-B"]
    assert {c.account_manager for c in imported} == {users["account_manager"]}
    assert imported[0].history.get().history_user == users["account_manager"]
    assert confirm(am_client, response).status_code == 400  # the upload is gone once imported
    assert Customer.objects.count() == 2


def test_a_confirmation_not_previewed_is_refused(am_client):
    response = am_client.post(URL, {"token": "forged"})
    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_contracts_with_products_modules_and_free_period_from_xlsx(am_client, users):
    for code, uscc in (("IMP-A", USCC_A), ("IMP-B", USCC_B)):
        customer_create(by=users["account_manager"], code=code, legal_name=code, uscc=uscc)
    rows = [
        COLUMNS["contracts"],
        ["IMP-A", "HT-IMP-A", "purchase", "2026-03-01", "KMS 8.5.2; EIS 5.2.0", "oa-flow: 审批流",
         "2026-03-01", "2027-02-28", "standard", "2"],
        ["IMP-B", "HT-IMP-B", "", "2026-04-01", "KMS:8.5.2", "", "2026-04-01", "2027-03-31", "", ""],
    ]  # fmt: skip
    upload = SimpleUploadedFile("contracts.xlsx", handmade_xlsx(rows))
    response = preview(am_client, "contracts", upload)
    assert not response.context["result"].bad_rows, response.context["result"].rows
    assert confirm(am_client, response).status_code == 302
    first = Contract.objects.get(number="HT-IMP-A")
    assert sorted((p.product.code, p.version) for p in first.products.all()) == [
        ("EIS", "5.2.0"),
        ("KMS", "8.5.2"),
    ]
    assert first.custom_modules.get().name == "审批流"
    period = first.periods.get()
    assert (period.kind, str(period.start), str(period.end)) == (PeriodKind.FREE, "2026-03-01", "2027-02-28")
    assert Contract.objects.get(number="HT-IMP-B").periods.get().tier.code == "standard"


def test_one_bad_contract_row_imports_none(am_client, users):
    customer_create(by=users["account_manager"], code="IMP-A", legal_name="甲", uscc=USCC_A)
    rows = [
        ["customer", "number", "signed_on", "products", "free_start", "free_end"],
        ["IMP-A", "HT-1", "2026-03-01", "KMS 8.5.2", "2026-03-01", "2027-02-28"],
        ["IMP-A", "HT-2", "2026-03-01", "KMS eight", "2026-03-01", "2027-02-28"],
        ["NOBODY", "HT-3", "2026-03-01", "KMS 8.5.2", "", ""],
        ["IMP-A", "HT-4", "2026-03-01", "NOPE 1.0", "", ""],
        ["IMP-A", "HT-5", "2026-03-01", "KMS 8.5.2", "2027-03-01", ""],
    ]
    response = preview(am_client, "contracts", csv_file(rows))
    assert [row.number for row in response.context["result"].bad_rows] == [2, 3, 4, 5]
    assert not Contract.objects.exists()


def test_contacts_of_customers_and_a_gb18030_file(am_client, users):
    customer_create(by=users["account_manager"], code="IMP-A", legal_name="甲", uscc=USCC_A)
    rows = [["customer", "name", "title", "email", "phone", "primary"],
            ["IMP-A", "王工", "信息部经理", "wang@example.com", "13800000000", "是"],
            ["IMP-A", "李工", "", "", "", "否"]]  # fmt: skip
    response = preview(am_client, "contacts", csv_file(rows, encoding="gb18030"))
    assert not response.context["result"].bad_rows
    assert confirm(am_client, response).status_code == 302
    assert list(Contact.objects.order_by("-is_primary", "name").values_list("name", "is_primary")) == [
        ("王工", True),
        ("李工", False),
    ]


def test_a_file_missing_or_adding_columns_is_refused(am_client):
    response = preview(am_client, "customers", csv_file([["code", "name"], ["X", "y"]]))
    assert response.context["form"].errors["file"]
    assert "result" not in response.context


def test_templates_hold_the_header_row_of_each_kind(am_client):
    for kind in COLUMNS:
        csv = am_client.get(reverse("contracts:customer-import-template", args=[kind, "csv"]))
        assert csv.content.decode("utf-8-sig").strip() == ",".join(COLUMNS[kind])
        xlsx = am_client.get(reverse("contracts:customer-import-template", args=[kind, "xlsx"]))
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert [cell.value for cell in sheet[1]] == COLUMNS[kind]
    assert am_client.get("/staff/customers/import/nothing.csv").status_code == 404


def test_finance_cannot_import_customers(client, users):
    client.force_login(users["finance"])
    assert client.get(URL).status_code == 403
    assert preview(client, "customers", csv_file(CUSTOMERS)).status_code == 403
    assert not Customer.objects.exists()
