"""The loader's work on a second core: chunks made ahead in a thread (pipelines/ingest/ahead.py)
and Parquet files written by a background thread (pipelines/ingest/store.py) — the same
results, in the same order, and failures raised where the loader would have met them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.ingest.ahead import made_ahead
from pipelines.ingest.store import ParquetStore, batch_prefix, remove_unrecorded


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
    store = ParquetStore(tmp_path / "raw", "2026-12-05T14:00:00+00:00")
    for start in range(0, 300, 100):
        store.append("registry_elderly", "export-1", pl.DataFrame({"row_number": list(range(start, start + 100))}))
    store.write_batch("town_pairings", pl.DataFrame({"file_id": ["w1", "w1", "w2"], "row_number": [7, 8, 7]}))
    store.write_batch("town_pairings", pl.DataFrame({"file_id": ["w3"], "row_number": [9]}))
    written = store.finish([("registry_elderly", "export-1"), ("registry_tekun", "export-2")])

    assert pq.read_table(written["registry_elderly"][0])["row_number"].to_pylist() == list(range(300))
    assert [path.name for path in written["town_pairings"]] == [
        "batch-2026_12_05T14_00_00_00_00-00000.parquet", "batch-2026_12_05T14_00_00_00_00-00001.parquet"]
    assert pq.read_table(written["town_pairings"][0]).to_pydict() == {"file_id": ["w1", "w1", "w2"],
                                                                      "row_number": [7, 8, 7]}
    assert pq.read_table(written["registry_tekun"][0]).num_rows == 0  # an export without rows: an empty file


def test_a_parquet_write_that_fails_in_the_background_fails_the_loader(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "town_pairings").write_text("a file where the table's folder should be")
    store = ParquetStore(raw, "r1")
    store.write_batch("town_pairings", pl.DataFrame({"file_id": ["w1"], "row_number": [1]}))
    with pytest.raises(FileExistsError):
        store.finish([])


def test_parquet_a_failed_run_left_is_removed_and_recorded_files_kept(tmp_path: Path):
    raw = tmp_path / "raw"
    kept, left = [], []
    for table, name, recorded in [
        ("registry_elderly", "export-1", True),  # an export of a recorded file
        ("registry_elderly", "export-9", False),  # an export a failed run wrote
        ("town_pairings", "w1", True),  # a workbook's sheet, as runs before the batches wrote them
        ("town_pairings", "w9", False),
        ("town_pairings", batch_prefix("run-1") + "00000", True),
        ("town_pairings", batch_prefix("run-1") + "00001", True),
        ("town_pairings", batch_prefix("run-2") + "00000", False),  # a failed run's batch
        ("town_funds", batch_prefix("run-12") + "00000", False),  # not run-1's, though it starts alike
    ]:
        path = raw / table / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"row_number": [1]}).write_parquet(path)
        (kept if recorded else left).append(path)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.files (file_id VARCHAR, refresh_id VARCHAR)")
    con.execute("INSERT INTO raw.files VALUES ('export-1', 'run-0'), ('w1', 'run-0'), ('w2', 'run-1')")

    assert sorted(remove_unrecorded(con, raw)) == sorted(left)
    assert all(path.exists() for path in kept) and not any(path.exists() for path in left)


def test_nested_stages_stop_together_when_the_caller_stops():
    def numbers():
        yield from range(1_000)

    doubled = (number * 2 for number in made_ahead(numbers()))
    with pytest.raises(RuntimeError):
        for item in made_ahead(doubled):
            if item == 4:
                raise RuntimeError("the caller failed")
    assert _threads_named("made-ahead") == 0
