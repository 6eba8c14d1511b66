"""One full refresh in-process: the Dagster asset graph, stage by stage.

Each stage (ingest → transform → quality → publish) is materialised as a Dagster run of the
same asset definitions the UI shows; a failing stage stops the refresh before publishing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dagster as dg

from pipelines.orchestration import REFRESH_STAGES
from pipelines.publish.refresh_log import record_refresh
from pipelines.resources import WarehouseResource, build_resources
from pipelines.processes import child_processes, stop_children
from pipelines.runs import REFRESH_ID_TAG, REFRESH_STARTED_TAG, fail_dead_runs, new_refresh_id, process_tags
from pipelines.settings import PROJECT_ROOT


@dataclass
class RefreshResult:
    success: bool
    refresh_id: str
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failed_stage: str | None = None
    error: str | None = None


def dagster_instance() -> dg.DagsterInstance:
    """The project's Dagster instance (runs show in `ruralcare ui`), under .dagster_home."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home_path = PROJECT_ROOT / ".dagster_home"
        ensure_dagster_home(home_path)
        os.environ["DAGSTER_HOME"] = str(home_path)
    return dg.DagsterInstance.get()


def ensure_dagster_home(home: os.PathLike) -> None:
    """A Dagster home inside the repo whose config is the repo's dagster.yaml."""
    from pathlib import Path

    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.symlink_to(PROJECT_ROOT / "dagster.yaml")


def run_refresh(
    warehouse: WarehouseResource,
    *,
    instance: dg.DagsterInstance | None = None,
    on_stage: Callable[[str, str], None] | None = None,
) -> RefreshResult:
    """Materialise every stage that has assets, in order. on_stage(stage, 'start'|'done'|'failed')."""
    from pipelines.transform.project import ensure_manifest_current

    ensure_manifest_current()
    from pipelines.definitions import defs

    instance = instance or dagster_instance()
    settings = warehouse.settings()
    fail_dead_runs(instance, default_work_db=str(settings.work_db))
    assets = list(defs.assets or [])
    checks = list(defs.asset_checks or [])
    graph = defs.resolve_asset_graph()
    started = datetime.now(timezone.utc)
    result = RefreshResult(success=True, refresh_id=new_refresh_id(started))
    tags = {REFRESH_ID_TAG: result.refresh_id, REFRESH_STARTED_TAG: started.isoformat(),
            **process_tags(str(settings.work_db))}
    for stage in REFRESH_STAGES:
        selection = dg.AssetSelection.groups(stage)
        if not selection.resolve(graph):
            continue
        if on_stage:
            on_stage(stage, "start")
        stage_started = time.perf_counter()
        children_before = set(child_processes(os.getpid()))
        run = dg.materialize(
            [*assets, *checks],
            selection=selection,
            resources=build_resources(warehouse),
            instance=instance,
            tags={**tags, "ruralcare/stage": stage},
            raise_on_error=False,
            # The CLI shows stages itself; Dagster's own console log only for errors.
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        result.stage_seconds[stage] = time.perf_counter() - stage_started
        if not run.success:
            result.success = False
            result.failed_stage = stage
            result.error = _first_failure(run)
            # A step that failed while dbt ran may leave dbt behind, holding the database's lock.
            stop_children(keep=children_before)
            with warehouse.connect() as con:
                record_refresh(con, result.refresh_id, started=started, status="failed",
                               error=f"{stage}: {result.error}")
            if on_stage:
                on_stage(stage, "failed")
            return result
        if on_stage:
            on_stage(stage, "done")
    return result


def _first_failure(run: dg.ExecuteInProcessResult) -> str:
    """The root cause of the first failed step, not Dagster's wrapper around it."""
    for event in run.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return error.message.strip()
    return "the run failed"
