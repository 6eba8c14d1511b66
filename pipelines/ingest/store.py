"""Store: checked rows as Parquet files, then one DuckDB transaction for everything of a run;
rejected files moved aside with their reason."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract import polars_schema, raw_tables
from pipelines.ingest.findings import Finding, findings_frame
from pipelines.ingest.inbox import REASONS
from pipelines.ingest.results import FileResult


class ParquetStore:
    """The raw layer's rows as Parquet under `<raw_dir>/<table>/`.

    A registry export's rows arrive batch by batch and are appended to its own file,
    `<file_id>.parquet`, kept open until `finish` (bounded memory whatever its size). Town
    sheets' rows are validated many workbooks at a time, and each such batch is one file,
    `batch-<refresh id>-<n>.parquet` (a city month's 4,000 sheet files took 1.7 ms each to
    write, and every dbt scan of a town table opened them all). The raw views keep only rows of
    files recorded in `raw.files`, and `remove_unrecorded` deletes what a failed run left.
    Everything is encoded by one background thread, in order, while the loader goes on (Arrow
    and Polars release the GIL).
    """

    def __init__(self, raw_dir: Path, refresh_id: str) -> None:
        self._raw_dir = raw_dir
        self._batch_prefix = batch_prefix(refresh_id)
        self._batches: dict[str, int] = defaultdict(int)  # by table
        self._written: dict[str, list[Path]] = defaultdict(list)
        self._open: dict[str, tuple[pq.ParquetWriter, Path, pa.Schema]] = {}  # by file_id
        self._writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
        self._pending: list[Future[None]] = []

    def _path(self, table: str, name: str) -> Path:
        if not self._raw_dir.is_dir():
            # full ID numbers: the owner's only, as the working database (0600)
            self._raw_dir.mkdir(mode=0o700, parents=True)
        folder = self._raw_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{name}.parquet"

    def write_batch(self, table: str, frame: pl.DataFrame) -> None:
        """Rows of many source files (their `file_id` column says whose) as one file."""
        self._raise_failed_write()
        name = f"{self._batch_prefix}{self._batches[table]:05d}"
        self._batches[table] += 1
        self._pending.append(self._writer_thread.submit(self._write, table, name, frame))

    def _write(self, table: str, name: str, frame: pl.DataFrame) -> None:
        path = self._path(table, name)
        frame.write_parquet(path)
        self._written[table].append(path)

    def append(self, table: str, file_id: str, frame: pl.DataFrame) -> None:
        self._raise_failed_write()
        self._pending.append(self._writer_thread.submit(self._append, table, file_id, frame))

    def _append(self, table: str, file_id: str, frame: pl.DataFrame) -> None:
        rows = frame.to_arrow()
        if file_id not in self._open:
            path = self._path(table, file_id)
            self._open[file_id] = (pq.ParquetWriter(path, rows.schema), path, rows.schema)
        writer, _, schema = self._open[file_id]
        writer.write_table(rows.cast(schema))

    def _raise_failed_write(self) -> None:
        """A write that failed stops the loader at the next write, not only at `finish`."""
        pending = []
        for write in self._pending:
            if write.done():
                write.result()
            else:
                pending.append(write)
        self._pending = pending

    def finish(self, appended: Iterable[tuple[str, str]]) -> dict[str, list[Path]]:
        """Close the appended files, given as (table, file_id); a file that got no rows gets an
        empty Parquet. Returns every file written, by table."""
        self._writer_thread.shutdown(wait=True)
        for write in self._pending:
            write.result()
        self._pending = []
        for table, file_id in appended:
            opened = self._open.pop(file_id, None)
            if opened is None:
                self._write(table, file_id, pl.DataFrame(schema=polars_schema(raw_tables()[table])))
            else:
                writer, path, _ = opened
                writer.close()
                self._written[table].append(path)
        return {table: list(paths) for table, paths in self._written.items()}


BATCH_FILE = "batch-"


def batch_prefix(refresh_id: str) -> str:
    return f"{BATCH_FILE}{re.sub(r'[^0-9A-Za-z_.]', '_', refresh_id)}-"


def remove_unrecorded(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> list[Path]:
    """Delete the Parquet files a run left behind without recording them (it failed before its
    transaction): an export's file whose file_id, or a batch whose refresh, is not in
    `raw.files`. Their rows were never visible; a later load of the same source files would
    otherwise count them twice. Returns the files removed."""
    if not raw_dir.is_dir():
        return []
    file_ids, refreshes = set(), set()
    for file_id, refresh_id in con.execute("SELECT file_id, refresh_id FROM raw.files").fetchall():
        file_ids.add(file_id)
        refreshes.add(batch_prefix(refresh_id or ""))
    removed = []
    for path in raw_dir.glob("*/*.parquet"):
        name = path.name.removesuffix(".parquet")
        recorded = (name[:name.rfind("-") + 1] in refreshes) if name.startswith(BATCH_FILE) else name in file_ids
        if not recorded:
            path.unlink()
            removed.append(path)
    return removed


def store(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    parquet_files: Mapping[str, Sequence[Path]],
    superseded_before: Iterable[str],
    files: Sequence[FileResult],
    findings: Sequence[Finding],
    refresh_id: str,
    loaded_at: datetime,
) -> None:
    """One transaction: the new rows (their tables read the Parquet files in place), the files a
    new workbook supersedes, the new files and sheets, the findings. A failure leaves the raw
    layer as it was: rows of a file count only once the file is in `raw.files`."""
    con.execute("BEGIN TRANSACTION")
    try:
        read_rows_in_place(con, raw_dir, parquet_files)
        zh, en = REASONS["superseded"]
        for file_id in superseded_before:
            con.execute("UPDATE raw.files SET status = 'superseded', reason_zh = ?, reason_en = ? WHERE file_id = ?",
                        [zh, en, file_id])
        _insert(con, "files", files_frame(files, refresh_id, loaded_at))
        _insert(con, "sheets", sheets_frame(files))
        _insert(con, "ingest_findings", findings_frame(list(findings), refresh_id))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def read_rows_in_place(con: duckdb.DuckDBPyConnection, raw_dir: Path, tables: Iterable[str]) -> None:
    """Make each row table (`raw.town_*`, `raw.registry_*`) that has Parquet files a view over
    them, typed as the contract says, holding the rows of loaded files only (a run that failed
    before its transaction may have left files behind).

    Copying the rows into DuckDB took a tenth of a city's ingest (12 M rows, bench/bench_city.py);
    the views cost the build less than that. A view names its folder: a warehouse moved
    elsewhere is pointed at its own folder again by the next ingest."""
    columns = raw_tables()
    for table in tables:
        folder = raw_dir / table
        if not any(folder.glob("*.parquet")):
            continue
        files = (folder / "*.parquet").as_posix().replace("'", "''")
        # fetchall: a result left unfinished keeps the connection from registering frames (DuckDB 2)
        current = con.execute(
            "SELECT table_type, view_definition FROM information_schema.tables "
            "LEFT JOIN information_schema.views USING (table_schema, table_name) "
            "WHERE table_schema = 'raw' AND table_name = ?", [table]).fetchall()
        if current and current[0][0] == "VIEW" and files in current[0][1]:
            continue
        if current and current[0][0] == "BASE TABLE":
            con.execute(f"DROP TABLE raw.{table}")
        typed = ", ".join(f'CAST("{name}" AS {dtype}) AS "{name}"' for name, dtype in columns[table])
        con.execute(f"CREATE OR REPLACE VIEW raw.{table} AS SELECT {typed} "
                    f"FROM read_parquet('{files}', union_by_name = true) "
                    "WHERE file_id IN (SELECT file_id FROM raw.files)")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height:
        con.register("_new_rows", frame.to_arrow())
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _new_rows")
        con.unregister("_new_rows")


def files_frame(files: Sequence[FileResult], refresh_id: str, loaded_at: datetime) -> pl.DataFrame:
    """The `raw.files` rows."""
    rows = []
    for r in files:
        zh, en = REASONS[r.reason] if r.reason else (None, None)
        rows.append({
            "file_id": r.file.file_id, "file_name": r.file.shown_name, "relative_path": r.file.shown_path,
            "sha256": r.file.sha256, "kind": r.kind, "registry": r.registry, "town_code": r.town_code,
            "month": r.month, "export_date": r.export_date, "submission_date": r.submission_date,
            "modified_at": r.file.modified_at, "status": r.status, "reason_zh": zh, "reason_en": en,
            "rows": r.rows, "loaded_at": loaded_at, "refresh_id": refresh_id,
        })
    schema = polars_schema(raw_tables()["files"])
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def sheets_frame(files: Sequence[FileResult]) -> pl.DataFrame:
    """The `raw.sheets` rows: every recognised sheet of the new workbooks."""
    rows = [(s.file_id, s.kind, s.name, s.status, s.reason_zh, s.reason_en, s.header_row, s.rows)
            for f in files for s in f.sheets]
    schema = polars_schema(raw_tables()["sheets"])
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def set_aside_rejected(rejected_dir: Path, files: Sequence[FileResult]) -> None:
    """Move each rejected file to `rejected_dir` (same relative path) with a `.reason.txt` beside it."""
    for result in files:
        if result.status != "rejected":
            continue
        file = result.file
        target = rejected_dir / file.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target = target.with_name(f"{file.file_id}_{target.name}")
        shutil.move(str(file.path), target)
        zh, en = REASONS[result.reason]
        target.with_name(target.name + ".reason.txt").write_text(f"{file.relative_path}\n{zh}\n{en}\n", encoding="utf-8")
