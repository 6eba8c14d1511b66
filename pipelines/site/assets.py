"""The progress site as a Dagster asset: rewritten after each publish, in the publish stage."""

import time

import dagster as dg

from pipelines.publish.assets import analyst_database
from pipelines.publish.inputs import forget_published_inputs
from pipelines.resources import WarehouseResource
from pipelines.site.build import build_site, site_dir
from pipelines.status import collect_status


@dg.asset(
    key=["publish", "progress_site"],
    group_name="publish",
    deps=[analyst_database],
    description="reports/site/: the progress site (进展网站), static HTML in Chinese from the published "
                "analyst database: district overview, town pages with each KPI's members, early warnings, status.",
    kinds={"html"},
    pool="warehouse_writer",  # on failure it writes to the working database
)
def progress_site(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    started = time.perf_counter()
    try:
        written = build_site(settings.published_db, site_dir(settings), status=collect_status(settings),
                             log=context.log.info)
    except Exception:
        # Else the next refresh, finding nothing new, would skip the publish stage and leave no site.
        with warehouse.connect() as con:
            forget_published_inputs(con)
        raise
    seconds = time.perf_counter() - started
    context.log.info(f"progress site: {len(written)} pages in {seconds:.1f} s, open {written[0]}")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(written[0])),
        "pages": len(written),
        "seconds": dg.MetadataValue.float(round(seconds, 2)),
    })


SITE_ASSETS = [progress_site]
