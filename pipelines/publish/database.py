"""The analyst copy: de-identified tables written to a new file, then renamed over the old one.

Analysts hold `ruralcare.duckdb` open read-only at any time. We never open that file: the
copy is built beside it under a temporary name (starting from a byte copy of it, in which only
the changed months are written again) and swapped in with one atomic rename, so an open reader
keeps the old file and a crash before the rename leaves it untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.privacy import FULL_ID_OR_PHONE
from pipelines.publish.refresh_log import sql_literal
from pipelines.tables import contents_by_part, has_table

PUBLISHED_SCHEMAS = ("marts", "quality", "meta")
ANALYST_STORAGE_VERSION = "v1.0.0"

# The per-rule models (quality.dq03_not_older, …) only build quality.findings, which holds every
# one of their rows: analysts read that one table.
PER_RULE_TABLE = re.compile(r"^dq\d+_")
# Person lists the analyst copy gets only in part (minimum necessary): a person appears by
# person_key with village and age band, as in marts.fct_person_monthly. Masked names and IDs,
# exact age and the registry file and row stay in the working database, for the feedback
# workbooks that go to each town. (marts.kpi_members does name each KPI person's registry export
# and record line beside the person_key, which explaining a number needs: docs/decisions.md.)
DEIDENTIFIED_COLUMNS = {
    ("quality", "unpaired_key_persons"): (
        "month", "town_code", "village_code", "village_name", "person_key", "age_band", "registry",
    ),
}

# Columns that would carry a person's identity (masked or not) or exact age; none may reach the
# analyst copy.
FORBIDDEN_COLUMN = re.compile(
    r"(^|_)(id_number|id_raw|person_name|elder_name|helper_name|trainee_name|phone|helper_phone)(_raw)?$"
    r"|masked|^age$|birth_date"
)
# A whole cell masked as the quality models mask (macros/quality_masking.sql): an ID
# 500112********1234 (all stars when short), a name 张* / 欧阳**, a phone 138****1234.
MASKED_VALUE = r"^\s*(\*+|[0-9A-Za-z]{6}\*{8}[0-9A-Za-z]{4}|\p{Han}{1,2}\*+|\d{3}\*{4}\d{4})\s*$"
# The one published column that may hold a masked value: a finding points at its cell.
MASKED_VALUE_ALLOWED = {("quality", "findings", "value")}


class PrivacyViolation(RuntimeError):
    """A table about to be published holds a full or masked ID number, name or phone number."""


@dataclass(frozen=True)
class PublishSummary:
    path: Path
    tables: int
    rows: int


def temp_path_for(published: Path, refresh_id: str) -> Path:
    return published.with_name(f".{published.name}.{refresh_id}.tmp")


def remove_stale_temp_files(published: Path) -> None:
    """Leftovers of a refresh that died before its rename; never the published file itself."""
    for leftover in published.parent.glob(f".{published.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)


def publish_analyst_copy(work: duckdb.DuckDBPyConnection, published: Path, refresh_id: str) -> PublishSummary:
    """Copy the published schemas of the working database into a new file and swap it in.

    The new file starts as a copy of the published one when that has the same tables and
    columns: then only the months whose rows changed are written again (a new month writes its
    own rows, not the earlier months'), and a table without months is written again when any of
    its rows changed. Otherwise every table is copied."""
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(published)
    temp = temp_path_for(published, refresh_id)
    tables = _publishable_tables(work)
    reuse = published.is_file() and _attach_copy_of(work, published, temp, tables)
    if not reuse:
        _attach(work, temp)
    kept_rows_checked = reuse and _checked_by_these_rules(work)
    rows = 0
    written: dict[tuple[str, str], WrittenRows] = {}
    # One transaction: a statement per table and per column comment, committed once.
    work.execute("BEGIN TRANSACTION")
    try:
        if not reuse:
            for schema in sorted({schema for schema, _ in tables}):
                work.execute(f"CREATE SCHEMA analyst_copy.{schema}")
        for schema, table in tables:
            target, columns = f'analyst_copy.{schema}."{table}"', _published_columns(schema, table)
            if reuse:
                written[schema, table] = _write_changed_rows(work, schema, table, columns)
            else:
                work.execute(f'CREATE TABLE {target} AS SELECT {columns} FROM {schema}."{table}"')
                written[schema, table] = ALL_ROWS
            rows += work.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            _copy_comments(work, schema, table)
        _check_values(work, written if kept_rows_checked else dict.fromkeys(written, ALL_ROWS))
        work.execute("COMMIT")
        work.execute("CHECKPOINT analyst_copy")
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):  # none left when the checkpoint failed
            work.execute("ROLLBACK")
        work.execute("DETACH analyst_copy")
        _remove(temp)
        raise
    work.execute("DETACH analyst_copy")
    try:
        os.chmod(temp, 0o644)
        _fsync(temp)
        os.replace(temp, published)
    except BaseException:
        _remove(temp)
        raise
    _fsync(published.parent)
    _remember_rules_checked(work)
    return PublishSummary(path=published, tables=len(tables), rows=rows)


def _privacy_rules() -> str:
    """A hash of what the privacy check refuses and allows."""
    rules = (FORBIDDEN_COLUMN.pattern, FULL_ID_OR_PHONE, MASKED_VALUE, sorted(MASKED_VALUE_ALLOWED),
             sorted(DEIDENTIFIED_COLUMNS.items()))
    return hashlib.sha256(repr(rules).encode()).hexdigest()


def _checked_by_these_rules(work: duckdb.DuckDBPyConnection) -> bool:
    """Whether the published file's rows were checked by the rules in force (recorded in the
    working database by the publish that wrote it): if not, every row is checked again."""
    if not has_table(work, "state", "published_privacy_rules"):
        return False
    recorded = work.execute("select rules from state.published_privacy_rules").fetchone()
    return recorded is not None and recorded[0] == _privacy_rules()


def _remember_rules_checked(work: duckdb.DuckDBPyConnection) -> None:
    """After the swap: the published file's rows passed these rules. (A crash before this line
    only means that the next publish checks every row.)"""
    work.execute("CREATE SCHEMA IF NOT EXISTS state")  # not a published schema
    work.execute("CREATE TABLE IF NOT EXISTS state.published_privacy_rules (rules VARCHAR)")
    work.execute("DELETE FROM state.published_privacy_rules")
    work.execute("INSERT INTO state.published_privacy_rules VALUES (?)", [_privacy_rules()])


def _attach(work: duckdb.DuckDBPyConnection, path: Path) -> None:
    # An older storage format, so analysts' tools (duckdb shell, DBeaver/Metabase drivers) that
    # bundle an earlier DuckDB can still open the file. (A copied file keeps the format it has.)
    work.execute(f"ATTACH '{path}' AS analyst_copy (STORAGE_VERSION '{ANALYST_STORAGE_VERSION}')")


def _attach_copy_of(work: duckdb.DuckDBPyConnection, published: Path, temp: Path,
                    tables: list[tuple[str, str]]) -> bool:
    """Attach a copy of the published file as analyst_copy if it has the tables and columns to
    publish; False (and nothing attached or left behind) if not, or if it cannot be read."""
    try:
        shutil.copyfile(published, temp)  # plain bytes: analysts may hold it open read-only
        _attach(work, temp)
    except (OSError, duckdb.Error):
        _remove(temp)
        return False
    if _shape(work, "analyst_copy") == _shape_to_publish(work, tables):
        return True
    work.execute("DETACH analyst_copy")
    _remove(temp)
    return False


def _shape(work: duckdb.DuckDBPyConnection, database: str) -> list[tuple]:
    """Every (schema, table, column, type) of `database` in the published schemas."""
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    return work.execute(
        f"select schema_name, table_name, column_name, data_type from duckdb_columns() "
        f"where database_name = ? and schema_name in ({placeholders}) order by all",
        [database, *PUBLISHED_SCHEMAS],
    ).fetchall()


def _shape_to_publish(work: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> list[tuple]:
    """The (schema, table, column, type) that a copy made from nothing has."""
    published = set(tables)
    return [
        (schema, table, column, data_type)
        for schema, table, column, data_type in _shape(work, work.execute("select current_database()").fetchone()[0])
        if (schema, table) in published
        and column in DEIDENTIFIED_COLUMNS.get((schema, table), (column,))
    ]


@dataclass(frozen=True)
class WrittenRows:
    """The rows of a copied table written by this publish: a condition on its rows (alias `t`)."""

    where: str
    parameters: tuple = ()


ALL_ROWS, NO_ROWS = WrittenRows("true"), WrittenRows("false")


def _write_changed_rows(work: duckdb.DuckDBPyConnection, schema: str, table: str, columns: str) -> WrittenRows:
    """Write again, in the copied file, the months of a table whose rows differ from the working
    database's (their count and the sum of their hashes); a table without months in whole."""
    source, target = f'(select {columns} from {schema}."{table}")', f'analyst_copy.{schema}."{table}"'
    month_type = work.execute(
        "select data_type from duckdb_columns() where database_name = 'analyst_copy' and schema_name = ? "
        "and table_name = ? and column_name = 'month'", [schema, table]).fetchone()
    part = "month" if month_type else "null"
    now, before = contents_by_part(work, source, part), contents_by_part(work, target, part)
    changed = sorted((found for found in now.keys() | before.keys() if now.get(found) != before.get(found)), key=str)
    if not changed:
        return NO_ROWS
    if not month_type:
        work.execute(f"delete from {target}")
        work.execute(f"insert into {target} select * from {source}")
        return ALL_ROWS
    in_changed = f"(list_contains(?::{month_type[0]}[], t.month) or (t.month is null and ?))"
    months = ([found for found in changed if found is not None], None in changed)
    work.execute(f"delete from {target} as t where {in_changed}", months)
    work.execute(f"insert into {target} select * from {source} as t where {in_changed}", months)
    return WrittenRows(in_changed, months)


