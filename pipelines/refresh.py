"""One refresh in-process: the Dagster asset graph, stage by stage.

The stages (ingest → transform → quality → publish) are materialised as Dagster runs of the
same asset definitions the UI shows; a failing stage stops the refresh before publishing.
transform and quality share one run, so dbt starts and loads its manifest once.

When ingest finds nothing new and nothing the models are built from has changed since the
last publish (the same raw files, models, seeds and division list), the later stages are
skipped: the published database is already what they would write, byte for byte.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dagster as dg

from pipelines.long_lived import loading_long_lived_objects
from pipelines.publish.inputs import published_is_current
from pipelines.publish.refresh_log import new_refresh_id, record_refresh, finish_status_record
from pipelines.resources import WarehouseResource, build_resources
from pipelines.processes import child_processes, stop_children
from pipelines.refresh_helpers import helpers_running
from pipelines.runs import REFRESH_ID_TAG, REFRESH_STARTED_TAG, STAGE_SECONDS_TAG, fail_dead_runs, process_tags
from pipelines.settings import PROJECT_ROOT, Settings


# The Dagster runs of a refresh, each a tuple of stages (asset groups).
REFRESH_RUNS = (("ingest",), ("transform", "quality"), ("publish",))


@dataclass
class RefreshResult:
    success: bool
    refresh_id: str
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failed_stage: str | None = None
    error: str | None = None
    unchanged: bool = False  # nothing new: transform, quality and publish were skipped


def load_definitions() -> dg.Definitions:
    """The project's Dagster definitions, imported once the dbt manifest they read is current."""
    from pipelines.transform.project import ensure_manifest_current

    ensure_manifest_current()
    from pipelines.definitions import defs

    return defs


def load_for_this_process() -> dg.DagsterInstance:
    """For a process that runs a refresh and ends (the command line, the benchmark): the
    definitions loaded and the instance made with the collector paused, then frozen
    (pipelines/long_lived.py); pass the instance to `run_refresh`. Not done by `run_refresh`
    itself: a process calling it many times (a test) would keep every earlier call's garbage."""
    with loading_long_lived_objects():
        load_definitions()
        return dagster_instance()


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
    rebuild: bool = False,
) -> RefreshResult:
    """Materialise every stage that has assets, in order; on_stage(stage, 'start'|'done'|'failed'|
    'skipped'). rebuild: build every month again and publish, even when nothing is new."""
    settings = warehouse.settings()
    # Started here unless the command line started them before importing this module.
    with helpers_running(settings):
        return _run_stages(warehouse, settings, instance, on_stage, rebuild)


def _run_stages(warehouse: WarehouseResource, settings: Settings, instance: dg.DagsterInstance | None,
                on_stage: Callable[[str, str], None] | None, rebuild: bool) -> RefreshResult:
    defs = load_definitions()
    instance = instance or dagster_instance()
    fail_dead_runs(instance, default_work_db=str(settings.work_db))
    assets = list(defs.assets or [])
    checks = list(defs.asset_checks or [])
    graph = defs.resolve_asset_graph()
    started = datetime.now(timezone.utc)
    result = RefreshResult(success=True, refresh_id=new_refresh_id(started))
    tags = {REFRESH_ID_TAG: result.refresh_id, REFRESH_STARTED_TAG: started.isoformat(),
            **process_tags(str(settings.work_db))}
    after_ingest = False
    for stages in REFRESH_RUNS:
        selection = dg.AssetSelection.groups(*stages)
        if not selection.resolve(graph):
            continue
        name = "+".join(stages)
        if stages != ("ingest",) and not after_ingest:
            # Decided once, on what ingest left: the later runs all go, or none does.
            after_ingest = True
            result.unchanged = not rebuild and _published_is_current(warehouse)
            if rebuild:
                _forget_built_months(warehouse)
        if result.unchanged:
            if on_stage:
                on_stage(name, "skipped")
            continue
        if on_stage:
            on_stage(name, "start")
        stage_started = time.perf_counter()
        children_before = set(child_processes(os.getpid()))
        run = dg.materialize(
            [*assets, *checks],
            selection=selection,
            resources=build_resources(warehouse),
            instance=instance,
            tags={**tags, "ruralcare/stage": name, STAGE_SECONDS_TAG: json.dumps(result.stage_seconds)},
            raise_on_error=False,
            # The CLI shows stages itself; Dagster's own console log only for errors.
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        result.stage_seconds[name] = time.perf_counter() - stage_started
        if not run.success:
            result.success = False
            result.failed_stage = _failed_stage(run, stages, selection, graph)
            result.error = _first_failure(run)
            # A step that failed while dbt ran may leave dbt behind, holding the database's lock.
            stop_children(keep=children_before)
            with warehouse.connect() as con:
                record_refresh(con, result.refresh_id, started=started, status="failed",
                               error=f"{result.failed_stage}: {result.error}", stage_seconds=result.stage_seconds)
            if on_stage:
                on_stage(name, "failed")
            return result
        if on_stage:
            on_stage(name, "done")
    if result.unchanged:
        with warehouse.connect() as con:
            record_refresh(con, result.refresh_id, started=started, status="unchanged",
                           stage_seconds=result.stage_seconds)
    else:
        finish_status_record(settings.work_db, result.refresh_id, result.stage_seconds)
    return result


def _forget_built_months(warehouse: WarehouseResource) -> None:
    """A rebuild builds every month of the month-by-month models again."""
    from pipelines.transform.months import forget_built_months

    with warehouse.connect() as con:
        forget_built_months(con)


def _published_is_current(warehouse: WarehouseResource) -> bool:
    with warehouse.connect() as con:
        return published_is_current(con, warehouse.settings())


def _failed_stage(run: dg.ExecuteInProcessResult, stages: tuple[str, ...], selection: dg.AssetSelection,
                  graph) -> str:
    """The first stage of the run with an asset that did not materialise."""
    done = {event.asset_key for event in run.get_asset_materialization_events()}
    for stage in stages:
        keys = dg.AssetSelection.groups(stage).resolve(graph) & selection.resolve(graph)
        if keys - done:
            return stage
    return stages[-1]


def _first_failure(run: dg.ExecuteInProcessResult) -> str:
    """The root cause of the first failed step, not Dagster's wrapper around it."""
    for event in run.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return error.message.strip()
    return "the run failed"
