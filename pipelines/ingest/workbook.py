"""Town workbooks: cells through calamine (fastexcel), cover fields, sheets, header rows, data rows.

Reading is I/O; everything after `read_workbook` is pure: the cover and the header are
searched in the first rows as lists of cell texts, the data rows are cut column-wise.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from pipelines.contract import Contract, SourceSpec
from pipelines.ingest.findings import masked_in_text
from pipelines.ingest.text import cover_value, match_header, normalize_header, squeeze

HEADER_SEARCH_ROWS = 50
COVER_ROWS = 5
_EXCEL_ERRORS = {
    "Ref": "#REF!", "Div0": "#DIV/0!", "NA": "#N/A", "Value": "#VALUE!",
    "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!", "GettingData": "#GETTING_DATA",
}
_ERROR_DETAIL = re.compile(r"got 'Error\((\w+)\)'")

NumberCells = Callable[[int], pl.Series]  # column index -> Float64 per row, null where not a number cell


@dataclass
class SheetCells:
    """One sheet: every cell as text in `cells` (column `c<i>`, Excel row r at position r-1).
    `damage` says why calamine could not read a sheet the workbook lists (its cells are then none)."""

    name: str
    visible: bool
    cells: pl.DataFrame
    numbers: NumberCells | None = None
    damage: str | None = None

    @classmethod
    def from_rows(cls, name: str, visible: bool, rows: list[list[str | None]],
                  damage: str | None = None) -> "SheetCells":
        width = max((len(r) for r in rows), default=0)
        columns = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
        return cls(name, visible, pl.DataFrame(columns, schema={c: pl.String for c in columns}), damage=damage)

    def head(self, count: int) -> list[list[str | None]]:
        """The first `count` rows as lists of cell texts."""
        return [list(row) for row in self.cells.head(count).iter_rows()]


class UnreadableWorkbook(Exception):
    """The file is not a workbook calamine can open."""


def read_workbook(path: Path) -> list[SheetCells]:
    """Every sheet's cells as text, Excel errors as `#REF!` etc.

    The bytes are handed to calamine (a file name that is not UTF-8 cannot be passed as a path).
    Sheets are named as every table and finding shows them (an ID or phone in a name masked)."""
    import fastexcel

    content = path.read_bytes()
    try:
        reader = fastexcel.read_excel(content)
        names = reader.sheet_names
    except Exception as exc:  # calamine raises its own types for every kind of damage
        raise UnreadableWorkbook(str(exc)) from exc
    long_numbers = may_hold_long_numbers(content)
    charts = chart_sheet_names(content)
    sheets = []
    for index, raw_name in enumerate(names):
        if raw_name in charts:  # a chart on a tab of its own (结对扶老统计图): no cells, no second 结对扶老
            continue
        name = masked_in_text(raw_name)
        try:
            sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0)
            table, errors = sheet.to_arrow_with_errors()
        except Exception as exc:  # an empty sheet loads as 0 × 0: this one's XML is damaged or missing
            sheets.append(SheetCells.from_rows(name, True, [], damage=_first_line(exc)))
            continue
        cells = pl.from_arrow(table)
        cells = cells.rename({old: f"c{i}" for i, old in enumerate(cells.columns)})
        if errors and errors.errors:
            cells = _with_error_texts(cells, errors.errors)
        absolute = [column.absolute_index for column in sheet.available_columns()]
        number_cells = _number_cells(reader, index, cells.height, absolute) if long_numbers else None
        sheets.append(SheetCells(name, sheet.visible == "visible", cells, number_cells))
    return sheets


def chart_sheet_names(content: bytes) -> set[str]:
    """The names of an .xlsx's chart sheets, which calamine lists and loads as empty sheets (by
    the workbook's relationships; namespaces matched by local name, as strict OOXML has others)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if not any(part.lower().startswith("xl/chartsheets/") for part in archive.namelist()):
                return set()
            relationships = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error, ElementTree.ParseError):
        return set()
    charts = {r.get("Id") for r in relationships if (r.get("Type") or "").endswith("/chartsheet")}
    return {sheet.get("name") for sheet in book.iter() if sheet.tag.endswith("}sheet")
            and any(key.endswith("}id") and value in charts for key, value in sheet.attrib.items())}


