"""The Dagster event log of dagster.yaml (pipelines/event_log.py): what it writes is Dagster's history."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.event_log import LocalEventLogStorage
from pipelines.refresh import ensure_dagster_home


@dg.asset
def counted() -> int:
    return 1


@dg.asset_check(asset=counted)
def counted_is_one() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    ensure_dagster_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_projects_instance_uses_it_under_dagster_home(home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, LocalEventLogStorage)
        dg.materialize([counted], instance=instance)
    assert list((home / "history" / "runs").glob("*.db"))


def test_another_instance_reads_what_a_writer_with_open_connections_wrote(home: Path) -> None:
    with dg.DagsterInstance.get() as writer:
        run = dg.materialize([counted, counted_is_one], instance=writer)
        # the writer's connections are still open (no checkpoint yet): a reader, as the UI is, sees it all
        with dg.DagsterInstance.get() as reader:
            assert reader.get_latest_materialization_event(dg.AssetKey("counted")).run_id == run.run_id
            check = reader.event_log_storage.get_latest_asset_check_execution_by_key(
                [dg.AssetCheckKey(dg.AssetKey("counted"), "counted_is_one")])
            assert next(iter(check.values())).run_id == run.run_id
            written = [event.dagster_event_type for event in writer.all_logs(run.run_id)]
            assert [event.dagster_event_type for event in reader.all_logs(run.run_id)] == written
            assert dg.DagsterEventType.RUN_SUCCESS in written


def test_a_watcher_sees_events_written_while_the_run_goes_on(home: Path) -> None:
    """The UI's live run view: Dagster's file watcher would miss writes kept in the WAL."""
    with dg.DagsterInstance.get() as writer, dg.DagsterInstance.get() as watcher:
        seen: list[str] = []

        def on_event(entry, _cursor) -> None:
            seen.append(entry.user_message)

        def write(message: str) -> None:
            writer.event_log_storage.store_event(dg.EventLogEntry(
                error_info=None, level="INFO", user_message=message, run_id="a-running-run",
                timestamp=time.time()))

        write("run started")  # the run's file exists before the UI opens the run
        watcher.watch_event_logs("a-running-run", None, on_event)
        for message in ("model 1 of 250 built", "model 2 of 250 built"):
            write(message)
            deadline = time.monotonic() + 10
            while message not in seen and time.monotonic() < deadline:
                time.sleep(0.05)
        watcher.end_watch_event_logs("a-running-run", on_event)
        assert seen == ["run started", "model 1 of 250 built", "model 2 of 250 built"]


def test_wiping_the_history_closes_the_open_files_first(home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        run = dg.materialize([counted], instance=instance)
        instance.wipe()
        assert not (home / "history" / "runs" / f"{run.run_id}.db").exists()
        assert instance.all_logs(run.run_id) == []  # an engine kept open would still read the deleted file
        second = dg.materialize([counted], instance=instance)  # writes after a wipe go to new files
        assert instance.get_latest_materialization_event(dg.AssetKey("counted")).run_id == second.run_id
