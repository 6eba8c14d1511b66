"""One ingest run: new inbox files -> raw Parquet files -> DuckDB `raw.*` tables.

Incremental and idempotent: a file already seen (same path and bytes) is skipped, the same
bytes again are a duplicate, a later workbook for a town and month supersedes the earlier
one. Nothing is deleted: rejected files move to `<sources>/rejected/` with a reason file.

The steps, each in its own module: discover (what is new) -> classify (duplicate, registry
export, town workbook of which town and month, or rejected) -> read (raw-text rows) ->
validate (typed, checked, stored as Parquet) -> supersede -> store (one transaction).
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb
import pyarrow.parquet as pq

from pipelines.contract import Contract, create_raw_tables, load_contract, row_tables
from pipelines.ingest.ahead import made_ahead
from pipelines.ingest.classify import classify_registry, duplicate_of
from pipelines.ingest.discover import known_files, new_inbox_files
from pipelines.ingest.divisions import Divisions
from pipelines.ingest.findings import Finding, Location, file_finding
from pipelines.ingest.inbox import REASONS, InboxFile
from pipelines.ingest.person_key import release_hashing_database
from pipelines.ingest.prefetch import WorkbookReader, read_workers
from pipelines.ingest.read import open_registry, registry_rows
from pipelines.ingest.results import FileResult, Original, Rejection
from pipelines.ingest.suite_process import release_ahead
from pipelines.ingest.store import ParquetStore, read_rows_in_place, remove_unrecorded, set_aside_rejected, store
from pipelines.ingest.supersede import Submission, superseded
from pipelines.ingest.validate import Validation
from pipelines.settings import Settings

# (text, done, total): file `done` of `total` is `text`; total 0: `done` rows of a registry export read
Progress = Callable[[str, int, int], None]
# The rules the loader reports itself, outside the suites (docs/rules.md).
FILE_REJECTED = "DQ09_file_rejected"
SHEET_REJECTED = "DQ10_sheet_rejected"


@dataclass
class IngestSummary:
    files_by_status: dict[str, int] = field(default_factory=dict)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    files: list[tuple[str, str, str | None]] = field(default_factory=list)  # (relative_path, status, reason code)


def run_ingest(
    settings: Settings, con: duckdb.DuckDBPyConnection, refresh_id: str, progress: Progress | None = None
) -> IngestSummary:
    """Load every new inbox file into the raw layer; returns what happened."""
    summary = _load_new_files(settings, con, refresh_id, progress)
    release_ahead()
    # What the loading left (the hashing database's buffers, cycles of validated frames that no
    # automatic collection reaches while the refresh waits on dbt) is ≈ 1.2 GB after a city's
    # month: freed here, not carried through the dbt build beside dbt's own memory.
    release_hashing_database()
    gc.collect()
    return summary


def _load_new_files(
    settings: Settings, con: duckdb.DuckDBPyConnection, refresh_id: str, progress: Progress | None
) -> IngestSummary:
    started = time.perf_counter()
    if not settings.sources_dir.is_dir():
        # a mistyped inbox would otherwise publish a warehouse with nothing in it
        raise FileNotFoundError(f"the inbox {settings.sources_dir} does not exist: give the folder holding towns/ "
                                "and registries/ (--sources, or RURALCARE_SOURCES)")
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    progress = progress or (lambda *_: None)
    create_raw_tables(con)
    remove_unrecorded(con, settings.raw_dir)
    read_rows_in_place(con, settings.raw_dir, row_tables())
    con.execute("SET enable_progress_bar = false")

    known = known_files(con)
    inbox = new_inbox_files(settings.sources_dir, known, settings.inbox_hashes_file)
    if not inbox:
        return IngestSummary(elapsed_seconds=time.perf_counter() - started)
    contract, divisions = load_contract(), Divisions.load(settings.divisions_file)
    parquet = ParquetStore(settings.raw_dir, refresh_id)
    validation = Validation(contract, divisions, settings.pii_key(), {f.file_id: f.shown_name for f in inbox}, parquet)

    files: list[FileResult] = []
    originals = dict(known.originals)  # a file loaded now is the original of its later copies
    workbooks = [f for f in inbox if f.kind == "town_workbook"]
    with WorkbookReader(workbooks, contract, divisions.in_scope_towns, refresh_id,
                        read_workers(len(workbooks))) as reader:
        last_registry = max((index for index, file in enumerate(inbox, 1) if file.kind == "registry"), default=0)
        for index, file in enumerate(inbox, 1):
            progress(file.shown_path, index, len(inbox))
            result = ingest_file(file, originals, contract, reader, validation, refresh_id, progress)
            if result.status == "loaded":
                originals[file.sha256] = result.original
            files.append(result)
            if index == last_registry:
                validation.registries_read()
    row_findings = validation.finish()
    parquet_files = parquet.finish(
        (contract.registries[f.registry].table, f.file.file_id)
        for f in files if f.kind == "registry" and f.status == "loaded")

    new_workbooks = [submission(f) for f in files if f.kind == "town_workbook" and f.status == "loaded"]
    replaced = superseded(known.workbooks, new_workbooks)
    files = [f.superseded() if f.file.file_id in replaced else f for f in files]
    superseded_before = [w.file_id for w in known.workbooks if w.file_id in replaced]

    findings = [*rejection_findings(files), *row_findings]
    store(con, settings.raw_dir, parquet_files, superseded_before, files, findings, refresh_id, loaded_at)
    set_aside_rejected(settings.rejected_dir, files)
    return IngestSummary(
        files_by_status=dict(Counter(f.status for f in files)),
        rows_by_table={table: sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
                       for table, paths in parquet_files.items()},
        findings_by_rule=dict(Counter(f.rule_id for f in findings)),
        elapsed_seconds=time.perf_counter() - started,
        files=[(f.file.shown_path, f.status, f.reason) for f in files],
    )


def ingest_file(
    file: InboxFile, originals: Mapping[str, Original], contract: Contract, reader: WorkbookReader,
    validation: Validation, refresh_id: str, progress: Progress,
) -> FileResult:
    """Classify and read one file, handing its rows to validation."""
    original = duplicate_of(file, originals)
    if original is not None:
        return FileResult.duplicate(file, original)
    if file.kind == "town_workbook":
        return _ingest_workbook(file, contract, reader, validation)
    return _ingest_registry(file, contract, validation, refresh_id, progress)


def _ingest_workbook(file: InboxFile, contract: Contract, reader: WorkbookReader,
                     validation: Validation) -> FileResult:
    workbook = reader.read(file)
    if isinstance(workbook, Rejection):
        return FileResult.rejected(file, workbook)
    for sheet in workbook.sheets:
        if sheet.rows is not None:
            validation.add_sheet_rows(contract.sheets[sheet.sheet.kind], sheet.rows)
    reports = workbook.reports
    return FileResult.loaded_workbook(file, reports.town_code, reports.month, reports.submission_date,
                                      tuple(s.sheet for s in workbook.sheets))


def _ingest_registry(file: InboxFile, contract: Contract, validation: Validation, refresh_id: str,
                     progress: Progress) -> FileResult:
    export = classify_registry(file.file_name, file.size, contract)
    if isinstance(export, Rejection):
        return FileResult.rejected(file, export)
    source = contract.registries[export.registry]
    opened = open_registry(file, source, contract)
    if isinstance(opened, Rejection):
        return FileResult.rejected(file, opened)
    header, chunks = opened
    rows = 0
    # Three stages on two cores: reading the next chunks, parsing the next, checking this one.
    raw_chunks = made_ahead(registry_rows(file.file_id, export, source, header, chunks, refresh_id))
    parsed_chunks = (validation.parse_registry_rows(source, chunk) for chunk in raw_chunks)
    for chunk in made_ahead(parsed_chunks):
        validation.add_registry_rows(source, chunk)
        rows += chunk.height
        progress(f"{file.shown_name}: {rows:,} rows read", rows, 0)
    return FileResult.loaded_registry(file, export.registry, export.export_date, rows)


def submission(result: FileResult) -> Submission:
    return Submission(result.file.file_id, result.town_code, result.month, result.submission_date,
                      result.file.modified_at, result.file.shown_name)


def rejection_findings(files: list[FileResult]) -> list[Finding]:
    """A finding for each rejected file and each rejected sheet, saying why and what to do."""
    findings = []
    for result in files:
        file = result.file
        for sheet in result.sheets:
            if sheet.status == "rejected":
                where = Location(file.file_id, file.shown_name, result.town_code, result.month, sheet.name)
                findings.append(file_finding(SHEET_REJECTED, where, sheet.reason_zh, sheet.reason_en, sheet.column))
        if result.status == "rejected":
            zh, en = REASONS[result.reason]
            where = Location(file.file_id, file.shown_name, result.town_code, result.month)
            findings.append(file_finding(FILE_REJECTED, where, zh, en))
    return findings
