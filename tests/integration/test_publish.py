"""Publishing: analysts keep reading during a refresh, and a failed refresh changes nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.refresh import run_refresh
from pipelines.resources import WarehouseResource

RURALCARE = str(Path(sys.executable).parent / "ruralcare")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def warehouse_for(root: Path, sources: Path | None = None) -> WarehouseResource:
    sources = sources or root / "inbox"
    (sources / "towns").mkdir(parents=True, exist_ok=True)
    (sources / "registries").mkdir(parents=True, exist_ok=True)
    return WarehouseResource(sources_dir=str(sources), warehouse_dir=str(root / "warehouse"),
                             work_db=str(root / "warehouse" / "work.duckdb"))


def refresh_count(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from meta.refresh").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def published_once(tmp_path_factory: pytest.TempPathFactory) -> WarehouseResource:
    warehouse = warehouse_for(tmp_path_factory.mktemp("published"))
    assert run_refresh(warehouse).success
    return warehouse


def test_published_file_is_readable_and_work_db_private(published_once: WarehouseResource) -> None:
    settings = published_once.settings()
    assert settings.published_db.exists()
    assert (settings.work_db.stat().st_mode & 0o777) == 0o600
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        schemas = {row[0] for row in con.sql("select distinct schema_name from duckdb_tables()").fetchall()}
        assert {"marts", "meta"} <= schemas
        assert "raw" not in schemas and "staging" not in schemas and "intermediate" not in schemas
        assert con.sql("select status from meta.refresh").fetchall() == [("success",)]
        # dbt's descriptions travel with every table, the one made from a view (fct_person_monthly) too
        undescribed_tables = con.execute(
            "select table_name from duckdb_tables() where schema_name in ('marts', 'quality') and comment is null"
        ).fetchall()
        undescribed_columns = con.execute(
            "select table_name, column_name from duckdb_columns() "
            "where schema_name in ('marts', 'quality') and comment is null"
        ).fetchall()
        assert undescribed_tables == [] and undescribed_columns == []
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0] > 10
    finally:
        con.close()


def test_reader_keeps_old_data_during_a_refresh(published_once: WarehouseResource) -> None:
    settings = published_once.settings()
    reader = duckdb.connect(str(settings.published_db), read_only=True)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            try:
                seen.append(reader.execute("select count(*) from meta.refresh").fetchone()[0])
            except BaseException as error:  # any failure of the reader fails the test
                errors.append(error)
                return
            time.sleep(0.05)

    before = refresh_count_via(reader)
    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        done = subprocess.run(
            [RURALCARE, "refresh", "--sources", str(settings.sources_dir), "--warehouse", str(settings.warehouse_dir),
             "--rebuild"],
            capture_output=True, text=True, timeout=600, check=False,
        )
    finally:
        stop.set()
        thread.join()
    reader.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert not errors
    assert len(seen) > 10 and set(seen) == {before}
    assert refresh_count(settings.published_db) == before + 1


def refresh_count_via(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from meta.refresh").fetchone()[0]


def test_failure_in_the_last_step_leaves_the_published_file(
    published_once: WarehouseResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = published_once.settings()
    before = digest(settings.published_db)

    def refuse(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr("pipelines.publish.database.os.replace", refuse)
    result = run_refresh(published_once, rebuild=True)
    assert not result.success and result.failed_stage == "publish"
    assert digest(settings.published_db) == before
    assert not list(settings.published_db.parent.glob(".ruralcare.duckdb.*"))
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        status = con.execute("select status, error from meta.refresh where refresh_id = ?", [result.refresh_id]).fetchone()
    finally:
        con.close()
    assert status[0] == "failed" and "disk full" in status[1]

    monkeypatch.undo()
    assert run_refresh(published_once, rebuild=True).success
    assert digest(settings.published_db) != before


def test_refresh_killed_mid_way_leaves_the_published_file(
    published_once: WarehouseResource, small_clean_sources: Path, copy_inbox, tmp_path: Path
) -> None:
    """The warehouse published from an empty inbox; a refresh that loads two months is killed."""
    inbox = copy_inbox(small_clean_sources, tmp_path / "inbox")
    settings = published_once.settings()
    before = digest(settings.published_db)

    process = subprocess.Popen(
        [RURALCARE, "refresh", "--sources", str(inbox), "--warehouse", str(settings.warehouse_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    time.sleep(6)  # inside ingestion or the dbt build: either way before the publish
    assert process.poll() is None, "the refresh finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert digest(settings.published_db) == before

    again = subprocess.run(
        [RURALCARE, "refresh", "--sources", str(inbox), "--warehouse", str(settings.warehouse_dir)],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert digest(settings.published_db) != before
    assert not list(settings.published_db.parent.glob(".ruralcare.duckdb.*"))
