"""The progress site's Dagster asset: in the publish stage, and a failed site is rebuilt by the next refresh."""

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.publish.assets import analyst_database
from pipelines.refresh import REFRESH_RUNS
from pipelines.resources import WarehouseResource, build_resources
from pipelines.site.assets import progress_site


def test_the_site_is_built_in_a_stage_the_refresh_runs_after_publishing() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    node = graph.get(progress_site.key)
    assert node.group_name in {stage for run in REFRESH_RUNS for stage in run}
    assert analyst_database.key in node.parent_keys


def test_a_failed_site_makes_the_next_refresh_publish_again(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    con = duckdb.connect(str(warehouse / "work.duckdb"))
    con.execute("create schema state; create table state.published_inputs (digest varchar, recorded_at timestamp);"
                "insert into state.published_inputs values ('digest of the last publish', now())")
    con.close()
    resource = WarehouseResource(warehouse_dir=str(warehouse), work_db=str(warehouse / "work.duckdb"),
                                 sources_dir=str(tmp_path / "inbox"))
    # No published database to build the site from: the asset fails.
    run = dg.materialize([analyst_database, progress_site], selection=[progress_site],
                         resources=build_resources(resource), raise_on_error=False)
    assert not run.success
    con = duckdb.connect(str(warehouse / "work.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from state.published_inputs").fetchone()[0] == 0
    finally:
        con.close()