def _first_line(error: Exception) -> str:
    """calamine's message without its context lines (`Xlsx error: Xml error: …`)."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# A cell value (`<v>`, `<x:v>`) with 16 digits in a row or an exponent (`5.00112E+17`); an XML
# part without one holds no number cell of 1e15 or more (a string cell's value is text or a
# shared string's index). An element ending in v with attributes (`<v xml:space=…>`, which no
# writer seems to make) counts as one. Two patterns led by rarer literals than `<`: 6× faster.
_LONG_NUMBER_VALUE = re.compile(rb"v>[^<]*(?:\d{16}|[eE][-+]?\d)")
_VALUE_WITH_ATTRIBUTES = re.compile(rb"v\s[^<>]*>")


def may_hold_long_numbers(content: bytes) -> bool:
    """Whether any sheet of an .xlsx may have a number cell of 1e15 or more, an ID that lost its
    digits (`_number_as_typed`). Finding out which cells those are means loading a sheet again
    (`_number_cells`, as costly as loading it at first: a fifth of reading a town's workbook),
    so a workbook without such a value in its XML is not asked. True for anything else (.xls,
    a file that is no zip of XML parts)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            # every XML part but the shared strings (text), wherever a writer put its worksheets
            parts = [name for name in archive.namelist()
                     if name.lower().endswith(".xml") and not name.lower().endswith("sharedstrings.xml")]
            return not parts or any(_may_hold_long_number(archive.read(name)) for name in parts)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError, zlib.error):
        return True


def _may_hold_long_number(xml_part: bytes) -> bool:
    return bool(_LONG_NUMBER_VALUE.search(xml_part) or _VALUE_WITH_ATTRIBUTES.search(xml_part))


def _with_error_texts(cells: pl.DataFrame, errors) -> pl.DataFrame:
    """Excel error cells (null in the text load) get their `#REF!` text."""
    by_column: dict[int, dict[int, str]] = {}
    for error in errors:
        match = _ERROR_DETAIL.search(error.detail)
        if match:
            row, col = error.position
            by_column.setdefault(col, {})[row] = _EXCEL_ERRORS.get(match.group(1), f"#{match.group(1).upper()}!")
    for col, texts in by_column.items():
        name = f"c{col}"
        values = cells[name].to_list()
        for row, text in texts.items():
            values[row] = text
        cells = cells.with_columns(pl.Series(name, values, dtype=pl.String))
    return cells


_NUMBER_DETAIL = re.compile(r"got '(?:Float|Int)\((.*)\)'")


def _number_cells(reader, index: int, height: int, absolute: list[int]) -> NumberCells:
    """Which cells of a column are number cells: an ID typed into one lost its digits.

    Loading the column as a type no cell has makes calamine name each cell's own type.
    `col` is the column's position in the loaded range (`c<col>`); calamine's range starts at the
    first used column, so `use_columns` gets the column's absolute sheet index (`absolute[col]`).
    """

    def numbers(col: int) -> pl.Series:
        if col >= len(absolute):
            return pl.Series([None] * height, dtype=pl.Float64)
        sheet = reader.load_sheet(index, header_row=None, dtypes="duration", use_columns=[absolute[col]],
                                  skip_rows=0)
        _, errors = sheet.to_arrow_with_errors()
        values: list[float | None] = [None] * height
        for error in errors.errors if errors else []:
            match = _NUMBER_DETAIL.search(error.detail)
            row = error.position[0]
            if match and row < height:
                values[row] = float(match.group(1))
        return pl.Series(values, dtype=pl.Float64)

    return numbers


# --- cover fields ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    town: str | None = None
    month: str | None = None
    submitted: str | None = None


def read_cover(sheets: list[SheetCells], contract: Contract) -> Cover:
    """填报单位 / 报表月份 / 填报日期 from the first rows of the visible sheets (first found wins)."""
    words = contract.words
    fields = [(key, [squeeze(label) for label in words[name]])
              for key, name in (("town", "cover_town"), ("month", "cover_month"), ("submitted", "cover_date"))]
    found: dict[str, str] = {}
    for sheet in sheets:
        if not sheet.visible:
            continue
        for row in sheet.head(COVER_ROWS):
            for index, cell in enumerate(row):
                if cell is None:
                    continue
                for key, labels in fields:
                    if key in found:
                        continue
                    value = cover_value(row, index, labels)
                    if value:
                        found[key] = value
    return Cover(**found)


# --- sheets ----------------------------------------------------------------------------

_SHEET_NUMBERING = re.compile(r"^(表?\d+[.、．\-_]?)")


def sheet_kind(sheet_name: str, contract: Contract) -> str | None:
    """The sheet kind a sheet name names (canonical name or alias, longest match), else None."""
    name = _SHEET_NUMBERING.sub("", squeeze(sheet_name))
    best: tuple[int, str] | None = None
    for kind, source in contract.sheets.items():
        for label in (source.name, *source.aliases):
            label = squeeze(label)
            if label in name and (best is None or len(label) > best[0]):
                best = (len(label), kind)
    return best[1] if best else None


# --- header ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    row_index: int  # 0-based index of the (upper) header row
    data_start: int  # 0-based index of the first data row
    columns: dict[str, int]  # field -> column index
    units: dict[str, str | None]  # field -> unit named in the header

    @property
    def last_row(self) -> int:
        """The Excel row number of the header's (lower) row: the row a 2-row header is read as."""
        return self.data_start


def known_headers(source: SourceSpec, contract: Contract) -> dict[str, str]:
    """Normalised header or alias -> field, for `match_header` (sheets and registries alike)."""
    units = contract.words["units"]
    known = {}
    for column in source.columns:
        for label in (column.header, *column.aliases):
            known.setdefault(normalize_header(label, units)[0], column.field)
    return known


