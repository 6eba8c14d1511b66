"""What one ingest run found out about each new file and sheet: the rows of `raw.files` and
`raw.sheets`, built once per file and never filled in later."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from pipelines.ingest.inbox import InboxFile


@dataclass(frozen=True)
class Rejection:
    """Why a file is not loaded (a reason code of `inbox.REASONS`).

    `kind` overrides the file's kind when the file is not what its folder says (a registry
    whose name names no registry is of kind `unknown`).
    """

    reason: str
    kind: str | None = None


@dataclass(frozen=True)
class Original:
    """What a duplicate shares with the first loaded file of the same bytes."""

    town_code: str | None
    month: date | None
    submission_date: date | None


@dataclass(frozen=True)
class SheetResult:
    """One recognised sheet of a town workbook: loaded, or rejected with its reason."""

    file_id: str
    kind: str
    name: str
    status: str  # loaded | rejected
    reason_zh: str | None = None
    reason_en: str | None = None
    header_row: int | None = None
    rows: int = 0
    column: str | None = None  # the missing column(s) a rejection names


@dataclass(frozen=True)
class FileResult:
    """One new inbox file: its status (loaded | duplicate | rejected | superseded) and what it holds."""

    file: InboxFile
    status: str
    kind: str
    reason: str | None = None
    registry: str | None = None
    town_code: str | None = None
    month: date | None = None
    export_date: date | None = None
    submission_date: date | None = None
    rows: int = 0
    sheets: tuple[SheetResult, ...] = ()

    @classmethod
    def rejected(cls, file: InboxFile, rejection: Rejection) -> FileResult:
        """Recorded with its reason only: nothing the file names is taken as resolved."""
        return cls(file, "rejected", rejection.kind or file.kind, rejection.reason,
                   submission_date=file.modified_date_shanghai)

    @classmethod
    def duplicate(cls, file: InboxFile, original: Original) -> FileResult:
        return cls(file, "duplicate", file.kind, "duplicate", town_code=original.town_code, month=original.month,
                   submission_date=original.submission_date or file.modified_date_shanghai)

    @classmethod
    def loaded_workbook(cls, file: InboxFile, town_code: str, month: date, submission_date: date,
                        sheets: tuple[SheetResult, ...]) -> FileResult:
        return cls(file, "loaded", file.kind, town_code=town_code, month=month, submission_date=submission_date,
                   rows=sum(s.rows for s in sheets), sheets=sheets)

    @classmethod
    def loaded_registry(cls, file: InboxFile, registry: str, export_date: date, rows: int) -> FileResult:
        return cls(file, "loaded", file.kind, registry=registry, export_date=export_date,
                   submission_date=file.modified_date_shanghai, rows=rows)

    def superseded(self) -> FileResult:
        return replace(self, status="superseded", reason="superseded")

    @property
    def original(self) -> Original:
        """What a later copy of these bytes shares with this file."""
        return Original(self.town_code, self.month, self.submission_date)
