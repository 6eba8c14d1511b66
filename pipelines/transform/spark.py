"""The dbt project on Spark (docs/engines.md): the raw layer handed over as Parquet, `dbt build
--target spark` in a local session, the built tables copied back into the working database so
that quality, publish and the report run unchanged.

Ingestion stays in Python and DuckDB. The loader's own Parquet files (`warehouse/raw/<table>/`)
are the row tables; the file ledger (`raw.files`, `raw.sheets`, `raw.ingest_findings`) lives in
DuckDB only (a later workbook marks an earlier one superseded in place), so it is exported.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import duckdb

from pipelines.contract import LEDGER_TABLES, raw_tables
from pipelines.settings import Settings


def spark_missing() -> str | None:
    """What this machine lacks to build on Spark, said as what to do; None when nothing is."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "dbt-spark and PySpark are not installed: run `make setup-spark` (scripts/setup.sh --spark)."
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return ("no Java runtime (java on PATH or JAVA_HOME): run `make setup-spark` as root, "
                "or install the Debian package openjdk-17-jre-headless.")
    return None


def raw_locations(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{raw table: Parquet folder} for the Spark build; exports what only DuckDB holds."""
    handed_over = settings.spark_dir / "raw"
    locations = {}
    for table in raw_tables():
        folder = settings.raw_dir / table
        if table in LEDGER_TABLES or not any(folder.glob("*.parquet")):
            folder = handed_over / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            con.execute(f"COPY raw.{table} TO '{(folder / 'part-0.parquet').as_posix()}' (FORMAT parquet)")
        locations[table] = folder.resolve().as_posix()
    return locations


def spark_env(settings: Settings) -> dict[str, str]:
    """The dbt environment plus where the Spark session keeps its tables and metastore."""
    return {**settings.dbt_env(), "RURALCARE_SPARK_DIR": settings.spark_dir.resolve().as_posix()}


def spark_target_dir(settings: Settings) -> Path:
    """dbt's artifacts for the Spark build (apart from DuckDB's: partial parse is per target)."""
    return settings.spark_dir / "dbt_target"


def built_tables(settings: Settings) -> list[tuple[str, str]]:
    """(schema, table) of every model and seed the Spark build writes as a table."""
    manifest = json.loads((spark_target_dir(settings) / "manifest.json").read_text(encoding="utf-8"))
    return sorted((node["schema"], node["alias"]) for node in manifest["nodes"].values()
                  if node["resource_type"] in ("model", "seed")
                  and node["config"].get("materialized") in ("table", "incremental", "seed"))


def table_folder(settings: Settings, schema: str, table: str) -> Path:
    """Where the Spark session keeps a table's Parquet files (spark.sql.warehouse.dir, profiles.yml)."""
    return settings.spark_dir / "tables" / f"{schema}.db" / table


def copy_back(settings: Settings, con: duckdb.DuckDBPyConnection) -> None:
    """Every table Spark built, into the working database under the same schema and name."""
    con.execute("BEGIN TRANSACTION")
    try:
        for schema, table in built_tables(settings):
            files = (table_folder(settings, schema, table) / "*.parquet").as_posix()
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            con.execute(f'CREATE OR REPLACE TABLE "{schema}"."{table}" AS SELECT * FROM read_parquet(\'{files}\')')
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
