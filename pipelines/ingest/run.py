"""One ingest run: new inbox files -> raw Parquet files -> DuckDB `raw.*` tables.

Incremental and idempotent: a file already seen (same path and bytes) is skipped, the same
bytes again are a duplicate, a later workbook for a town and month supersedes the earlier
one. Nothing is deleted: rejected files move to `<sources>/rejected/` with a reason file.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract import Contract, SourceSpec, create_raw_tables, load_contract, raw_tables
from pipelines.ingest import registry as registry_io
from pipelines.ingest import workbook as wb
from pipelines.ingest.checks import check_rows
from pipelines.ingest.divisions import Divisions
from pipelines.ingest.findings import Finding, Location, file_finding, findings_frame
from pipelines.ingest.inbox import REASONS, WORKBOOK_SUFFIXES, InboxFile, discover, unreadable_reason
from pipelines.ingest.parse import multiplier_columns, parse_rows, polars_schema
from pipelines.ingest.suites import SuiteRunner
from pipelines.ingest.text import find_month, find_town_in_name, month_end, parse_cover_date, resolve_town
from pipelines.settings import Settings

Progress = Callable[[str, int, int], None]


@dataclass
class IngestSummary:
    files_by_status: dict[str, int] = field(default_factory=dict)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    files: list[tuple[str, str, str | None]] = field(default_factory=list)  # (relative_path, status, reason code)


# Registry rows parsed but not yet validated are held up to this many (bounded memory
# whatever the export's size; validation runs once per batch, not once per file).
REGISTRY_BATCH_ROWS = 400_000


@dataclass
class FileRecord:
    file: InboxFile
    status: str = "loaded"
    reason: str | None = None
    kind: str = ""
    registry: str | None = None
    town_code: str | None = None
    month: date | None = None
    export_date: date | None = None
    submission_date: date | None = None
    rows: int = 0

    def __post_init__(self) -> None:
        self.kind = self.kind or self.file.kind
        self.submission_date = self.submission_date or self.file.modified_date_shanghai

    def reject(self, reason: str) -> None:
        """Rejected: recorded with its reason only (nothing it names is taken as resolved)."""
        self.status, self.reason = "rejected", reason
        self.registry = self.town_code = self.month = self.export_date = None
        self.submission_date = self.file.modified_date_shanghai


@dataclass
class SheetRecord:
    file_id: str
    kind: str
    name: str
    status: str = "loaded"
    reason_zh: str | None = None
    reason_en: str | None = None
    header_row: int | None = None
    rows: int = 0


@dataclass
class _Batch:
    """Rows of one source kind gathered over many files: parsed once and validated once."""

    frames: list[pl.DataFrame] = field(default_factory=list)
    rows: int = 0

    def add(self, frame: pl.DataFrame) -> None:
        self.frames.append(frame)
        self.rows += frame.height

    def take(self) -> pl.DataFrame | None:
        frames, self.frames, self.rows = self.frames, [], 0
        return pl.concat(frames, how="diagonal_relaxed") if frames else None


@dataclass(frozen=True)
class _Original:
    """What a duplicate shares with the first file of the same bytes."""

    town_code: str | None
    month: date | None
    submission_date: date | None


class _Run:
    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection, refresh_id: str, progress: Progress | None):
        self.settings, self.con, self.refresh_id = settings, con, refresh_id
        self.progress = progress or (lambda *_: None)
        self.contract: Contract = load_contract()
        self.divisions = Divisions.load(settings.divisions_file)
        self.key = settings.pii_key()
        self._runner: Future[SuiteRunner] | None = None
        self.records: list[FileRecord] = []
        self.loaded_bytes: dict[str, _Original] = {}  # sha256 of files loaded (now or before): later copies are duplicates
        self.sheets: list[SheetRecord] = []
        self.findings: list[Finding] = []
        self.written: dict[str, list[Path]] = defaultdict(list)
        self.town_batches: dict[str, _Batch] = defaultdict(_Batch)
        self.registry_batches: dict[str, _Batch] = defaultdict(_Batch)
        self.registry_writers: dict[str, tuple[pq.ParquetWriter, Path, pa.Schema]] = {}
        self.file_names: dict[str, str] = {}
        self.loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)

    @property
    def runner(self) -> SuiteRunner:
        self.warm_up_validation()
        return self._runner.result()

    def warm_up_validation(self) -> None:
        """Start loading Great Expectations (seconds of imports) while the files are read."""
        if self._runner is None:
            pool = ThreadPoolExecutor(max_workers=1)
            self._runner = pool.submit(SuiteRunner)
            pool.shutdown(wait=False)  # the pool ends once the runner is built

    # --- files -----------------------------------------------------------------------

    def new_files(self) -> list[FileRecord]:
        seen = {r[0] for r in self.con.execute("SELECT file_id FROM raw.files").fetchall()}
        self.loaded_bytes = {
            sha: _Original(town, month, submitted) for sha, town, month, submitted in self.con.execute(
                "SELECT sha256, town_code, month, submission_date FROM raw.files "
                "WHERE status IN ('loaded', 'superseded') ORDER BY modified_at DESC, file_name DESC").fetchall()
        }
        fresh = [f for f in discover(self.settings.sources_dir) if f.file_id not in seen]
        fresh.sort(key=lambda f: (f.modified_at, f.file_name, f.relative_path))
        return [FileRecord(file) for file in fresh]

    def mark_duplicate(self, record: FileRecord) -> bool:
        """The same bytes as a file loaded before (earliest mtime, then name, wins): it shares
        the original's town, month and submission date."""
        original = self.loaded_bytes.get(record.file.sha256) if record.file.size > 0 else None
        if original is None:
            return False
        record.status, record.reason = "duplicate", "duplicate"
        record.town_code, record.month = original.town_code, original.month
        record.submission_date = original.submission_date or record.submission_date
        return True

    def remember_loaded(self, record: FileRecord) -> None:
        self.loaded_bytes[record.file.sha256] = _Original(record.town_code, record.month, record.submission_date)

    # --- town workbooks ----------------------------------------------------------------

    def read_town_workbook(self, record: FileRecord) -> None:
        file = record.file
        if file.path.suffix.lower() not in WORKBOOK_SUFFIXES:
            record.reject("zero_bytes" if file.size == 0 else "not_workbook")
            return
        reason = unreadable_reason(file.path, file.size)
        if reason:
            record.reject(reason)
            return
        try:
            cells = wb.read_workbook(file.path)
        except wb.UnreadableWorkbook:
            record.reject("corrupt")
            return
        recognised: dict[str, list[wb.SheetCells]] = defaultdict(list)
        for sheet in cells:
            kind = wb.sheet_kind(sheet.name, self.contract) if sheet.visible else None
            if kind:
                recognised[kind].append(sheet)
        if not recognised:  # not a progress workbook at all, whatever its name says
            record.reject("no_known_sheet")
            return
        towns = self.divisions.in_scope_towns
        cover = wb.read_cover(cells, self.contract)
        # A cover field that is filled decides (inputs.md: "from the cover fields when present"):
        # one naming no town or month rejects the file, whatever the file name says.
        cover_town = (resolve_town(cover.town, towns) or find_town_in_name(cover.town, towns)) if cover.town else None
        cover_month = find_month(cover.month) if cover.month else None
        if cover.town and cover_town is None:
            record.reject("town_unresolved")
            return
        if cover.month and cover_month is None:
            record.reject("month_unresolved")
            return
        name_town = find_town_in_name(file.file_name, towns)
        name_month = find_month(file.file_name)
        if (cover_town and name_town and cover_town != name_town) or (
            cover_month and name_month and cover_month != name_month
        ):
            record.reject("cover_conflict")
            return
        record.town_code, record.month = cover_town or name_town, cover_month or name_month
        if record.town_code is None:
            record.reject("town_unresolved")
            return
        if record.month is None:
            record.reject("month_unresolved")
            return
        submitted = parse_cover_date(cover.submitted) if cover.submitted else None
        record.submission_date = submitted or file.modified_date_shanghai

        location = Location(file.file_id, file.file_name, record.town_code, record.month)
        for kind, sheets in recognised.items():
            source = self.contract.sheets[kind]
            if len(sheets) > 1:
                for sheet in sheets:
                    header = wb.find_header(sheet.head(wb.HEADER_SEARCH_ROWS + 1), source, self.contract)
                    self._reject_sheet(location, kind, sheet.name, header.last_row if header else None,
                                       f"同一工作簿中有{len(sheets)}个「{source.name}」工作表，无法确定使用哪一个，请只保留一个",
                                       f"{len(sheets)} visible sheets of kind {source.name}; keep only one")
                continue
            self.read_sheet(record, source, sheets[0], location)

    def _reject_sheet(self, location: Location, kind: str, name: str, header_row: int | None,
                      why_zh: str, why_en: str, column: str | None = None) -> None:
        self.sheets.append(SheetRecord(location.file_id, kind, name, "rejected", why_zh, why_en, header_row))
        sheet_location = Location(location.file_id, location.source_file, location.town_code, location.month, name)
        self.findings.append(file_finding("DQ10_sheet_rejected", sheet_location, why_zh, why_en, column))

    def read_sheet(self, record: FileRecord, source: SourceSpec, sheet: wb.SheetCells, location: Location) -> None:
        header = wb.find_header(sheet.head(wb.HEADER_SEARCH_ROWS + 1), source, self.contract)
        if header is None:
            self._reject_sheet(location, source.kind, sheet.name, None,
                               "找不到表头行，请使用模板的列名", "no header row found; use the template's column names")
            return
        missing = wb.missing_required(header, source)
        if missing:
            self._reject_sheet(location, source.kind, sheet.name, header.last_row,
                               f"缺少必需的列「{'、'.join(missing)}」，请补上该列",
                               f"required column {', '.join(missing)} is missing; add it", "、".join(missing))
            return
        rows = wb.data_rows(sheet, header, source, self.contract)
        frame = rows.with_columns(
            file_id=pl.lit(record.file.file_id), sheet_name=pl.lit(sheet.name),
            refresh_id=pl.lit(self.refresh_id), town_code=pl.lit(record.town_code),
            month=pl.lit(record.month, pl.Date), _as_of=pl.lit(month_end(record.month), pl.Date),
            **multiplier_columns(source, header.units),
        )
        self.town_batches[source.kind].add(frame)
        self.sheets.append(SheetRecord(record.file.file_id, source.kind, sheet.name, "loaded",
                                       header_row=header.last_row, rows=frame.height))
        record.rows += frame.height

    def check_town_batches(self) -> None:
        """Parse and validate each sheet kind's rows of all new workbooks at once; one Parquet per file."""
        for kind, batch in self.town_batches.items():
            source = self.contract.sheets[kind]
            frame = batch.take()
            parsed = parse_rows(frame, source, self.contract, self.divisions, self.key)
            checked = check_rows(parsed, source, self.runner, self.file_names, self.divisions.towns)
            self.findings.extend(checked.findings)
            for (file_id,), part in checked.rows.group_by(["file_id"], maintain_order=True):
                self._write_parquet(source.table, file_id, part)

    # --- registries --------------------------------------------------------------------

    def read_registry(self, record: FileRecord) -> None:
        file = record.file
        kind, export = registry_io.parse_registry_name(file.file_name, self.contract)
        if kind is None or export is None:
            record.reject("bad_registry_name")
            record.kind = "unknown"
            return
        record.registry, record.export_date = kind, export
        if file.size == 0:
            record.reject("zero_bytes")
            return
        source = self.contract.registries[kind]
        suffix = file.path.suffix.lower()
        try:
            if suffix in WORKBOOK_SUFFIXES:
                reason = unreadable_reason(file.path, file.size)
                if reason:
                    record.reject(reason)
                    return
                header, frame = registry_io.read_workbook_registry(file.path, source, self.contract)
                chunks = iter([frame])
            else:
                header, chunks = registry_io.read_csv_chunks(file.path, source, self.contract)
        except wb.UnreadableWorkbook:
            record.reject("corrupt")
            return
        except registry_io.RegistryHeaderError:
            record.reject("registry_header")
            return
        batch = self.registry_batches[kind]
        for chunk in chunks:
            frame = chunk.with_columns(
                file_id=pl.lit(file.file_id), refresh_id=pl.lit(self.refresh_id),
                export_date=pl.lit(export, pl.Date), town_code=pl.lit(None, pl.String),
                _as_of=pl.lit(export, pl.Date), **multiplier_columns(source, header.units),
            )
            batch.add(parse_rows(frame, source, self.contract, self.divisions, self.key))
            record.rows += frame.height
            self.progress(f"{file.file_name}: {record.rows} rows", record.rows, 0)
            if batch.rows >= REGISTRY_BATCH_ROWS:
                self.check_registry_batch(kind)

    def check_registry_batch(self, kind: str) -> None:
        """Validate the held rows of one registry; append each file's rows to its Parquet file."""
        source = self.contract.registries[kind]
        frame = self.registry_batches[kind].take()
        if frame is None:
            return
        checked = check_rows(frame, source, self.runner, self.file_names, self.divisions.towns)
        self.findings.extend(checked.findings)
        for (file_id,), part in checked.rows.group_by(["file_id"], maintain_order=True):
            table = part.to_arrow()
            if file_id not in self.registry_writers:
                path = self._parquet_path(source.table, file_id)
                self.registry_writers[file_id] = (pq.ParquetWriter(path, table.schema), path, table.schema)
            writer, _, schema = self.registry_writers[file_id]
            writer.write_table(table.cast(schema))

    def finish_registries(self) -> None:
        """Validate what is still held, close every file's Parquet (an empty one for a file of no rows)."""
        for kind in list(self.registry_batches):
            self.check_registry_batch(kind)
        for record in self.records:
            if record.kind != "registry" or record.status != "loaded":
                continue
            table = self.contract.registries[record.registry].table
            opened = self.registry_writers.pop(record.file.file_id, None)
            if opened is None:
                self._write_parquet(table, record.file.file_id, pl.DataFrame(schema=polars_schema(raw_tables()[table])))
            else:
                writer, path, _ = opened
                writer.close()
                self.written[table].append(path)

    # --- storage -----------------------------------------------------------------------

    def _parquet_path(self, table: str, file_id: str) -> Path:
        folder = self.settings.raw_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{file_id}.parquet"

    def _write_parquet(self, table: str, file_id: str, frame: pl.DataFrame) -> None:
        path = self._parquet_path(table, file_id)
        frame.write_parquet(path)
        self.written[table].append(path)

    def supersede(self) -> None:
        """The latest workbook per town and month wins (submission date, mtime, file name)."""
        existing = self.con.execute(
            "SELECT file_id, town_code, month, submission_date, modified_at, file_name FROM raw.files "
            "WHERE kind = 'town_workbook' AND status = 'loaded'").fetchall()
        candidates = defaultdict(list)
        for file_id, town, month, submitted, modified, name in existing:
            candidates[(town, month)].append(((submitted, modified, name), file_id, None))
        for record in self.records:
            if record.kind == "town_workbook" and record.status == "loaded":
                key = (record.submission_date, record.file.modified_at, record.file.file_name)
                candidates[(record.town_code, record.month)].append((key, record.file.file_id, record))
        self.superseded_existing: list[str] = []
        for group in candidates.values():
            group.sort(key=lambda item: item[0], reverse=True)
            for _, file_id, record in group[1:]:
                if record is None:
                    self.superseded_existing.append(file_id)
                else:
                    record.status, record.reason = "superseded", "superseded"

    def store(self) -> None:
        tables = raw_tables()
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for table, paths in self.written.items():
                columns = ", ".join(f'"{name}"' for name, _ in tables[table])
                typed = ", ".join(f'CAST("{name}" AS {dtype}) AS "{name}"' for name, dtype in tables[table])
                files = "[" + ", ".join(f"'{p.as_posix()}'" for p in paths) + "]"
                con.execute(f"INSERT INTO raw.{table} ({columns}) SELECT {typed} FROM read_parquet({files}, union_by_name = true)")
            for file_id in self.superseded_existing:
                zh, en = REASONS["superseded"]
                con.execute("UPDATE raw.files SET status = 'superseded', reason_zh = ?, reason_en = ? WHERE file_id = ?",
                            [zh, en, file_id])
            files = self._files_frame()
            if files.height:
                con.register("_new_files", files.to_arrow())
                con.execute("INSERT INTO raw.files BY NAME SELECT * FROM _new_files")
                con.unregister("_new_files")
            if self.sheets:
                sheet_rows = [(s.file_id, s.kind, s.name, s.status, s.reason_zh, s.reason_en, s.header_row, s.rows)
                              for s in self.sheets]
                sheets = pl.DataFrame(sheet_rows, schema=polars_schema(raw_tables()["sheets"]), orient="row")
                con.register("_new_sheets", sheets.to_arrow())
                con.execute("INSERT INTO raw.sheets BY NAME SELECT * FROM _new_sheets")
                con.unregister("_new_sheets")
            findings = findings_frame(self.findings, self.refresh_id)
            if findings.height:
                con.register("_new_findings", findings.to_arrow())
                con.execute("INSERT INTO raw.ingest_findings BY NAME SELECT * FROM _new_findings")
                con.unregister("_new_findings")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    def _files_frame(self) -> pl.DataFrame:
        rows = []
        for r in self.records:
            zh, en = REASONS[r.reason] if r.reason else (None, None)
            rows.append({
                "file_id": r.file.file_id, "file_name": r.file.file_name, "relative_path": r.file.relative_path,
                "sha256": r.file.sha256, "kind": r.kind, "registry": r.registry, "town_code": r.town_code,
                "month": r.month, "export_date": r.export_date, "submission_date": r.submission_date,
                "modified_at": r.file.modified_at, "status": r.status, "reason_zh": zh, "reason_en": en,
                "rows": r.rows, "loaded_at": self.loaded_at, "refresh_id": self.refresh_id,
            })
        schema = polars_schema(raw_tables()["files"])
        return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)

    def set_aside_rejected(self) -> None:
        for record in self.records:
            if record.status != "rejected":
                continue
            target = self.settings.rejected_dir / record.file.relative_path
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target = target.with_name(f"{record.file.file_id}_{target.name}")
            shutil.move(str(record.file.path), target)
            zh, en = REASONS[record.reason]
            target.with_name(target.name + ".reason.txt").write_text(
                f"{record.file.relative_path}\n{zh}\n{en}\n", encoding="utf-8")


