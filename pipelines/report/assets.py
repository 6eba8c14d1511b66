"""The monthly report as a Dagster asset partitioned by month, its job and its schedule.

Every district of the warehouse gets its report; a city warehouse (several districts) also gets
the table ranking them.

The schedule runs on the 6th of each month at 06:00 (Asia/Shanghai) for the previous month:
towns' workbooks are due by the 5th, and that night's refresh has published them.
"""

import time
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from pipelines.report.writer import write_month_reports
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

TIMEZONE = "Asia/Shanghai"
MONTHS = dg.MonthlyPartitionsDefinition(start_date="2021-07-01", timezone=TIMEZONE)
REPORT_KEY = dg.AssetKey(["report", "monthly_report"])
PUBLISHED_KEY = dg.AssetKey(["publish", "analyst_database"])


def report_dir(settings: Settings, month: date) -> Path:
    """Where a month's report goes: reports/out/<YYYY-MM>/ beside the warehouse folder."""
    return settings.warehouse_dir.parent / "reports" / "out" / f"{month:%Y-%m}"


def partition_month(partition_key: str) -> date:
    return datetime.strptime(partition_key, "%Y-%m-%d").date().replace(day=1)


@dg.asset(
    key=REPORT_KEY,
    group_name="report",
    partitions_def=MONTHS,
    deps=[PUBLISHED_KEY],
    description="农村养老服务全覆盖工作进展情况通报 (HTML, PDF, XLSX) of each district for the partition's month "
                "(with several districts, also their ranking), read from the published analyst database.",
    kinds={"html", "pdf", "excel"},
)
def monthly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    month = partition_month(context.partition_key)
    out = report_dir(settings, month)
    started = time.perf_counter()
    written = write_month_reports(settings.published_db, month, out)
    seconds = time.perf_counter() - started
    context.log.info(f"report for {month:%Y-%m} written in {seconds:.1f} s to {out}")
    return dg.MaterializeResult(metadata={
        **{fmt: dg.MetadataValue.path(str(path)) for fmt, path in written.items()},
        "seconds": dg.MetadataValue.float(round(seconds, 2)),
    })


monthly_report_job = dg.define_asset_job(
    "monthly_report",
    selection=dg.AssetSelection.assets(REPORT_KEY),
    partitions_def=MONTHS,
    description="Write the monthly progress report (进展通报) for one month.",
)

monthly_report_schedule = dg.build_schedule_from_partitioned_job(
    monthly_report_job,
    name="monthly_report_schedule",
    day_of_month=6,
    hour_of_day=6,
    minute_of_hour=0,
    description="On the 6th at 06:00 (Asia/Shanghai), the previous month's report.",
)

REPORT_ASSETS = [monthly_report]
REPORT_JOBS = [monthly_report_job]
REPORT_SCHEDULES = [monthly_report_schedule]
