"""Classify: what a new file is, decided from its name, bytes fingerprint and cells alone.

A copy of a loaded file is a duplicate; a registry export is named `<名册>_<YYYYMMDD>`; a town
workbook has recognised sheets and names its town and month on its cover or in its file name.
Everything here is pure: the reading is done before (`read.open_workbook`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pipelines.contract import Contract
from pipelines.ingest.inbox import InboxFile
from pipelines.ingest.registry import parse_registry_name
from pipelines.ingest.results import Original, Rejection
from pipelines.ingest.text import find_month, find_town_in_name, parse_cover_date, resolve_town
from pipelines.ingest.workbook import Cover, SheetCells, read_cover, sheet_kind


def duplicate_of(file: InboxFile, originals: Mapping[str, Original]) -> Original | None:
    """The loaded file with the same bytes, if any (empty files are rejected, never duplicates)."""
    return originals.get(file.sha256) if file.size > 0 else None


# --- town workbooks -----------------------------------------------------------------------


@dataclass(frozen=True)
class TownMonth:
    town_code: str
    month: date
    submission_date: date


def town_and_month(file_name: str, cover: Cover, towns: dict[str, str], file_date: date) -> TownMonth | Rejection:
    """The town and month a workbook reports, and its submission date.

    A cover field that is filled decides (docs/inputs.md, "Which town and month"): one naming
    no town or month rejects the file, whatever the file name says; one that disagrees with
    the file name is a conflict. An empty cover field leaves it to the file name. The
    submission date is the cover's 填报日期, else `file_date` (the file's own date).
    """
    cover_town = (resolve_town(cover.town, towns) or find_town_in_name(cover.town, towns)) if cover.town else None
    cover_month = find_month(cover.month) if cover.month else None
    if cover.town and cover_town is None:
        return Rejection("town_unresolved")
    if cover.month and cover_month is None:
        return Rejection("month_unresolved")
    name_town = find_town_in_name(file_name, towns)
    name_month = find_month(file_name)
    if (cover_town and name_town and cover_town != name_town) or (
        cover_month and name_month and cover_month != name_month
    ):
        return Rejection("cover_conflict")
    town, month = cover_town or name_town, cover_month or name_month
    if town is None:
        return Rejection("town_unresolved")
    if month is None:
        return Rejection("month_unresolved")
    submitted = parse_cover_date(cover.submitted) if cover.submitted else None
    return TownMonth(town, month, submitted or file_date)


def recognised_sheets(sheets: list[SheetCells], contract: Contract) -> dict[str, list[SheetCells]]:
    """Sheet kind -> the visible sheets whose names name it (hidden sheets are never read)."""
    recognised: dict[str, list[SheetCells]] = {}
    for sheet in sheets:
        kind = sheet_kind(sheet.name, contract) if sheet.visible else None
        if kind:
            recognised.setdefault(kind, []).append(sheet)
    return recognised


@dataclass(frozen=True)
class TownWorkbook:
    """A workbook to load: its town and month, and its recognised sheets by kind."""

    reports: TownMonth
    sheets: Mapping[str, list[SheetCells]]


def classify_workbook(
    file_name: str, file_date: date, sheets: list[SheetCells], contract: Contract, towns: dict[str, str]
) -> TownWorkbook | Rejection:
    recognised = recognised_sheets(sheets, contract)
    if not recognised:  # not a progress workbook at all, whatever its name says
        return Rejection("no_known_sheet")
    reports = town_and_month(file_name, read_cover(sheets, contract), towns, file_date)
    if isinstance(reports, Rejection):
        return reports
    return TownWorkbook(reports, recognised)


# --- registries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryExport:
    registry: str  # the registry kind of the contract
    export_date: date


def classify_registry(file_name: str, size: int, contract: Contract) -> RegistryExport | Rejection:
    """A registry export by its name `<名册>_<YYYYMMDD>`; a name naming neither is of no known kind."""
    registry, export = parse_registry_name(file_name, contract)
    if registry is None or export is None:
        return Rejection("bad_registry_name", kind="unknown")
    if size == 0:
        return Rejection("zero_bytes")
    return RegistryExport(registry, export)
