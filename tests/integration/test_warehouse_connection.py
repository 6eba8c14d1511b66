"""The writer connection to the working database after a refresh was killed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.resources import WarehouseResource


def _created_database_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "made.duckdb"
    duckdb.connect(str(path)).close()
    return path.read_bytes()


def test_a_database_cut_off_while_being_created_is_set_aside_and_made_again(tmp_path: Path) -> None:
    """A refresh killed while DuckDB wrote a new file's headers leaves a file DuckDB cannot open;
    it holds nothing, so the next refresh sets it aside and starts a new one."""
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    work_db = warehouse / "work.duckdb"
    work_db.write_bytes(_created_database_bytes(tmp_path)[:4096])
    with pytest.raises(duckdb.IOException, match="Could not read enough bytes"):
        duckdb.connect(str(work_db))
    with WarehouseResource(warehouse_dir=str(warehouse)).connect() as con:
        assert con.execute("SELECT 42").fetchone() == (42,)
    assert (warehouse / "work.duckdb.unfinished").stat().st_size == 4096


def test_a_database_with_data_is_never_set_aside(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    work_db = warehouse / "work.duckdb"
    with duckdb.connect(str(work_db)) as con:
        con.execute("CREATE TABLE kept AS SELECT 1 AS x")
    with WarehouseResource(warehouse_dir=str(warehouse)).connect() as con:
        assert con.execute("SELECT x FROM kept").fetchone() == (1,)
    assert not (warehouse / "work.duckdb.unfinished").exists()
