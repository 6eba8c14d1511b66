"""Town workbooks read ahead in worker processes, handed out in inbox order.

Reading a workbook (open, classify, cut its sheets into raw-text rows) is CPU-bound and
independent of every other file, while the loader's own process is busy checking rows and
reading registries; so worker processes read the next few workbooks while it works. Only
the reading moves: what is kept, superseded or reported stays in the loader, in inbox order,
so a refresh gives the same result with or without workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from pipelines.contract import Contract
from pipelines.ingest.classify import TownMonth, classify_workbook
from pipelines.ingest.inbox import InboxFile
from pipelines.ingest.read import SheetRows, open_workbook, read_sheets
from pipelines.ingest.results import Rejection

# Below this many workbooks starting workers (≈1 s each: a fresh interpreter) costs more than it saves.
MIN_WORKBOOKS_FOR_WORKERS = 16
# How far the workers read ahead, in workbook bytes (rows held in memory are ≈ 1.4× a file's
# size): registries come first in the inbox and keep the loader busy for most of a city's ingest,
# and a window of a few files left the workers idle through them and the loader waiting for
# the workbooks after (17 s of a city's ingest). 256 MB holds a city's 1,600 workbooks (119 MB).
READ_AHEAD_BYTES = 256 * 1024 * 1024
MIN_READ_AHEAD_PER_WORKER = 2


@dataclass(frozen=True)
class WorkbookRead:
    """A town workbook read and classified: the town and month it reports, and its sheets."""

    reports: TownMonth
    sheets: list[SheetRows]


def read_town_workbook(file: InboxFile, contract: Contract, in_scope_towns: dict[str, str],
                       refresh_id: str) -> WorkbookRead | Rejection:
    cells = open_workbook(file)
    if isinstance(cells, Rejection):
        return cells
    workbook = classify_workbook(file.file_name, file.modified_date_shanghai, cells, contract, in_scope_towns)
    if isinstance(workbook, Rejection):
        return workbook
    return WorkbookRead(workbook.reports, read_sheets(file.file_id, workbook, contract, refresh_id))


_worker_args: tuple[Contract, dict[str, str], str] | None = None


def _start_worker(contract: Contract, in_scope_towns: dict[str, str], refresh_id: str) -> None:
    global _worker_args
    _worker_args = (contract, in_scope_towns, refresh_id)


def _read_in_worker(file: InboxFile) -> WorkbookRead | Rejection:
    return read_town_workbook(file, *_worker_args)


def read_workers(workbooks: int) -> int:
    """Worker processes for this many workbooks: one per core, none for a handful."""
    return 0 if workbooks < MIN_WORKBOOKS_FOR_WORKERS else max(1, os.cpu_count() or 1)


class WorkbookReader:
    """`read(file)` for the inbox's workbooks in their order, read ahead by `workers`
    processes (0: read in this process when asked). A workbook never asked for (a duplicate
    of an earlier file) is dropped when a later one is asked for."""

    def __init__(self, workbooks: Sequence[InboxFile], contract: Contract, in_scope_towns: dict[str, str],
                 refresh_id: str, workers: int) -> None:
        self._args = (contract, in_scope_towns, refresh_id)
        self._queue = list(workbooks)
        self._next = 0
        self._in_flight: dict[str, Future] = {}
        self._pool = None
        if workers:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=self._args)
            self._min_ahead = workers * MIN_READ_AHEAD_PER_WORKER
            self._ahead_bytes = READ_AHEAD_BYTES
            self._fill()

    def __enter__(self) -> WorkbookReader:
        return self

    def __exit__(self, *_exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _fill(self) -> None:
        in_flight_bytes = sum(f.size for f in self._queue[:self._next])
        while self._next < len(self._queue):
            file = self._queue[self._next]
            if len(self._in_flight) >= self._min_ahead and in_flight_bytes + file.size > self._ahead_bytes:
                break
            in_flight_bytes += file.size
            self._in_flight[file.file_id] = self._pool.submit(_read_in_worker, file)
            self._next += 1

    def read(self, file: InboxFile) -> WorkbookRead | Rejection:
        if self._pool is None:
            return read_town_workbook(file, *self._args)
        position = next(i for i, queued in enumerate(self._queue) if queued.file_id == file.file_id)
        for skipped in self._queue[:position]:
            future = self._in_flight.pop(skipped.file_id, None)
            if future is not None:
                future.cancel()
        del self._queue[:position]
        self._next = max(self._next - position, 0)
        self._fill()  # submits `file` if it was beyond the window
        future = self._in_flight.pop(file.file_id)
        del self._queue[0]
        self._next -= 1
        self._fill()
        return future.result()
