"""Dagster: the town feedback workbooks of a month, from the working database."""

from datetime import date

import dagster as dg

from pipelines.quality.feedback import write_feedback
from pipelines.resources import WarehouseResource

MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2021-07-01", timezone="Asia/Shanghai")


@dg.asset(
    key=["quality", "feedback_workbooks"],
    group_name="quality",
    partitions_def=MONTHLY,
    deps=[dg.AssetKey(["quality", "findings"]), dg.AssetKey(["quality", "unpaired_key_persons"])],
    description="数据质量反馈表: one XLSX per town for the month (its findings, errors first, and its "
                "key-group persons without 一对一 pairing), under reports/feedback/YYYY-MM.",
)
def feedback_workbooks(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """A partitioned run writes its month; a refresh run (no partition) writes the latest report month."""
    settings = warehouse.settings()
    if context.has_partition_key:
        month = date.fromisoformat(context.partition_key[:10])
    else:
        with warehouse.connect() as con:
            month = con.execute("select max(month) from intermediate.int_months").fetchone()[0]
        if month is None:
            return dg.MaterializeResult(metadata={"workbooks": 0, "reason": "no report month in the warehouse yet"})
    out_dir = settings.warehouse_dir.parent / "reports" / "feedback" / f"{month:%Y-%m}"
    paths = write_feedback(settings.work_db, month, out_dir)
    context.log.info(f"{len(paths)} feedback workbooks for {month:%Y-%m} in {out_dir}")
    return dg.MaterializeResult(metadata={
        "month": f"{month:%Y-%m}",
        "workbooks": len(paths),
        "folder": dg.MetadataValue.path(str(out_dir)),
    })


QUALITY_ASSETS = [feedback_workbooks]
