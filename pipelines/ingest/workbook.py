"""Town workbooks: cells through calamine (fastexcel), cover fields, sheets, header rows, data rows.

Reading is I/O; everything after `read_workbook` is pure and works on lists of cell texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.contract import Contract, SourceSpec
from pipelines.ingest.text import cover_value, header_unit_suffix, normalize_header, squeeze

HEADER_SEARCH_ROWS = 50
COVER_ROWS = 5
_EXCEL_ERRORS = {
    "Ref": "#REF!", "Div0": "#DIV/0!", "NA": "#N/A", "Value": "#VALUE!",
    "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!", "GettingData": "#GETTING_DATA",
}
_CELL_KIND = re.compile(r"got '(\w+)\((.*)\)'?$", re.S)


@dataclass
class SheetCells:
    name: str
    visible: bool
    rows: list[list[str | None]]
    numeric: dict[tuple[int, int], float] = field(default_factory=dict)  # (row, col) -> number cells


class UnreadableWorkbook(Exception):
    """The file is not a workbook calamine can open."""


def read_workbook(path: Path) -> list[SheetCells]:
    """Every sheet's cells as text (Excel row i at index i-1), errors as `#REF!` etc."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        names = reader.sheet_names
    except Exception as exc:  # calamine raises its own types for every kind of damage
        raise UnreadableWorkbook(str(exc)) from exc
    sheets = []
    for index, name in enumerate(names):
        try:
            sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0)
        except Exception:  # an empty sheet has no range
            sheets.append(SheetCells(name=name, visible=True, rows=[]))
            continue
        visible = sheet.visible == "visible"
        table, _ = sheet.to_arrow_with_errors()
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        rows = [list(r) for r in zip(*columns)] if columns else []
        cells = SheetCells(name=name, visible=visible, rows=rows)
        if visible and rows:
            _mark_cell_kinds(reader, index, cells)
        sheets.append(cells)
    return sheets


def _mark_cell_kinds(reader, index: int, cells: SheetCells) -> None:
    """Excel error cells get their `#REF!` text; number cells are remembered (IDs typed as numbers)."""
    probe = reader.load_sheet(index, header_row=None, dtypes="duration", skip_rows=0)
    _, errors = probe.to_arrow_with_errors()
    for error in errors.errors if errors else []:
        row, col = error.position
        match = _CELL_KIND.search(error.detail)
        if not match or row >= len(cells.rows) or col >= len(cells.rows[row]):
            continue
        kind, content = match.group(1), match.group(2)
        if kind == "Error":
            cells.rows[row][col] = _EXCEL_ERRORS.get(content, f"#{content.upper()}!")
        elif kind in ("Float", "Int"):
            try:
                cells.numeric[(row, col)] = float(content)
            except ValueError:
                pass


# --- cover fields ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    town: str | None = None
    month: str | None = None
    submitted: str | None = None


def read_cover(sheets: list[SheetCells], contract: Contract) -> Cover:
    """填报单位 / 报表月份 / 填报日期 from the first rows of the visible sheets (first found wins)."""
    words = contract.words
    found: dict[str, str] = {}
    for sheet in sheets:
        if not sheet.visible:
            continue
        for row in sheet.rows[:COVER_ROWS]:
            for index in range(len(row)):
                for key, labels in (("town", words["cover_town"]), ("month", words["cover_month"]),
                                    ("submitted", words["cover_date"])):
                    value = cover_value(row, index, [squeeze(label) for label in labels])
                    if value and key not in found:
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


def _known_headers(source: SourceSpec, contract: Contract) -> dict[str, str]:
    units = contract.words["units"]
    known = {}
    for column in source.columns:
        for label in (column.header, *column.aliases):
            known.setdefault(normalize_header(label, units)[0], column.field)
    return known


def _match_header(cell: str | None, known: dict[str, str], units: dict[str, str]) -> tuple[str, str | None] | None:
    if cell is None or not squeeze(cell):
        return None
    name, unit = normalize_header(cell, units)
    if name in known:
        return known[name], unit
    bare, suffix_unit = header_unit_suffix(name, units)
    if bare in known and suffix_unit:
        return known[bare], suffix_unit
    return None


def find_header(rows: list[list[str | None]], source: SourceSpec, contract: Contract) -> Header | None:
    """The header row: the first where at least half of the non-empty cells are known headers
    or group labels; with the next row when that names known columns under empty/group cells."""
    units = contract.words["units"]
    known = _known_headers(source, contract)
    groups = {squeeze(g) for g in source.group_labels}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        filled = [c for c in row if c is not None and squeeze(c)]
        if not filled:
            continue
        matched = [c for c in filled if _match_header(c, known, units) or squeeze(c) in groups]
        if len(matched) * 2 < len(filled) or not matched:
            continue
        below = rows[index + 1] if index + 1 < len(rows) else []
        upper_open = [i for i, c in enumerate(row) if c is None or not squeeze(c) or squeeze(c) in groups]
        two_rows = any(i < len(below) and _match_header(below[i], known, units) for i in upper_open)
        combined = []
        for i in range(max(len(row), len(below) if two_rows else 0)):
            lower = below[i] if two_rows and i < len(below) else None
            upper = row[i] if i < len(row) else None
            combined.append(lower if lower is not None and squeeze(lower) else upper)
        columns: dict[str, int] = {}
        header_units: dict[str, str | None] = {}
        for i, cell in enumerate(combined):
            match = _match_header(cell, known, units)
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


def is_footer(row: list[str | None], contract: Contract) -> bool:
    """Totals and signature rows: 合计, 总计, 小计, 填表人：, 审核人：, 联系电话：, 说明：, 注：."""
    first = next((squeeze(c) for c in row if c is not None and squeeze(c)), "")
    return any(first.startswith(squeeze(p)) for p in contract.words["footer_prefixes"])


def data_rows(sheet: SheetCells, header: Header, source: SourceSpec, contract: Contract) -> pl.DataFrame:
    """`row_number` and `<field>_raw` for every data row; merged (fill-down) cells filled."""
    fill_down = {c.field for c in source.columns if c.fill_down}
    id_fields = {c.field for c in source.columns if c.type == "id"}
    records: list[dict] = []
    last: dict[str, str] = {}
    for index in range(header.data_start, len(sheet.rows)):
        row = sheet.rows[index]
        values: dict[str, str | None] = {}
        for field_name, col in header.columns.items():
            cell = row[col] if col < len(row) else None
            if field_name in id_fields and (index, col) in sheet.numeric:
                cell = _number_as_typed(sheet.numeric[(index, col)], cell)
            values[field_name] = cell if cell is not None and cell.strip() else None
        if all(v is None for v in values.values()) or is_footer(row, contract):
            continue
        for field_name in fill_down:
            if field_name in values:
                if values[field_name] is None and field_name in last:
                    values[field_name] = last[field_name]
                elif values[field_name] is not None:
                    last[field_name] = values[field_name]
        records.append({"row_number": index + 1, **{f"{k}_raw": v for k, v in values.items()}})
    schema = {"row_number": pl.Int32, **{f"{k}_raw": pl.String for k in header.columns}}
    return pl.DataFrame(records, schema=schema, orient="row") if records else pl.DataFrame(schema=schema)


def _number_as_typed(value: float, text: str | None) -> str | None:
    """An ID typed into a number cell: up to 15 digits survive; longer ones show as Excel shows
    them (`5.00112E+17`), since Excel kept only 15 significant digits."""
    if abs(value) >= 1e15:
        return f"{value:.5E}"
    return text

