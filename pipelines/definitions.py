"""Everything Dagster loads: assets by stage, checks, jobs, schedules, sensors, resources."""

import dagster as dg

from pipelines.orchestration import ORCHESTRATION_JOBS, ORCHESTRATION_SCHEDULES, ORCHESTRATION_SENSORS
from pipelines.publish.assets import analyst_database
from pipelines.resources import build_resources
from pipelines.transform.assets import dbt_models

defs = dg.Definitions(
    assets=[dbt_models, analyst_database],
    jobs=ORCHESTRATION_JOBS,
    schedules=ORCHESTRATION_SCHEDULES,
    sensors=ORCHESTRATION_SENSORS,
    resources=build_resources(),
)
