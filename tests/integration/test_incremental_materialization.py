"""The project's incremental materialization (dbt_project/macros/incremental_insert.sql) on a small
dbt project of its own: the months to build are inserted straight into the table, by column name,
in one transaction with the pre-hook that deletes them."""

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import DBT_PROJECT_DIR
from pipelines.transform import dbt_cli

PROJECT = """
name: incremental_check
version: "1.0"
config-version: 2
profile: incremental_check
macro-paths: ["macros"]
flags:
  send_anonymous_usage_stats: false
models:
  incremental_check:
    +persist_docs: {relation: true, columns: true}
"""

DESCRIBED = """
models:
  - name: monthly
    description: Amounts by month.
    columns:
      - name: amount
        description: The amount.
"""

PROFILE = """
incremental_check:
  target: work
  outputs:
    work:
      type: duckdb
      path: "{path}"
      threads: 1
"""

# A month-by-month model in miniature: a full build reads every month; an incremental one deletes
# the month of var('month') (pre-hook) and selects it again, its columns in another order.
MONTHLY = """
{{ config(materialized='incremental', incremental_strategy='append',
          pre_hook="{% if is_incremental() %}delete from {{ this }} where month = {{ var('month') }}{% endif %}") }}
{% if is_incremental() %}
select {{ var('broken_value', 'amount') }} as amount, month from main.inputs where month = {{ var('month') }}
{% else %}
select month, amount from main.inputs
{% endif %}
"""

# kpi_members' settings in miniature: a month with a column its table lacks is refused before any row is deleted.
CHECKED = """
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{% if is_incremental() %}delete from {{ this }}{% endif %}") }}
select 1 as month{% if is_incremental() %}, 2 as extra{% endif %}
"""

MERGED = """
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='month') }}
select 1 as month
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "macros").mkdir()
    shutil.copy(DBT_PROJECT_DIR / "macros" / "incremental_insert.sql", tmp_path / "macros")
    (tmp_path / "dbt_project.yml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "profiles.yml").write_text(PROFILE.format(path=tmp_path / "work.duckdb"), encoding="utf-8")
    (tmp_path / "models" / "monthly.sql").write_text(MONTHLY, encoding="utf-8")
    (tmp_path / "models" / "monthly.yml").write_text(DESCRIBED, encoding="utf-8")
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        con.execute("create table main.inputs as select * from (values (1, 10), (1, 11), (2, 20)) t(month, amount)")
    return tmp_path


def dbt(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(dbt_cli.executable()), "run", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(project / "target"), "--log-path", str(project / "logs"), *args],
        capture_output=True, text=True, check=False, env={"DO_NOT_TRACK": "1", "PATH": "/usr/bin:/bin"},
    )


def rows(project: Path, sql: str = "select month, amount from main.monthly order by all") -> list[tuple]:
    with duckdb.connect(str(project / "work.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def tables(project: Path) -> list[str]:
    return [name for (name,) in rows(project, "select table_name from information_schema.tables order by 1")]


def comments(project: Path) -> list[tuple]:
    """The table's and its amount column's comments (dbt's descriptions, which the analyst copy carries)."""
    return rows(project, "select t.comment, c.comment from duckdb_tables() as t inner join duckdb_columns() as c "
                         "using (table_name) where t.table_name = 'monthly' and c.column_name = 'amount'")


def execute(project: Path, sql: str) -> None:
    with duckdb.connect(str(project / "work.duckdb")) as con:
        con.execute(sql)


def test_a_month_is_deleted_and_inserted_by_name_and_a_failed_insert_keeps_the_table(project: Path) -> None:
    first = dbt(project)
    assert first.returncode == 0, first.stdout[-3000:]
    assert rows(project) == [(1, 10), (1, 11), (2, 20)]

    execute(project, "update main.inputs set amount = 21 where month = 2; insert into main.inputs values (3, 30)")
    again = dbt(project, "--vars", "{month: 2}")
    assert again.returncode == 0, again.stdout[-3000:]
    assert rows(project) == [(1, 10), (1, 11), (2, 21)]  # month 2 rebuilt, month 1 kept, month 3 not asked for
    # straight into the table: no temporary table holds the month first
    run_sql = (project / "target" / "run" / "incremental_check" / "models" / "monthly.sql").read_text(encoding="utf-8")
    assert "insert into" in run_sql and "by name" in run_sql and "__dbt_tmp" not in run_sql
    assert comments(project) == [("Amounts by month.", "The amount.")]

    # the month's rows deleted by the pre-hook come back when the insert fails
    broken = dbt(project, "--vars", "{month: 2, broken_value: \"cast('x' as integer)\"}")
    assert broken.returncode != 0
    assert "Conversion Error" in broken.stdout
    assert rows(project) == [(1, 10), (1, 11), (2, 21)]

    rebuilt = dbt(project, "--full-refresh")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert rows(project) == [(1, 10), (1, 11), (2, 21), (3, 30)]
    assert tables(project) == ["inputs", "monthly"]  # no intermediate or backup table left behind
    assert comments(project) == [("Amounts by month.", "The amount.")]


def test_a_strategy_other_than_append_is_refused_by_name(project: Path) -> None:
    (project / "models" / "merged.sql").write_text(MERGED, encoding="utf-8")
    refused = dbt(project, "--select", "merged")
    assert refused.returncode != 0
    assert "merged: the project's incremental materialization" in refused.stdout
    assert "incremental_strategy='append'" in refused.stdout


def test_with_on_schema_change_fail_a_month_with_other_columns_is_refused_and_the_table_kept(project: Path) -> None:
    (project / "models" / "checked.sql").write_text(CHECKED, encoding="utf-8")
    first = dbt(project, "--select", "checked")
    assert first.returncode == 0, first.stdout[-3000:]
    refused = dbt(project, "--select", "checked")
    assert refused.returncode != 0
    assert "checked: its columns (extra, month) are not its table's (month)" in refused.stdout
    assert rows(project, "select * from main.checked") == [(1,)]
