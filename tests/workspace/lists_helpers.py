"""Reading a staff list (workspace.lists) as its user would: the rows of a page, the total the paging shows,
and the rows of its CSV and XLSX exports."""

import csv
import io

import openpyxl


def listed(response) -> list:
    """The records of the page shown, in their order."""
    assert response.status_code == 200, response.status_code
    return [row.record for row in response.context["table"].paginated_rows]


def total(response) -> int:
    return response.context["table"].paginator.count


def exported(client, url: str, params: dict, format: str) -> list[dict]:
    """The rows of the export of the list at ``url`` with ``params``, as dicts by column header."""
    response = client.get(url, {**params, "export": format})
    assert response.status_code == 200, response.status_code
    assert "attachment" in response["Content-Disposition"]
    if format == "csv":
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
