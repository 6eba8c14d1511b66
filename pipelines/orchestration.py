"""The nightly refresh job, its schedule, the inbox sensor and the failure recorder."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from pipelines.publish.inputs import nothing_to_refresh
from pipelines.publish.refresh_log import record_refresh
from pipelines.resources import WarehouseResource
from pipelines.runs import fail_dead_runs

REFRESH_STAGES = ("ingest", "transform", "quality", "publish")
INBOX_FOLDERS = ("towns", "registries")

nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.groups(*REFRESH_STAGES),
    description="Ingest new files, build the dbt models, run the quality checks, publish the analyst copy.",
    # DuckDB lock contention or a file still being copied in: wait and try the step again.
    op_retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
)

@dg.schedule(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The nightly refresh, skipped when the inbox holds nothing new and nothing the "
                "published database is built from has changed.",
)
def nightly_refresh_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    if nothing_to_refresh(warehouse.settings()):
        return dg.SkipReason("nothing new in the inbox and nothing changed since the last publish")
    return dg.RunRequest()


def inbox_fingerprints(sources_dir: Path) -> set[str]:
    """One short fingerprint per file waiting in the inbox (path, size, modification time)."""
    found = set()
    for folder in INBOX_FOLDERS:
        root = sources_dir / folder
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.name.startswith((".", "~$")) or path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            key = f"{path.relative_to(sources_dir)}|{stat.st_size}|{stat.st_mtime_ns}"
            found.add(hashlib.sha1(key.encode("utf-8")).hexdigest()[:16])
    return found


@dg.sensor(
    name="inbox_sensor",
    job=nightly_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh when new or changed files land in the inbox (each file triggers once).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    current = inbox_fingerprints(warehouse.settings().sources_dir)
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    new = sorted(current - seen)
    if not new:
        return dg.SkipReason("no new files in the inbox")
    context.update_cursor(json.dumps(sorted(seen | current)))
    run_key = hashlib.sha1("".join(new).encode("ascii")).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"ruralcare/trigger": f"{len(new)} new file(s)"})


@dg.run_failure_sensor(
    name="record_failed_refresh",
    monitored_jobs=[nightly_refresh],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes a failed nightly refresh into meta.refresh of the working database.",
)
def record_failed_refresh(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    run = context.dagster_run
    stats = context.instance.get_run_stats(run.run_id)
    started = datetime.fromtimestamp(stats.start_time or 0, tz=timezone.utc)
    with warehouse.connect() as con:
        record_refresh(con, run.run_id, started=started, status="failed", error=context.failure_event.message)


@dg.sensor(
    name="fail_dead_runs",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process is gone (a refresh killed hard) as failed, so the queue moves on.",
)
def fail_dead_runs_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    dead = fail_dead_runs(context.instance, default_work_db=str(warehouse.settings().work_db))
    if dead:
        context.log.warning(f"marked {len(dead)} dead run(s) failed: {', '.join(run.run_id for run in dead)}")
    return dg.SkipReason(f"{len(dead)} dead run(s) marked failed" if dead else "no dead runs")


ORCHESTRATION_JOBS = [nightly_refresh]
ORCHESTRATION_SCHEDULES = [nightly_refresh_schedule]
ORCHESTRATION_SENSORS = [inbox_sensor, record_failed_refresh, fail_dead_runs_sensor]
