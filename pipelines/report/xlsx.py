"""The report's tables as an Excel workbook: one sheet per table, numbers kept as numbers."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import xlsxwriter

from pipelines.report.content import Cell, Report, Table
from pipelines.report.labels import status_colours

NUMBER_FORMATS = {
    "percent": "0.0%",
    "change_percent": "+0.0%;-0.0%;0.0%",
    "change_count": "+#,##0.##;-#,##0.##;0",
    "date": "yyyy-mm-dd",
    "decimal": "0.00",
}
FONT = "等线"
FORMULA_STARTS = ("=", "+", "-", "@")


def display_width(text: str) -> int:
    """Columns a text takes in Excel: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def safe_text(text: str) -> str:
    """Never a formula, even for a reader who re-enters the cell: a leading ' keeps it text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def count_format(value: float | int) -> str:
    return "#,##0" if float(value).is_integer() else "#,##0.0"


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple, object] = {}
        base = {"font_name": FONT, "font_size": 10}
        self.title = workbook.add_format({**base, "bold": True, "font_size": 12})
        self.header = workbook.add_format({**base, "bold": True, "bg_color": "#E8EDF3", "border": 1,
                                           "align": "center", "valign": "vcenter", "text_wrap": True})
        self.note = workbook.add_format({**base, "font_color": "#555555", "font_size": 9})
        self.paragraph = workbook.add_format({**base, "text_wrap": True, "valign": "top"})

    def cell(self, number_format: str | None, status: str | None, align: str) -> object:
        key = (number_format, status, align)
        if key not in self._cache:
            spec = {"font_name": FONT, "font_size": 10, "border": 1, "valign": "vcenter", "align": align}
            if number_format:
                spec["num_format"] = number_format
            if status in status_colours():
                fill, colour = status_colours()[status]
                spec.update(bg_color=fill, font_color=colour)
                spec["bold"] = status == "red"
            self._cache[key] = self._workbook.add_format(spec)
        return self._cache[key]


def _write_cell(sheet, formats: _Formats, row: int, column: int, cell: Cell) -> None:
    value = cell.value
    if isinstance(value, bool) or value is None or cell.fmt == "text":
        sheet.write_string(row, column, safe_text(cell.text), formats.cell(None, cell.status, "left"))
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, formats.cell(NUMBER_FORMATS["date"], cell.status, "right"))
    else:
        number_format = NUMBER_FORMATS.get(cell.fmt) or count_format(value)
        sheet.write_number(row, column, value, formats.cell(number_format, cell.status, "right"))


def _write_table(workbook: xlsxwriter.Workbook, formats: _Formats, table: Table) -> None:
    sheet = workbook.add_worksheet(table.sheet[:31])
    sheet.write_string(0, 0, table.title, formats.title)
    for column, name in enumerate(table.columns):
        sheet.write_string(2, column, name, formats.header)
    for offset, cells in enumerate(table.rows):
        for column, cell in enumerate(cells):
            _write_cell(sheet, formats, 3 + offset, column, cell)
    for offset, note in enumerate(table.notes):
        sheet.write_string(4 + len(table.rows) + offset, 0, safe_text(note), formats.note)
    for column, name in enumerate(table.columns):
        widest = max([display_width(name)] + [display_width(r[column].text) for r in table.rows])
        sheet.set_column(column, column, min(60, max(6, widest + 2)))
    sheet.freeze_panes(3, 0)


def write_xlsx(report: Report, path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    formats = _Formats(workbook)
    cover = workbook.add_worksheet("通报摘要")
    cover.set_column(0, 0, 110)
    cover.write_string(0, 0, report.title, formats.title)
    cover.write_string(1, 0, report.as_of, formats.note)
    for offset, paragraph in enumerate(report.summary):
        cover.write_string(3 + offset, 0, safe_text(paragraph), formats.paragraph)
        cover.set_row(3 + offset, 15 * (1 + display_width(paragraph) // 105))
    for table in report.tables():
        _write_table(workbook, formats, table)
    workbook.close()
    return path


def write_tables(tables: list[Table], path: Path) -> Path:
    """A workbook of the tables alone, one sheet each (the city summary)."""
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    formats = _Formats(workbook)
    for table in tables:
        _write_table(workbook, formats, table)
    workbook.close()
    return path
