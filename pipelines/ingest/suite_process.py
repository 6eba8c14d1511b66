"""The expectation suites run in a process of their own, started when a refresh starts.

Great Expectations takes seconds to import and validates on pandas, holding the interpreter
lock: in the loader's process both queued behind reading and parsing the files. In a process
started with the refresh, the import happens while the refresh imports its definitions, and a
validation runs on the other core while the loader's threads read and parse the next rows.
The results are the same SuiteRunner's (pipelines/ingest/suites.py); the rows go through a pipe.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

import polars as pl

from pipelines.ingest.suites import Failure, SuiteColumns
from pipelines.long_lived import loading_long_lived_objects

# How long a process asked to stop may take to end before it is killed.
_STOP_SECONDS = 10


def _serve(connection: Connection) -> None:
    """The process: one SuiteRunner, a validation per request, until told to stop."""
    with loading_long_lived_objects():
        from pipelines.ingest.suites import SuiteRunner

        runner = SuiteRunner()
    while True:
        request = connection.recv()
        if request is None:
            return
        table, frame = request
        try:
            connection.send(("failures", runner.validate(table, frame)))
        except Exception:  # the loader reports it, with where it came from
            connection.send(("error", traceback.format_exc()))


class SuiteProcess(SuiteColumns):
    """`validate(table, frame)` as SuiteRunner.validate, in a process started now."""

    def __init__(self) -> None:
        super().__init__()
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True, name="ruralcare-suites")
        self._process.start()
        child.close()
        self._used = self._stopped = False

    def validate(self, table: str, frame: pl.DataFrame) -> list[Failure]:
        self._used = True
        try:
            self._connection.send((table, frame))
            kind, result = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"the validation process of {table} ended (exit code {self._process.exitcode}); "
                               "see the log above for why, then refresh again") from exc
        if kind == "error":
            raise RuntimeError(f"validating {table} failed in the validation process:\n{result}")
        return result

    def stop(self) -> None:
        """Ask the process to end, without waiting: it tears its interpreter down (≈ 0.7 s with GX
        and pandas loaded, its libraries' semaphores released on the way) while the caller goes
        on. One never used is killed at once (it may still be importing)."""
        if self._stopped:
            return
        self._stopped = True
        if self._used:
            with contextlib.suppress(OSError):  # it ended already
                self._connection.send(None)
                return
        self._process.kill()

    def close(self) -> None:
        """Stop the process and wait until it has ended (killed if it takes over _STOP_SECONDS)."""
        self.stop()
        self._process.join(_STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._connection.close()


_ahead: SuiteProcess | None = None


@contextmanager
def suites_ahead() -> Iterator[None]:
    """Within the block, loading validates in a SuiteProcess started on entry (`taken_ahead`);
    stopped when the loading is done (`release_ahead`), and waited for at the end of the block."""
    global _ahead
    process = _ahead = SuiteProcess()
    try:
        yield
    finally:
        release_ahead()
        process.close()


def taken_ahead() -> SuiteProcess | None:
    """The SuiteProcess started by `suites_ahead`, if one runs."""
    return _ahead


def release_ahead() -> None:
    """Ask the process started ahead to stop (its memory is not needed after the loading), without
    waiting for it to end (`suites_ahead` does, at the end of its block)."""
    global _ahead
    if _ahead is not None:
        process, _ahead = _ahead, None
        process.stop()
