"""Spreadsheet files for import tests, made by hand as Excel makes them (with a shared-strings table,
which openpyxl does not write)."""

import io
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{TYPES}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{TYPES}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{RELATIONSHIP}/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIP}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{RELATIONSHIP}/worksheet"/>'
        f'<Relationship Id="rId2" Target="sharedStrings.xml" Type="{RELATIONSHIP}/sharedStrings"/>'
        "</Relationships>"
    ),
}


def handmade_xlsx(rows, *, dimension: str | None = None, shared_strings=None) -> bytes:
    """A workbook as Excel writes it: every text in the shared-strings table, cells pointing into it.
    ``shared_strings`` (chunks of bytes) replaces the table the rows would make: a bomb is streamed."""
    texts = list(dict.fromkeys(str(cell) for row in rows for cell in row))
    cells = "".join(
        f'<row r="{number}">'
        + "".join(
            f'<c r="{chr(65 + column)}{number}" t="s"><v>{texts.index(str(cell))}</v></c>'
            for column, cell in enumerate(row)
        )
        + "</row>"
        for number, row in enumerate(rows, 1)
    )
    last = f"{chr(64 + max(len(row) for row in rows))}{len(rows)}"
    sheet = (
        f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension or "A1:" + last}"/>'
        f"<sheetData>{cells}</sheetData></worksheet>"
    )
    table = f'<sst xmlns="{MAIN}">' + "".join(f"<si><t>{text}</t></si>" for text in texts) + "</sst>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in {**PARTS, "xl/worksheets/sheet1.xml": sheet}.items():
            book.writestr(name, text)
        with book.open("xl/sharedStrings.xml", "w") as target:
            for chunk in shared_strings or [table.encode()]:
                target.write(chunk)
    return out.getvalue()


def repeated_strings(count: int, text: str):
    yield f'<sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'.encode()
    block = f"<si><t>{text}</t></si>".encode() * 10000
    for _ in range(count // 10000):
        yield block
    yield b"</sst>"
