"""`meta.refresh`: one row per refresh in the working database (and, for successes, the analyst copy)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import duckdb

_FULL_ID_OR_PHONE = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")


def new_refresh_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def ensure_refresh_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS meta.refresh (
            refresh_id VARCHAR PRIMARY KEY,
            started TIMESTAMP,
            finished TIMESTAMP,
            status VARCHAR,
            files BIGINT,
            rows BIGINT,
            error VARCHAR
        )
        """
    )
    for column, text in {
        "refresh_id": "Id of the refresh (also on every raw row it loaded)",
        "started": "When the refresh started (UTC)",
        "finished": "When it finished or failed (UTC)",
        "status": "success, failed, or unchanged (nothing new: the published database was left as it was)",
        "files": "Files first seen by this refresh (any status)",
        "rows": "Data rows loaded by this refresh",
        "error": "Why it failed (no personal data)",
    }.items():
        con.execute(f"COMMENT ON COLUMN meta.refresh.{column} IS {sql_literal(text)}")


def sql_literal(text: str) -> str:
    """COMMENT ON takes no parameters: quote the text as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def record_refresh(
    con: duckdb.DuckDBPyConnection,
    refresh_id: str,
    *,
    started: datetime,
    status: str,
    error: str | None = None,
) -> None:
    ensure_refresh_table(con)
    files, rows = _loaded_by(con, refresh_id)
    con.execute(
        """
        INSERT OR REPLACE INTO meta.refresh VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        [refresh_id, _naive_utc(started), _naive_utc(datetime.now(timezone.utc)), status, files, rows,
         _safe_error(error)],
    )


def _loaded_by(con: duckdb.DuckDBPyConnection, refresh_id: str) -> tuple[int, int]:
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'files' "
        "and database_name = current_database()"
    ).fetchone()[0]
    if not exists:
        return 0, 0
    files, rows = con.execute(
        "select count(*), coalesce(sum(rows), 0) from raw.files where refresh_id = ?", [refresh_id]
    ).fetchone()
    return int(files), int(rows)


def _safe_error(error: str | None) -> str | None:
    if error is None:
        return None
    return _FULL_ID_OR_PHONE.sub("[masked]", error)[:2000]


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
