"""The same dbt project on Spark (docs/engines.md): `ruralcare refresh --engine spark` of the
generator's default inbox builds every table the DuckDB refresh builds, row for row, and
publishes the same analyst database. Run by `make test-spark` (needs `scripts/setup.sh --spark`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import Settings
from pipelines.transform.spark import built_tables, table_folder

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# The four, compared among all the published marts and quality tables.
NAMED_TABLES = {("marts", "kpi_town_monthly"), ("marts", "kpi_district_monthly"),
                ("marts", "town_rank_monthly"), ("quality", "findings")}
FLOAT_DIGITS = 9  # doubles equal to 1e-9
# Differ between any two refreshes whatever the engine: when and which refresh loaded a file.
REFRESH_COLUMNS = {"loaded_at", "refresh_id"}


@pytest.fixture(scope="module")
def spark_refreshed(generated_sources: Path, copy_inbox, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """`ruralcare refresh --engine spark` of a copy of the generated inbox, as a user runs it."""
    root = tmp_path_factory.mktemp("spark_refreshed")
    inbox = copy_inbox(generated_sources, root / "inbox")
    command = [str(Path(sys.executable).parent / "ruralcare"), "refresh", "--engine", "spark",
               "--sources", str(inbox), "--warehouse", str(root / "warehouse")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"refresh on Spark failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    return Settings.from_env(sources_dir=inbox, warehouse_dir=root / "warehouse", engine="spark")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    empty = con.sql(f"select * from {relation} limit 0")
    return [(name, str(kind)) for name, kind in zip(empty.columns, empty.types)]


def _comparable(relation: str, columns: list[tuple[str, str]]) -> str:
    selected = [f'round("{name}", {FLOAT_DIGITS}) as "{name}"' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
                for name, kind in columns if name not in REFRESH_COLUMNS]
    return f"select {', '.join(selected)} from {relation}"


def differing_rows(con: duckdb.DuckDBPyConnection, left: str, right: str) -> tuple[int, int]:
    """(rows only in left, rows only in right), duplicates counted, over left's columns."""
    columns = _columns(con, left)
    a, b = _comparable(left, columns), _comparable(right, columns)
    only_left = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
    only_right = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
    return only_left, only_right


def test_spark_builds_every_published_table_row_for_row(refreshed_warehouse: Settings, spark_refreshed: Settings):
    con = duckdb.connect()
    con.execute(f"attach '{refreshed_warehouse.work_db}' as duck (read_only)")
    compared, differences = set(), {}
    for schema, table in built_tables(spark_refreshed):
        if schema not in ("marts", "quality"):
            continue
        spark_rows = f"read_parquet('{(table_folder(spark_refreshed, schema, table) / '*.parquet').as_posix()}')"
        duck_rows = f'duck."{schema}"."{table}"'
        assert [name for name, _ in _columns(con, spark_rows)] == [name for name, _ in _columns(con, duck_rows)], table
        assert con.execute(f"select count(*) from {duck_rows}").fetchone()[0] > 0, f"{schema}.{table} is empty"
        compared.add((schema, table))
        if (diff := differing_rows(con, duck_rows, spark_rows)) != (0, 0):
            differences[f"{schema}.{table}"] = diff
    assert NAMED_TABLES <= compared
    assert differences == {}, f"(rows only in DuckDB's, only in Spark's) per table: {differences}"


def test_analysts_see_no_difference(refreshed_warehouse: Settings, spark_refreshed: Settings):
    """The published databases of both refreshes: the same tables, column types and rows."""
    con = duckdb.connect()
    con.execute(f"attach '{refreshed_warehouse.published_db}' as duck (read_only)")
    con.execute(f"attach '{spark_refreshed.published_db}' as spark (read_only)")

    def tables(database: str) -> set[tuple[str, str]]:
        # meta.refresh is the refresh's own record (when, how long), not data.
        return {row for row in con.execute("select schema_name, table_name from duckdb_tables() "
                                           "where database_name = ? and schema_name <> 'meta'", [database]).fetchall()}

    assert tables("duck") == tables("spark")
    differences = {}
    for schema, table in sorted(tables("duck")):
        duck_rows, spark_rows = f'duck."{schema}"."{table}"', f'spark."{schema}"."{table}"'
        assert _columns(con, duck_rows) == _columns(con, spark_rows), f"{schema}.{table}"
        if (diff := differing_rows(con, duck_rows, spark_rows)) != (0, 0):
            differences[f"{schema}.{table}"] = diff
    assert differences == {}, f"(rows only in DuckDB's, only in Spark's) per table: {differences}"
