"""Whether a workbook may hold an ID typed into a number cell (pipelines/ingest/workbook.py,
`may_hold_long_numbers`): only such a workbook's sheets are loaded a second time to find them."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from pipelines.contract import load_contract
from pipelines.ingest.workbook import data_rows, find_header, may_hold_long_numbers, read_workbook

CONTRACT = load_contract()
HEADER = ["姓名", "身份证号", "培训日期"]


def openpyxl_book(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsxwriter_book(rows: list[list]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("培训情况")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None:
                sheet.write_number(r, c, value)
    book.close()
    return out.getvalue()


def zip_of(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize("write", [openpyxl_book, xlsxwriter_book], ids=["openpyxl", "xlsxwriter"])
@pytest.mark.parametrize("id_cell, long_number", [
    ("500112194912310016", False),              # typed as text
    ("11010519491231002X", False),
    (110105491231002, False),                   # a 15-digit legacy ID survives a number cell
    (999_999_999_999_999, False),
    (500112194912310016, True),                 # 18 digits: Excel keeps 15
    (5.00112194912310016e17, True),
    (1e15, True),
    (-5e17, True),
    (1234567890123456, True),
    (1.5e300, True),
])
def test_a_workbook_may_hold_long_numbers_only_with_a_number_cell_of_1e15_or_more(write, id_cell, long_number):
    rows = [HEADER, ["张*", id_cell, 45000], ["李*", "11010519491231002X", 1.5]]
    assert may_hold_long_numbers(write(rows)) is long_number


def test_every_number_of_1e15_or_more_is_seen_whatever_the_writer_makes_of_it():
    numbers = [10 ** 15 + 7, 2 ** 53 + 1, 123456789012345678, 9.87654321e17, 1.0000000000000002e15, 6e18, 1e16 / 3]
    for value in numbers:
        for write in (openpyxl_book, xlsxwriter_book):
            assert may_hold_long_numbers(write([HEADER, ["张*", value, 1]])), (write.__name__, value)


@pytest.mark.parametrize("worksheet, long_number", [
    ('<worksheet><sheetData><row r="1"><c r="A1"><v>12</v></c></row></sheetData></worksheet>', False),
    ('<x:worksheet xmlns:x="main"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>500112194912310016</x:v>'
     '</x:c></x:row></x:sheetData></x:worksheet>', True),   # a prefixed namespace
    ('<worksheet><sheetData><row r="1"><c r="A1"><v>5.0011219491231002E+17</v></c></row></sheetData></worksheet>', True),
    ('<worksheet><sheetData><row r="1"><c r="A1"><v xml:space="preserve">12</v></c></row></sheetData></worksheet>',
     True),  # a value element with attributes: not read, so not ruled out
    ('<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>500112194912310016</t></is></c></row>'
     '</sheetData></worksheet>', False),  # an inline string
])
def test_the_worksheets_xml_is_read_for_number_values(worksheet, long_number):
    # the worksheet where a writer put it, not necessarily xl/worksheets/
    assert may_hold_long_numbers(zip_of({"xl/workbook.xml": "<workbook/>", "xl/sheets/one.xml": worksheet})) is long_number


@pytest.mark.parametrize("content", [b"", b"\xd0\xcf\x11\xe0 an .xls (BIFF) file", zip_of({"a.txt": "no XML"})])
def test_anything_but_a_zip_of_xml_parts_may_hold_long_numbers(content):
    assert may_hold_long_numbers(content)


@pytest.mark.parametrize("id_cell, shown", [(500112194912310016, "5.00112E+17"), ("500112194912310016", "500112194912310016")])
def test_a_workbook_reads_the_same_whether_or_not_its_sheets_are_loaded_again(tmp_path: Path, id_cell, shown):
    path = tmp_path / "培训.xlsx"
    path.write_bytes(xlsxwriter_book([HEADER, ["张*", id_cell, "2022-06-01"], ["李*", "11010519491231002X", None]]))
    sheet = read_workbook(path)[0]
    assert (sheet.numbers is not None) is isinstance(id_cell, int)
    source = CONTRACT.sheets["trainings"]
    header = find_header(sheet.head(10), source, CONTRACT)
    assert data_rows(sheet, header, source, CONTRACT)["id_number_raw"].to_list() == [shown, "11010519491231002X"]
