"""Which months a dbt build must rebuild (dbt_project/macros/incremental_months.sql).

The month-by-month models keep the rows of a month whose inputs are unchanged since it was last
built. `state.built_month_inputs` records those inputs (intermediate.int_month_inputs after a
successful build) with the project's signature: the dbt project's files, the division list and
the plan in use. When the signature differs — new code, another division list or plan — or no
build has been recorded, the build is a full one (`dbt build --full-refresh`).
"""

from __future__ import annotations

import hashlib

import duckdb

from pipelines.plan_files import PLAN_COLUMNS
from pipelines.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from pipelines.tables import has_table
from pipelines.transform.project_files import dbt_project_files

STATE_SCHEMA = "state"  # not a published schema
BUILT_MONTHS_TABLE = "built_month_inputs"


def update_with_project(digest: "hashlib._Hash", settings: Settings) -> None:
    """Feed the dbt project's files and the division list and plan in use into a digest."""
    for path in dbt_project_files(DBT_PROJECT_DIR):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(settings.divisions_file.read_bytes())
    for name in PLAN_COLUMNS:
        digest.update((settings.plan_dir / name).read_bytes())


def project_signature(settings: Settings) -> str:
    digest = hashlib.sha256()
    update_with_project(digest, settings)
    return digest.hexdigest()


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    """The table the incremental models read exists, even before the first build is recorded."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.{BUILT_MONTHS_TABLE} "
                "(month DATE, inputs VARCHAR, signature VARCHAR)")


def needs_full_build(con: duckdb.DuckDBPyConnection, signature: str) -> bool:
    """True unless the last recorded build was made with this signature (project_signature); the
    state table exists (`create_raw_tables`), empty before the first build is recorded."""
    signatures = {s for s, in con.execute(
        f"select distinct signature from {STATE_SCHEMA}.{BUILT_MONTHS_TABLE}").fetchall()}
    return signatures != {signature}


def remember_built_months(con: duckdb.DuckDBPyConnection, signature: str) -> None:
    """After a successful build made with this signature: every month's inputs are now built."""
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM {STATE_SCHEMA}.{BUILT_MONTHS_TABLE}")
    con.execute(f"INSERT INTO {STATE_SCHEMA}.{BUILT_MONTHS_TABLE} "
                "SELECT month, inputs, ? FROM intermediate.int_month_inputs", [signature])
    con.execute("COMMIT")


def forget_built_months(con: duckdb.DuckDBPyConnection) -> None:
    """The next build is a full one (`refresh --rebuild`)."""
    if has_table(con, STATE_SCHEMA, BUILT_MONTHS_TABLE):
        con.execute(f"DELETE FROM {STATE_SCHEMA}.{BUILT_MONTHS_TABLE}")