def run_ingest(
    settings: Settings, con: duckdb.DuckDBPyConnection, refresh_id: str, progress: Progress | None = None
) -> IngestSummary:
    """Load every new inbox file into the raw layer; returns what happened."""
    started = time.perf_counter()
    create_raw_tables(con)
    con.execute("SET enable_progress_bar = false")
    run = _Run(settings, con, refresh_id, progress)
    run.records = run.new_files()
    if run.records:
        run.warm_up_validation()
    run.file_names = {r.file.file_id: r.file.file_name for r in run.records}
    total = len(run.records)
    for index, record in enumerate(run.records, 1):
        run.progress(record.file.relative_path, index, total)
        if run.mark_duplicate(record):
            continue
        if record.kind == "town_workbook":
            run.read_town_workbook(record)
        else:
            run.read_registry(record)
        if record.status == "loaded":
            run.remember_loaded(record)
        if record.status == "rejected":
            location = Location(record.file.file_id, record.file.file_name, record.town_code, record.month)
            zh, en = REASONS[record.reason]
            run.findings.append(file_finding("DQ09_file_rejected", location, zh, en))
    run.check_town_batches()
    run.finish_registries()
    run.supersede()
    run.store()
    run.set_aside_rejected()
    return _summary(run, started)


def _summary(run: _Run, started: float) -> IngestSummary:
    rows_by_table: dict[str, int] = {}
    for table, paths in run.written.items():
        rows_by_table[table] = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    return IngestSummary(
        files_by_status=dict(Counter(r.status for r in run.records)),
        rows_by_table=rows_by_table,
        findings_by_rule=dict(Counter(f.rule_id for f in run.findings)),
        elapsed_seconds=time.perf_counter() - started,
        files=[(r.file.relative_path, r.status, r.reason) for r in run.records],
    )
