"""The expectation suites run in a process of their own, started when a refresh starts.

Great Expectations takes seconds to import and validates on pandas, holding the interpreter
lock: in the loader's process both queued behind reading and parsing the files. In a process
started with the refresh, the import happens while the refresh imports its definitions, and a
validation runs on the other core while the loader's threads read and parse the next rows.
The results are the same SuiteRunner's (pipelines/ingest/suites.py); the rows go through a pipe.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

import polars as pl

from pipelines.ingest.suites import Failure, SuiteColumns

def _serve(connection: Connection) -> None:
    """The process: one SuiteRunner, a validation per request, until it is killed."""
    from pipelines.ingest.suites import SuiteRunner

    runner = SuiteRunner()
    while True:
        table, frame = connection.recv()
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

    def validate(self, table: str, frame: pl.DataFrame) -> list[Failure]:
        try:
            self._connection.send((table, frame))
            kind, result = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"the validation process of {table} ended (exit code {self._process.exitcode}); "
                               "see the log above for why, then refresh again") from exc
        if kind == "error":
            raise RuntimeError(f"validating {table} failed in the validation process:\n{result}")
        return result

    def close(self) -> None:
        """Stop the process at once. It has nothing to finish (each validation's answer is back before
        the next is asked), and an interpreter with GX and pandas loaded takes ≈ 0.7 s to tear
        itself down, which the loading would wait for."""
        self._process.kill()
        self._process.join()
        self._connection.close()


_ahead: SuiteProcess | None = None


@contextmanager
def suites_ahead() -> Iterator[None]:
    """Within the block, loading validates in a SuiteProcess started on entry (`taken_ahead`);
    stopped at the end of the block, or earlier when the loading is done (`release_ahead`)."""
    global _ahead
    _ahead = SuiteProcess()
    try:
        yield
    finally:
        release_ahead()


def taken_ahead() -> SuiteProcess | None:
    """The SuiteProcess started by `suites_ahead`, if one runs."""
    return _ahead


def release_ahead() -> None:
    """Stop the process started ahead (its memory is not needed after the loading)."""
    global _ahead
    if _ahead is not None:
        process, _ahead = _ahead, None
        process.close()
