"""The refresh as an operator meets it: every option end to end, failures that clean up after
themselves, and a refresh killed hard that does not block the nightly queue."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.ingest.suite_process import SuiteProcess
from pipelines.processes import child_processes
from pipelines.refresh import ensure_dagster_home, run_refresh
from pipelines.resources import WarehouseResource
from pipelines.settings import BUILTIN_DIVISIONS, PROJECT_ROOT

BIN = Path(sys.executable).parent
RURALCARE = str(BIN / "ruralcare")


def _holders_of(path: Path) -> list[int]:
    """Processes with the file open (any of their file descriptors points at it)."""
    holders = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) == str(path) for fd in (proc / "fd").iterdir()):
                holders.append(int(proc.name))
        except OSError:
            continue
    return holders


def _refresh_rows(work_db: Path) -> list[tuple]:
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        return con.sql("select refresh_id, status, error from meta.refresh order by started").fetchall()
    finally:
        con.close()


def test_refresh_with_every_option(refreshed_with_every_option) -> None:
    """--sources, --warehouse, --divisions, --plan and --strict together (conftest.py)."""
    warehouse = refreshed_with_every_option.settings.warehouse_dir
    con = duckdb.connect(str(warehouse / "ruralcare.duckdb"), read_only=True)
    try:
        towns, months = con.execute(
            "select count(distinct town_code), count(distinct month) from marts.kpi_town_monthly").fetchone()
    finally:
        con.close()
    assert (towns, months) == (11, 2)
    assert [row[1] for row in _refresh_rows(warehouse / "work.duckdb")] == ["success"]
    # The status record, readable without the working database: every stage timed.
    record = json.loads((warehouse / "status" / "last_refresh.json").read_text(encoding="utf-8"))
    assert record["status"] == "success" and record["error"] is None
    assert list(record["stage_seconds"]) == ["ingest", "transform+quality", "publish"]
    assert all(seconds > 0 for seconds in record["stage_seconds"].values())
    status = subprocess.run([RURALCARE, "status", "--warehouse", str(warehouse)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"Last refresh {record['refresh_id']}: success" in status.stdout


def test_a_failing_dbt_step_stops_dbt_and_records_the_failure(
    small_clean_sources: Path, copy_inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that fails while dbt still runs: dbt is stopped, the failure recorded, nothing left."""
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    real_stream = DbtCliInvocation.stream
    abandoned = []  # dagster-dbt's reader, left mid-stream by the failure

    def stream_then_fail(self, *args, **kwargs):
        events = real_stream(self, *args, **kwargs)
        abandoned.append(events)
        for event in events:
            yield event
            assert self.process.poll() is None, "dbt finished too early for this test"
            raise RuntimeError("forced failure while dbt runs")

    monkeypatch.setattr(DbtCliInvocation, "stream", stream_then_fail)
    # The rows were validated in the process the refresh started ahead (pipelines/ingest/suite_process.py).
    validated_ahead, validate = [], SuiteProcess.validate
    monkeypatch.setattr(SuiteProcess, "validate",
                        lambda process, table, rows: validated_ahead.append(table) or validate(process, table, rows))
    inbox = copy_inbox(small_clean_sources, tmp_path / "inbox")
    warehouse = WarehouseResource(sources_dir=str(inbox), warehouse_dir=str(tmp_path / "wh"))
    children_before = set(child_processes(os.getpid()))

    result = run_refresh(warehouse)

    assert not result.success and result.failed_stage == "transform"
    assert "forced failure while dbt runs" in result.error
    assert set(child_processes(os.getpid())) <= children_before, "a dbt process outlived its step"
    # Read to its end (dbt is gone): closed mid-line by the garbage collector, dagster-dbt's
    # reader would yield again and Python would report "generator ignored GeneratorExit".
    with contextlib.suppress(DagsterDbtCliRuntimeError):
        for _ in abandoned[0]:
            pass
    assert {"town_facilities", "registry_elderly"} <= set(validated_ahead)
    work_db = warehouse.settings().work_db
    assert _holders_of(work_db) == []
    rows = _refresh_rows(work_db)
    assert [(row[0], row[1]) for row in rows] == [(result.refresh_id, "failed")]
    assert rows[0][2].startswith("transform: ")


