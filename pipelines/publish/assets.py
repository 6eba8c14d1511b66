"""The publish stage: the de-identified analyst database, swapped in atomically."""

import dagster as dg

from pipelines.publish.database import publish_analyst_copy
from pipelines.publish.inputs import remember_published_inputs
from pipelines.publish.refresh_log import record_refresh
from pipelines.resources import WarehouseResource
from pipelines.runs import refresh_id_for, refresh_started_for, stage_seconds_for
from pipelines.transform.assets import dbt_models


@dg.asset(
    key=["publish", "analyst_database"],
    group_name="publish",
    deps=[dbt_models],
    pool="warehouse_writer",
    description="warehouse/ruralcare.duckdb: marts, quality and meta tables without names, IDs or phones.",
)
def analyst_database(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    refresh_id = refresh_id_for(context)
    started = refresh_started_for(context)
    with warehouse.connect() as con:
        record_refresh(con, refresh_id, started=started, status="success",
                       stage_seconds=stage_seconds_for(context))
        try:
            summary = publish_analyst_copy(con, settings.published_db, refresh_id)
        except Exception as error:
            record_refresh(con, refresh_id, started=started, status="failed", error=f"publish: {error}")
            raise
        remember_published_inputs(con, settings)  # a later refresh with nothing new can stop early
    context.log.info(f"Published {summary.tables} tables, {summary.rows} rows to {summary.path}")
    return dg.MaterializeResult(
        metadata={"path": str(summary.path), "tables": summary.tables, "rows": summary.rows}
    )
