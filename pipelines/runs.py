"""What ties the Dagster runs of one refresh together."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

REFRESH_ID_TAG = "ruralcare/refresh_id"



def refresh_id_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> str:
    """The CLI tags every stage run of a refresh with one id; a UI or scheduled run is its own refresh."""
    return context.run.tags.get(REFRESH_ID_TAG) or context.run_id


REFRESH_STARTED_TAG = "ruralcare/refresh_started"
# Wall seconds of a refresh's earlier stages, for the status record the publish stage writes.
STAGE_SECONDS_TAG = "ruralcare/stage_seconds"


def refresh_started_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> datetime:
    tagged = context.run.tags.get(REFRESH_STARTED_TAG)
    if tagged:
        return datetime.fromisoformat(tagged)
    stats = context.instance.get_run_stats(context.run_id)
    return datetime.fromtimestamp(stats.start_time or 0, tz=timezone.utc)


def stage_seconds_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> dict[str, float]:
    return json.loads(context.run.tags.get(STAGE_SECONDS_TAG) or "{}")


RUN_PID_TAG = "ruralcare/pid"
RUN_WORK_DB_TAG = "ruralcare/work_db"


def process_tags(work_db: str) -> dict[str, str]:
    """Tags of an in-process run: which process runs it and which working database it writes."""
    import os

    return {RUN_PID_TAG: str(os.getpid()), RUN_WORK_DB_TAG: work_db}


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    refresh_id: str
    started: datetime
    pid: int
    work_db: str | None


def _run_process(instance: dg.DagsterInstance, record) -> tuple[int, float] | None:
    """The pid of the process running a run, and a moment by which that process had started."""
    run = record.dagster_run
    tagged = run.tags.get(RUN_PID_TAG)
    if tagged:
        return int(tagged), record.create_timestamp.timestamp()
    # Run workers and the in-process executor announce their pid in an engine event.
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        pid = getattr(data, "metadata", {}).get("pid") if data else None
        if pid is not None:
            return int(pid.value), entry.timestamp
    return None


def find_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    """Runs Dagster still counts as in progress whose process on this machine is gone."""
    from pipelines.processes import process_alive

    dead = []
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING])
    )
    for record in records:
        process = _run_process(instance, record)
        if process is None or process_alive(process[0], started_by=process[1]):
            continue
        run = record.dagster_run
        tagged_start = run.tags.get(REFRESH_STARTED_TAG)
        started = (datetime.fromisoformat(tagged_start) if tagged_start
                   else datetime.fromtimestamp(record.start_time or record.create_timestamp.timestamp(),
                                               tz=timezone.utc))
        dead.append(DeadRun(run.run_id, run.tags.get(REFRESH_ID_TAG) or run.run_id, started,
                            process[0], run.tags.get(RUN_WORK_DB_TAG)))
    return dead


def fail_dead_runs(instance: dg.DagsterInstance, default_work_db: str | None = None) -> list[DeadRun]:
    """Mark runs whose process died (killed, machine restarted) as failed, and say so in meta.refresh.

    A dead run left STARTED counts against the one-run-at-a-time queue forever: the nightly
    schedule and the inbox sensor would queue runs that never start.
    """
    import duckdb

    from pipelines.publish.refresh_log import record_refresh
    from pipelines.resources import connect_when_free

    dead = find_dead_runs(instance)
    for run in dead:
        message = (f"the refresh process (pid {run.pid}) stopped without finishing (killed or crashed); "
                   "marked failed by ruralcare, the next refresh starts from the last published state")
        dagster_run = instance.get_run_by_id(run.run_id)
        if dagster_run is not None and not dagster_run.is_finished:
            instance.report_run_failed(dagster_run, message)
        work_db = run.work_db or default_work_db
        if work_db and Path(work_db).parent.is_dir():
            try:
                con = connect_when_free(Path(work_db), patience_seconds=0)
            except duckdb.IOException:
                continue  # another refresh holds the database: the run is failed in Dagster all the same
            try:
                record_refresh(con, run.refresh_id, started=run.started, status="failed", error=message)
            finally:
                con.close()
    return dead