def test_a_failing_refresh_prints_one_clear_message(tmp_path: Path) -> None:
    """dbt fails on bad input: exit 1, stage, cause and log named, no traceback, no process left.
    The inbox is empty: the broken division list alone fails the build."""
    inbox = tmp_path / "inbox"
    for folder in ("towns", "registries"):
        (inbox / folder).mkdir(parents=True)
    divisions = tmp_path / "broken_divisions.csv"
    lines = BUILTIN_DIVISIONS.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    broken = lines[1].split(",")
    broken[header.index("is_rural_scope")] = "maybe"  # not a boolean: the staging cast fails
    divisions.write_text("\n".join([lines[0], ",".join(broken), *lines[2:]]) + "\n", encoding="utf-8")
    warehouse = tmp_path / "wh"
    done = subprocess.run(
        [RURALCARE, "refresh", "--sources", str(inbox), "--warehouse", str(warehouse),
         "--divisions", str(divisions)],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "DAGSTER_HOME": str(_dagster_home(tmp_path))},
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Refresh failed in stage transform" in done.stderr
    assert str(warehouse / "logs" / "refresh-latest.log") in done.stderr
    assert _holders_of((warehouse / "work.duckdb").resolve()) == []
    assert [row[1] for row in _refresh_rows(warehouse / "work.duckdb")] == ["failed"]
    assert not (warehouse / "ruralcare.duckdb").exists()
    # `ruralcare status` says it failed, where and why, and exits 1.
    record = json.loads((warehouse / "status" / "last_refresh.json").read_text(encoding="utf-8"))
    assert record["status"] == "failed" and record["error"].startswith("transform: ")
    assert list(record["stage_seconds"]) == ["ingest", "transform+quality"]
    status = subprocess.run([RURALCARE, "status", "--warehouse", str(warehouse)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"Last refresh {record['refresh_id']}: failed" in status.stdout
    assert "error: transform: " in status.stdout and "No published database" in status.stdout


def _dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    ensure_dagster_home(home)
    return home


def _runs(instance: dg.DagsterInstance, **tags: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(tags=tags)) if tags else instance.get_runs())


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _stop_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _processes_with_env(name: str, value: str) -> list[int]:
    needle = f"{name}={value}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if needle in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_a_refresh_killed_hard_does_not_block_the_nightly_queue(small_clean_sources: Path, copy_inbox, tmp_path: Path) -> None:
    inbox = copy_inbox(small_clean_sources, tmp_path / "inbox")
    home = _dagster_home(tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(home), "RURALCARE_SOURCES": str(inbox),
           "RURALCARE_WAREHOUSE": str(tmp_path / "wh")}
    instance = dg.DagsterInstance.from_config(str(home))
    refresh = subprocess.Popen([RURALCARE, "refresh"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        transform = _wait_for(
            lambda: [r for r in _runs(instance, **{"ruralcare/stage": "transform+quality"})
                     if r.status == dg.DagsterRunStatus.STARTED],
            600, "the transform stage to start")[0]
        time.sleep(3)  # dbt is at work
        _stop_group(refresh)
        assert instance.get_run_by_id(transform.run_id).status == dg.DagsterRunStatus.STARTED

        launched = subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-m", "pipelines.definitions", "-j", "nightly_refresh"],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert launched.returncode == 0, launched.stderr[-2000:]
        nightly = _wait_for(lambda: [r for r in _runs(instance) if r.job_name == "nightly_refresh"],
                            60, "the nightly run to be queued")[0]
        assert nightly.status == dg.DagsterRunStatus.QUEUED

        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-m", "pipelines.definitions"],
                                  env=env, cwd=PROJECT_ROOT, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda: instance.get_run_by_id(nightly.run_id).status not in
                  (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED), 300,
                  "the daemon to start the queued nightly run")
    finally:
        _stop_group(refresh)
        if daemon is not None:
            _stop_group(daemon)
        for pid in _processes_with_env("DAGSTER_HOME", str(home)):
            os.kill(pid, signal.SIGKILL)

    dead = instance.get_run_by_id(transform.run_id)
    assert dead.status == dg.DagsterRunStatus.FAILURE
    rows = _refresh_rows(tmp_path / "wh" / "work.duckdb")
    killed = [row for row in rows if row[0] == transform.tags["ruralcare/refresh_id"]]
    assert killed and killed[0][1] == "failed" and "stopped without finishing" in killed[0][2]


def test_the_next_refresh_fails_a_dead_run_itself(small_clean_sources: Path, copy_inbox, tmp_path: Path) -> None:
    """Without a daemon: a refresh killed hard is marked failed by the next refresh, which runs."""
    inbox = copy_inbox(small_clean_sources, tmp_path / "inbox")
    home = _dagster_home(tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    args = [RURALCARE, "refresh", "--sources", str(inbox), "--warehouse", str(tmp_path / "wh")]
    instance = dg.DagsterInstance.from_config(str(home))
    killed = subprocess.Popen(args, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ingest = _wait_for(
            lambda: [r for r in _runs(instance, **{"ruralcare/stage": "ingest"})
                     if r.status == dg.DagsterRunStatus.STARTED], 300, "the ingest stage to start")[0]
    finally:
        _stop_group(killed)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert instance.get_run_by_id(ingest.run_id).status == dg.DagsterRunStatus.FAILURE
    statuses = [row[1] for row in _refresh_rows(tmp_path / "wh" / "work.duckdb")]
    assert statuses == ["failed", "success"]