def find_header(rows: list[list[str | None]], source: SourceSpec, contract: Contract) -> Header | None:
    """The header row: the first where at least half of the non-empty cells are known headers
    or group labels; with the next row when that names known columns under empty/group cells."""
    units = contract.words["units"]
    known = known_headers(source, contract)
    groups = {squeeze(g) for g in source.group_labels}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        filled = [c for c in row if c is not None and squeeze(c)]
        if not filled:
            continue
        matched = [c for c in filled if match_header(c, known, units) or squeeze(c) in groups]
        if len(matched) * 2 < len(filled) or not matched:
            continue
        below = rows[index + 1] if index + 1 < len(rows) else []
        upper_open = [i for i, c in enumerate(row) if c is None or not squeeze(c) or squeeze(c) in groups]
        two_rows = any(i < len(below) and match_header(below[i], known, units) for i in upper_open)
        combined = []
        for i in range(max(len(row), len(below) if two_rows else 0)):
            lower = below[i] if two_rows and i < len(below) else None
            upper = row[i] if i < len(row) else None
            combined.append(lower if lower is not None and squeeze(lower) else upper)
        columns: dict[str, int] = {}
        header_units: dict[str, str | None] = {}
        for i, cell in enumerate(combined):
            match = match_header(cell, known, units)
            if match and match[0] not in columns:  # a repeated header: the first column wins
                columns[match[0]] = i
                header_units[match[0]] = match[1]
        if not columns:
            continue
        return Header(index, index + (2 if two_rows else 1), columns, header_units)
    return None


def missing_required(header: Header, source: SourceSpec) -> list[str]:
    return [c.header for c in source.columns if c.required and c.field not in header.columns]


# --- data rows -------------------------------------------------------------------------


# A first cell ending with one of these is a totals row too (全镇合计, 统景镇小计 …).
TOTALS_SUFFIXES = ("合计", "总计", "小计")


def _footer_prefixes(contract: Contract) -> list[str]:
    return [squeeze(p) for p in contract.words["footer_prefixes"]]


def _filled(cell: pl.Expr) -> pl.Expr:
    """The cell, or null when blank or only white space."""
    return pl.when(cell.str.strip_chars() != "").then(cell)


def data_rows(sheet: SheetCells, header: Header, source: SourceSpec, contract: Contract) -> pl.DataFrame:
    """`row_number` and `<field>_raw` for every data row; merged (fill-down) cells filled.

    Fully blank rows and footer rows (first non-empty cell starts with 合计, 填表人： …, or ends with
    合计/总计/小计, as in 全镇合计) are dropped.
    """
    cells = sheet.cells.with_row_index("row_number", offset=1).slice(header.data_start)
    id_fields = {c.field for c in source.columns if c.type == "id"}
    columns = []
    for field_name, col in header.columns.items():
        name = f"c{col}"
        cell = pl.col(name) if name in cells.columns else pl.lit(None, pl.String)
        if field_name in id_fields and sheet.numbers is not None and name in cells.columns:
            cell = _number_as_typed(cell, sheet.numbers(col).slice(header.data_start))
        columns.append(_filled(cell).alias(f"{field_name}_raw"))
    stripped = pl.col(sheet.cells.columns).str.strip_chars()
    first_cell = pl.coalesce(stripped.replace("", None)) if sheet.cells.width else pl.lit(None)
    footer = ("^(?:" + "|".join(re.escape(p) for p in _footer_prefixes(contract)) + ")"
              + "|(?:" + "|".join(re.escape(t) for t in TOTALS_SUFFIXES) + ")$")
    raw_names = [f"{f}_raw" for f in header.columns]
    frame = cells.select(pl.col("row_number").cast(pl.Int32), *columns, _first=first_cell.cast(pl.String))
    is_footer_row = pl.col("_first").str.normalize("NFKC").str.replace_all(r"\s+", "").str.contains(footer)
    frame = frame.filter(~is_footer_row.fill_null(False) & pl.any_horizontal(pl.col(n).is_not_null() for n in raw_names))
    fill_down = [f"{c.field}_raw" for c in source.columns if c.fill_down and c.field in header.columns]
    return frame.select("row_number", *raw_names).with_columns(pl.col(fill_down).forward_fill())


def _number_as_typed(text: pl.Expr, numbers: pl.Series) -> pl.Expr:
    """An ID typed into a number cell: up to 15 digits survive; longer ones show as Excel shows
    them (`5.00112E+17`), since Excel kept only 15 significant digits."""
    long_number = numbers.abs() >= 1e15
    if not long_number.any():
        return text
    shown = pl.Series([f"{v:.5E}" if big else None for v, big in zip(numbers.to_list(), long_number.to_list())],
                      dtype=pl.String)
    return pl.coalesce(pl.lit(shown), text)
