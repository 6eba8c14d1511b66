"""Everything Dagster loads: assets by stage, checks, jobs, schedules, sensors, resources."""

import dagster as dg

from pipelines.resources import build_resources
from pipelines.transform.assets import dbt_models

defs = dg.Definitions(
    assets=[dbt_models],
    resources=build_resources(),
)
