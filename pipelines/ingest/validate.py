"""Validate: parse raw-text rows into typed rows, run the expectation suites, store the checked rows.

Rows of many files are validated together (one suite run per sheet kind, per registry batch),
since a suite run costs far more than a row.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl

from pipelines.contract import Contract, SourceSpec
from pipelines.ingest.checks import Checked, check_rows
from pipelines.ingest.divisions import Divisions
from pipelines.ingest.findings import Finding
from pipelines.ingest.parse import parse_rows
from pipelines.ingest.store import ParquetStore
from pipelines.ingest.suite_process import SuiteProcess, taken_ahead
from pipelines.ingest.suites import SuiteRunner

# Rows not yet validated are held up to about this many per sheet kind or registry (bounded
# memory whatever the inbox's size; validation runs once per batch, not once per file).
BATCH_ROWS = 400_000


def start_loading_suites() -> Future[SuiteRunner]:
    """Build the suite runner in a background thread: importing Great Expectations takes
    seconds, in which the files are read."""
    pool = ThreadPoolExecutor(max_workers=1)
    loading = pool.submit(SuiteRunner)
    pool.shutdown(wait=False)  # the thread ends once the runner is built
    return loading


class _Held:
    """Frames of one source kind gathered over many files."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []
        self.rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        self.frames.append(frame)
        self.rows += frame.height

    def take(self) -> pl.DataFrame | None:
        frames, self.frames, self.rows = self.frames, [], 0
        return pl.concat(frames, how="diagonal_relaxed") if frames else None


class Validation:
    """Rows in, checked rows out to the Parquet store, findings gathered until `finish`.

    A town sheet's rows are held, then each sheet kind's rows of many workbooks are parsed and
    validated at once, whenever BATCH_ROWS are held and at `finish` (every check is within one
    file, so where a batch ends does not matter). A registry's rows are parsed chunk by chunk
    and validated whenever BATCH_ROWS are held.
    """

    def __init__(self, contract: Contract, divisions: Divisions, pii_key: bytes, file_names: dict[str, str],
                 parquet: ParquetStore) -> None:
        self._suites: Future[SuiteRunner | SuiteProcess] | None = None  # loading starts with the first rows
        self._contract = contract
        self._divisions = divisions
        self._pii_key = pii_key
        self._file_names = file_names  # file_id -> file name, for the findings' messages
        self._parquet = parquet
        self._sheet_rows: dict[str, _Held] = {}  # by sheet kind: raw-text rows
        self._registry_rows: dict[str, _Held] = {}  # by registry kind: parsed rows
        self._findings: list[Finding] = []
        # The thread that hands held rows to the suites and stores them (`registries_read`, `finish`)
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suites-wait")
        self._registries_checked: list[Future[list[Finding]]] = []
        self._suites_in_use = threading.Lock()  # one validation at a time, in either thread

    def add_sheet_rows(self, source: SourceSpec, rows: pl.DataFrame) -> None:
        self._rows_coming()
        held = self._sheet_rows.setdefault(source.kind, _Held())
        held.add(rows)
        if held.rows >= BATCH_ROWS:
            self._check_sheets(source)

    def parse_registry_rows(self, source: SourceSpec, rows: pl.DataFrame) -> pl.DataFrame:
        """A registry chunk's typed rows (touches nothing of this object's state: the loader
        parses the next chunk in a background thread while the current one is checked)."""
        return parse_rows(rows, source, self._contract, self._divisions, self._pii_key)

    def add_registry_rows(self, source: SourceSpec, parsed: pl.DataFrame) -> None:
        """A registry chunk's parsed rows (`parse_registry_rows`)."""
        self._rows_coming()
        held = self._registry_rows.setdefault(source.kind, _Held())
        held.add(parsed)
        if held.rows >= BATCH_ROWS:
            self._check_registry(source)

    def _rows_coming(self) -> None:
        """Great Expectations is imported only when there are rows to validate: in the process a
        refresh started ahead (pipelines/ingest/suite_process.py), else in this one."""
        if self._suites is None:
            ahead = taken_ahead()
            if ahead is None:
                self._suites = start_loading_suites()
            else:
                self._suites = Future()
                self._suites.set_result(ahead)

    def registries_read(self) -> None:
        """No more registry rows are coming: the held ones go to the suites now, in the checker
        thread, while the workbooks are still being taken in."""
        self._registries_checked += [self._checker.submit(self._store_registry, self._contract.registries[kind], parsed)
                                     for kind, parsed in _taken(self._registry_rows)]

    def finish(self) -> list[Finding]:
        """Validate everything still held; every finding of the rows, in the order of the kinds.

        The held registry rows are parsed already: the checker thread hands them to the suites
        (from `registries_read` on) while this one parses the held sheet rows, which that thread
        then checks and stores too, one kind after another."""
        self.registries_read()
        with self._checker as checker:
            sheets = []
            for kind, held in _taken(self._sheet_rows):
                source = self._contract.sheets[kind]
                sheets.append(checker.submit(self._store_sheets, source, self._parse(held, source)))
            for checked in [*sheets, *self._registries_checked]:
                self._findings.extend(checked.result())
        return list(self._findings)

    def _check_sheets(self, source: SourceSpec) -> None:
        held = self._sheet_rows[source.kind].take()
        if held is not None:
            self._findings.extend(self._store_sheets(source, self._parse(held, source)))

    def _check_registry(self, source: SourceSpec) -> None:
        parsed = self._registry_rows[source.kind].take()
        if parsed is not None:
            self._findings.extend(self._store_registry(source, parsed))

    def _parse(self, held: pl.DataFrame, source: SourceSpec) -> pl.DataFrame:
        return parse_rows(held, source, self._contract, self._divisions, self._pii_key)

    def _store_sheets(self, source: SourceSpec, parsed: pl.DataFrame) -> list[Finding]:
        with self._suites_in_use:
            checked = self._checked(parsed, source)
            self._parquet.write_batch(source.table, checked.rows)
        return checked.findings

    def _store_registry(self, source: SourceSpec, parsed: pl.DataFrame) -> list[Finding]:
        with self._suites_in_use:
            checked = self._checked(parsed, source)
            for (file_id,), rows in checked.rows.group_by(["file_id"], maintain_order=True):
                self._parquet.append(source.table, file_id, rows)
        return checked.findings

    def _checked(self, parsed: pl.DataFrame, source: SourceSpec) -> Checked:
        """The checked rows (in the order the files came) and their findings."""
        return check_rows(parsed, source, self._suites.result(), self._file_names, self._divisions.towns)


def _taken(held_by_kind: dict[str, _Held]) -> list[tuple[str, pl.DataFrame]]:
    """Every kind's held rows, taken."""
    return [(kind, rows) for kind, held in held_by_kind.items() if (rows := held.take()) is not None]
