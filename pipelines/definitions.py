"""Everything Dagster loads: assets by stage, checks, jobs, schedules, sensors, resources."""

import dagster as dg

from pipelines.ingest.assets import INGEST_ASSETS, INGEST_CHECKS
from pipelines.orchestration import ORCHESTRATION_JOBS, ORCHESTRATION_SCHEDULES, ORCHESTRATION_SENSORS
from pipelines.publish.assets import analyst_database
from pipelines.quality.assets import QUALITY_ASSETS
from pipelines.quality.checks import QUALITY_CHECKS
from pipelines.report.assets import REPORT_ASSETS, REPORT_JOBS, REPORT_SCHEDULES
from pipelines.resources import build_resources
from pipelines.site.assets import SITE_ASSETS
from pipelines.transform.assets import dbt_models

defs = dg.Definitions(
    assets=[*INGEST_ASSETS, dbt_models, *QUALITY_ASSETS, analyst_database, *SITE_ASSETS, *REPORT_ASSETS],
    asset_checks=[*INGEST_CHECKS, *QUALITY_CHECKS],
    jobs=[*ORCHESTRATION_JOBS, *REPORT_JOBS],
    schedules=[*ORCHESTRATION_SCHEDULES, *REPORT_SCHEDULES],
    sensors=ORCHESTRATION_SENSORS,
    resources=build_resources(),
)
