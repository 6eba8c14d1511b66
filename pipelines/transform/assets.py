"""dbt models, seeds and tests as Dagster assets and asset checks (group `transform`)."""

import json

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines import progress
from pipelines.contract import create_raw_tables
from pipelines.processes import stop_processes
from pipelines.resources import WarehouseResource
from pipelines.transform.dbt_run import (
    contract_checked_tests,
    dbt_args_for,
    exported_env,
    node_names,
    reference_only_nodes,
    relations_no_node_makes,
    start_from_project_parse,
    unchanged_views,
)
from pipelines.transform.months import needs_full_build, project_signature, remember_built_months
from pipelines.transform.project import DBT_PROJECT
from pipelines.transform.spark import copy_back, raw_locations, spark_env, spark_target_dir
from pipelines.transform.translator import RuralcareDbtTranslator


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    dagster_dbt_translator=RuralcareDbtTranslator(),
    name="dbt_models",
    pool="warehouse_writer",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    settings = warehouse.settings()
    on_spark = settings.engine == "spark"
    with warehouse.connect() as con:
        create_raw_tables(con)  # dbt's sources exist even before the first file arrives
        dbt_vars = {"raw_locations": raw_locations(settings, con)} if on_spark else None
        # Only the changed months of the month-by-month models, unless the project, division list or plan changed.
        signature = project_signature(settings)
        full_build = not on_spark and needs_full_build(con, signature)
    context.log.info("dbt builds every month" if full_build or on_spark else "dbt rebuilds the months whose inputs changed")
    # Unless the build is a full one, the models of reference data alone and the views are as the
    # last build left them; a run of chosen assets (from the UI) builds what was chosen.
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    whole = _built_every_model(context)
    as_built = []
    if whole and not (full_build or on_spark):
        reference_only = reference_only_nodes(manifest)
        as_built = reference_only + unchanged_views(manifest, reference_only)
    # DuckDB checks these as it builds the models; a run of chosen checks (from the UI) runs them.
    checked_by_duckdb = ([t for t in contract_checked_tests(manifest) if t not in as_built]
                         if whole and not on_spark else [])
    left_out = as_built + checked_by_duckdb
    selected = len(context.selected_asset_keys) + len(context.selected_asset_check_keys) - len(left_out)
    if not on_spark:
        start_from_project_parse(settings.dbt_target_dir)
    with exported_env(spark_env(settings) if on_spark else settings.dbt_env()):
        # One target folder per warehouse (and engine), so dbt's partial parse is found again next time.
        invocation = dbt.cli(dbt_args_for("build", settings, dbt_vars, full_refresh=full_build,
                                          leave_out=node_names(manifest, left_out)),
                             context=context,
                             target_path=spark_target_dir(settings) if on_spark else settings.dbt_target_dir)
        try:
            for done, event in enumerate(invocation.stream(), 1):
                progress.report("dbt models and tests", done, selected)
                yield event
        finally:
            # When the step fails while dbt still runs, dbt must not outlive it holding the
            # working database's lock.
            if invocation.process.poll() is None:
                stop_processes([invocation.process.pid])
    if on_spark:
        with warehouse.connect() as con:
            copy_back(settings, con)
    elif invocation.is_successful() and whole:
        with warehouse.connect() as con:
            remember_built_months(con, signature)
            if full_build:  # only a changed project can have dropped a model
                dropped = _drop_relations_no_node_makes(con, manifest)
                if dropped:
                    context.log.info("Dropped what no dbt model makes any more: " + ", ".join(dropped))
        yield from _passed_by_contract(context, {manifest["nodes"][t]["name"] for t in checked_by_duckdb})


def _drop_relations_no_node_makes(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    """Drop the working database's tables and views that no dbt model or seed makes any more
    (`relations_no_node_makes`); their names."""
    relations = con.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database()").fetchall()
    orphans = relations_no_node_makes(manifest, relations)
    con.execute("BEGIN TRANSACTION")
    for schema, name, kind in sorted(orphans, key=lambda relation: relation[2] != "VIEW"):  # views first
        con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} IF EXISTS {_quoted(schema)}.{_quoted(name)}')
    con.execute("COMMIT")
    return [f"{schema}.{name}" for schema, name, _ in orphans]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _passed_by_contract(context: dg.AssetExecutionContext, test_names: set[str]):
    """The checks of the not_null and accepted_values tests the build left to DuckDB passed: their
    models were built with those columns NOT NULL or with the check of the accepted values.
    Reported, so that they read as passed rather than not run, and the steps they gate (a test of
    severity error blocks) see them."""
    for spec in context.assets_def.check_specs:
        if spec.name in test_names and spec.key in context.selected_asset_check_keys:
            yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=True,
                                      metadata={"checked_by": "the model's contract: DuckDB enforces the column's constraint"})


def _built_every_model(context: dg.AssetExecutionContext) -> bool:
    """Whether the run builds every dbt asset. A run of part of them (from the UI) leaves the
    months' record alone: the models it did not build may still lack the changed months."""
    return set(context.selected_asset_keys) == set(context.assets_def.keys)
