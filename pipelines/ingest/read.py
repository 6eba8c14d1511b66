"""Read: a file's cells, and its data rows as raw-text frames carrying their lineage columns.

Opening a file is I/O; cutting a classified workbook's sheets into rows is pure. Registry rows
stream out a chunk at a time (bounded memory whatever the export's size).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from pipelines.contract import Contract, SourceSpec
from pipelines.ingest import registry as registry_io
from pipelines.ingest import workbook as wb
from pipelines.ingest.classify import RegistryExport, TownMonth, TownWorkbook
from pipelines.ingest.inbox import WORKBOOK_SUFFIXES, InboxFile, unreadable_reason
from pipelines.ingest.parse import multiplier_columns
from pipelines.ingest.results import Rejection, SheetResult
from pipelines.ingest.text import month_end

# --- town workbooks -----------------------------------------------------------------------


def open_workbook(file: InboxFile) -> list[wb.SheetCells] | Rejection:
    """Every sheet's cells, or why the file is no workbook that can be opened."""
    reason = unreadable_reason(file.path, file.size)
    if file.path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return Rejection(reason if reason in ("zero_bytes", "archive") else "not_workbook")
    if reason:
        return Rejection(reason)
    try:
        return wb.read_workbook(file.path)
    except wb.UnreadableWorkbook:
        return Rejection("corrupt")


@dataclass(frozen=True)
class SheetRows:
    """One recognised sheet: its record, and its raw-text rows when it is loaded."""

    sheet: SheetResult
    rows: pl.DataFrame | None = None


def read_sheets(file_id: str, workbook: TownWorkbook, contract: Contract, refresh_id: str) -> list[SheetRows]:
    """Each recognised sheet's rows; a kind with two visible sheets loads neither."""
    read = []
    for kind, sheets in workbook.sheets.items():
        source = contract.sheets[kind]
        if len(sheets) == 1:
            read.append(read_sheet(file_id, source, sheets[0], workbook.reports, contract, refresh_id))
            continue
        for sheet in sheets:
            header = wb.find_header(sheet.head(wb.HEADER_SEARCH_ROWS + 1), source, contract)
            read.append(_rejected_sheet(
                file_id, kind, sheet.name, header.last_row if header else None,
                f"同一工作簿中有{len(sheets)}个「{source.name}」工作表，无法确定使用哪一个，请只保留一个",
                f"{len(sheets)} visible sheets of kind {source.name}; keep only one"))
    return read


def read_sheet(file_id: str, source: SourceSpec, sheet: wb.SheetCells, reports: TownMonth, contract: Contract,
               refresh_id: str) -> SheetRows:
    if sheet.damage:
        return _rejected_sheet(file_id, source.kind, sheet.name, None,
                               "工作表已损坏，无法读取，请在 Excel 中打开检查此表，重新保存后报送",
                               f"the sheet is damaged and cannot be read ({sheet.damage}); open it in Excel, "
                               "check it, save the workbook and send it again")
    header = wb.find_header(sheet.head(wb.HEADER_SEARCH_ROWS + 1), source, contract)
    if header is None:
        return _rejected_sheet(file_id, source.kind, sheet.name, None,
                               "找不到表头行，请使用模板的列名", "no header row found; use the template's column names")
    missing = wb.missing_required(header, source)
    if missing:
        return _rejected_sheet(file_id, source.kind, sheet.name, header.last_row,
                               f"缺少必需的列「{'、'.join(missing)}」，请补上该列",
                               f"required column {', '.join(missing)} is missing; add it", "、".join(missing))
    rows = wb.data_rows(sheet, header, source, contract).with_columns(
        file_id=pl.lit(file_id), sheet_name=pl.lit(sheet.name),
        refresh_id=pl.lit(refresh_id), town_code=pl.lit(reports.town_code),
        month=pl.lit(reports.month, pl.Date), _as_of=pl.lit(month_end(reports.month), pl.Date),
        **multiplier_columns(source, header.units),
    )
    loaded = SheetResult(file_id, source.kind, sheet.name, "loaded", header_row=header.last_row, rows=rows.height)
    return SheetRows(loaded, rows)


def _rejected_sheet(file_id: str, kind: str, name: str, header_row: int | None, why_zh: str, why_en: str,
                    column: str | None = None) -> SheetRows:
    return SheetRows(SheetResult(file_id, kind, name, "rejected", why_zh, why_en, header_row, column=column))


# --- registries ---------------------------------------------------------------------------


def open_registry(
    file: InboxFile, source: SourceSpec, contract: Contract
) -> tuple[registry_io.HeaderMap, Iterator[pl.DataFrame]] | Rejection:
    """The export's header and its raw-text rows a chunk at a time (an .xlsx/.xls export in one
    chunk), or why it cannot be read."""
    try:
        if file.path.suffix.lower() in WORKBOOK_SUFFIXES:
            reason = unreadable_reason(file.path, file.size)
            if reason:
                return Rejection(reason)
            header, frame = registry_io.read_workbook_registry(file.path, source, contract)
            return header, iter([frame])
        if unreadable_reason(file.path, file.size) == "archive":  # a .zip of exports
            return Rejection("archive")
        return registry_io.read_csv_chunks(file.path, source, contract)
    except wb.UnreadableWorkbook:
        return Rejection("corrupt")
    except registry_io.RegistryHeaderError:
        return Rejection("registry_header")


def registry_rows(file_id: str, export: RegistryExport, source: SourceSpec, header: registry_io.HeaderMap,
                  chunks: Iterator[pl.DataFrame], refresh_id: str) -> Iterator[pl.DataFrame]:
    """Each chunk with its lineage columns; nothing may be dated after the export."""
    for chunk in chunks:
        yield chunk.with_columns(
            file_id=pl.lit(file_id), refresh_id=pl.lit(refresh_id),
            export_date=pl.lit(export.export_date, pl.Date), town_code=pl.lit(None, pl.String),
            _as_of=pl.lit(export.export_date, pl.Date), **multiplier_columns(source, header.units),
        )
