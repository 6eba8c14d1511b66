"""The loader's work on a second core: chunks made ahead in a thread (pipelines/ingest/ahead.py)
and Parquet files written by a background thread (pipelines/ingest/store.py) — the same
results, in the same order, and failures raised where the loader would have met them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.ingest.ahead import made_ahead
from pipelines.ingest.store import ParquetStore


def _threads_named(name: str) -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == name)


def test_items_made_ahead_come_in_order_and_are_made_in_another_thread():
    made_by: list[str] = []

    def items():
        for number in range(50):
            made_by.append(threading.current_thread().name)
            yield number

    assert list(made_ahead(items())) == list(range(50))
    assert set(made_by) == {"made-ahead"}
    assert _threads_named("made-ahead") == 0


def test_an_item_is_made_while_the_caller_works_on_the_one_before():
    made_at: list[float] = []

    def items():
        for number in range(3):
            made_at.append(time.perf_counter())
            yield number

    used_at = []
    for _ in made_ahead(items()):
        used_at.append(time.perf_counter())
        time.sleep(0.2)
    assert made_at[1] < used_at[0] + 0.15  # the second was made during the first's 0.2 s


def test_a_failure_while_making_an_item_is_raised_where_that_item_would_come():
    def items():
        yield 1
        yield 2
        raise ValueError("chunk 3 cannot be read")

    got = []
    with pytest.raises(ValueError, match="chunk 3"):
        for item in made_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_caller_that_stops_early_stops_the_thread():
    made = []

    def items():
        for number in range(1_000):
            made.append(number)
            yield number

    with pytest.raises(RuntimeError, match="the caller failed"):
        for item in made_ahead(items()):
            if item == 2:
                raise RuntimeError("the caller failed")
    assert _threads_named("made-ahead") == 0
    assert len(made) < 10  # at most a few ahead, not the whole iterator


def test_parquet_written_in_the_background_holds_every_row_in_order(tmp_path: Path):
    store = ParquetStore(tmp_path / "raw")
    for start in range(0, 300, 100):
        store.append("registry_elderly", "export-1", pl.DataFrame({"row_number": list(range(start, start + 100))}))
    store.write("town_pairings", "workbook-1", pl.DataFrame({"row_number": [7, 8]}))
    written = store.finish([("registry_elderly", "export-1"), ("registry_tekun", "export-2")])

    assert pq.read_table(written["registry_elderly"][0])["row_number"].to_pylist() == list(range(300))
    assert pq.read_table(written["town_pairings"][0])["row_number"].to_pylist() == [7, 8]
    assert pq.read_table(written["registry_tekun"][0]).num_rows == 0  # an export without rows: an empty file


def test_a_parquet_write_that_fails_in_the_background_fails_the_loader(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "town_pairings").write_text("a file where the table's folder should be")
    store = ParquetStore(raw)
    store.write("town_pairings", "workbook-1", pl.DataFrame({"row_number": [1]}))
    with pytest.raises(FileExistsError):
        store.finish([])