def _remove(temp: Path) -> None:
    """The temporary copy and its WAL, never the published file."""
    for leftover in temp.parent.glob(f"{temp.name}*"):
        leftover.unlink(missing_ok=True)


def _publishable_tables(work: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    found = work.execute(
        f"""
        select schema_name, table_name from duckdb_tables()
        where database_name = current_database() and schema_name in ({placeholders})
        union all
        select schema_name, view_name from duckdb_views()
        where database_name = current_database() and schema_name in ({placeholders}) and not internal
        order by 1, 2
        """,
        [*PUBLISHED_SCHEMAS, *PUBLISHED_SCHEMAS],
    ).fetchall()
    return [(schema, table) for schema, table in found if not (schema == "quality" and PER_RULE_TABLE.match(table))]


def _published_columns(schema: str, table: str) -> str:
    kept = DEIDENTIFIED_COLUMNS.get((schema, table))
    return ", ".join(f'"{column}"' for column in kept) if kept else "*"


def _copy_comments(work: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """dbt's descriptions travel with the tables (a view's with the table made from it), so analysts
    see them in their tools."""
    comment = work.execute(
        "select comment from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ? "
        "union all select comment from duckdb_views() where database_name = current_database() "
        "and schema_name = ? and view_name = ?",
        [schema, table, schema, table],
    ).fetchone()
    if comment and comment[0]:
        work.execute(f'COMMENT ON TABLE analyst_copy.{schema}."{table}" IS {sql_literal(comment[0])}')
    for column, text in work.execute(
        "select column_name, comment from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? and comment is not null and column_name in ("
        "  select column_name from duckdb_columns() where database_name = 'analyst_copy' "
        "  and schema_name = ? and table_name = ?)",
        [schema, table, schema, table],
    ).fetchall():
        work.execute(f'COMMENT ON COLUMN analyst_copy.{schema}."{table}"."{column}" IS {sql_literal(text)}')


def _check_values(work: duckdb.DuckDBPyConnection, written: dict[tuple[str, str], WrittenRows]) -> None:
    """Refuse a column named for personal data in any table, and a full or masked ID, name or phone
    among the values written now. The rows a copied file keeps were checked when first written, by
    the same rules (`_checked_by_these_rules`), and equal the working database's (same count and
    hash sum, `_write_changed_rows`): a city's new month scans its own 3 M persons' rows, not every
    month's."""
    for (schema, table), rows in written.items():
        columns = work.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'analyst_copy' "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        for column, data_type in columns:
            if FORBIDDEN_COLUMN.search(column):
                raise PrivacyViolation(f"{schema}.{table}.{column} would publish personal data")
            if data_type != "VARCHAR" or rows == NO_ROWS:
                continue
            # Each distinct value is matched once: values repeat (a person_key in every month it counts).
            full, masked = work.execute(
                f'select count(*) filter (where regexp_matches(value, ?)), '
                f'count(*) filter (where regexp_matches(value, ?)) '
                f'from (select distinct "{column}" as value from analyst_copy.{schema}."{table}" as t '
                f'where {rows.where})',
                [FULL_ID_OR_PHONE, MASKED_VALUE, *rows.parameters],
            ).fetchone()
            if full:
                raise PrivacyViolation(
                    f"{schema}.{table}.{column} holds {full} distinct value(s) that look like a full ID or phone number"
                )
            if masked and (schema, table, column) not in MASKED_VALUE_ALLOWED:
                raise PrivacyViolation(
                    f"{schema}.{table}.{column} holds {masked} distinct masked name, ID or phone value(s); the analyst "
                    "copy shows a person by person_key only (masked values only in quality.findings.value)"
                )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
