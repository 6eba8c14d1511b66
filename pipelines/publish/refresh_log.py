"""`meta.refresh`: one row per refresh in the working database (and, for successes, the analyst copy).

Every refresh also leaves its facts in `status/last_refresh.json` beside the working database:
`ruralcare status` and the site read them while a later refresh holds the database.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from pipelines.privacy import FULL_ID, PHONE
from pipelines.tables import has_table
from pipelines.whole_files import write_whole

_FULL_ID_OR_PHONE = re.compile(f"{FULL_ID}|{PHONE}")  # any run, edges or not: an error text is no data


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
    stage_seconds: dict[str, float] | None = None,
) -> None:
    """stage_seconds: wall seconds of the stages run so far (for the status record only)."""
    ensure_refresh_table(con)
    files, rows = _loaded_by(con, refresh_id)
    finished = datetime.now(timezone.utc)
    con.execute(
        """
        INSERT OR REPLACE INTO meta.refresh VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        [refresh_id, _naive_utc(started), _naive_utc(finished), status, files, rows, _safe_error(error)],
    )
    database = con.execute(
        "select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    if database:
        _write_json(status_record_path(Path(database)), {
            "refresh_id": refresh_id,
            "started": _aware_utc(started).isoformat(),
            "finished": finished.isoformat(),
            "status": status,
            "stage_seconds": {stage: round(seconds, 2) for stage, seconds in (stage_seconds or {}).items()},
            "error": _safe_error(error),
            "files": files,
            "rows": rows,
        })


def status_record_path(work_db: Path) -> Path:
    """The last refresh's facts (JSON), beside the working database."""
    return work_db.parent / "status" / "last_refresh.json"


def finish_status_record(work_db: Path, refresh_id: str, stage_seconds: dict[str, float]) -> None:
    """After the last stage: the refresh's end and stage times into its status record (the
    publish stage wrote the record before its own time was known)."""
    path = status_record_path(work_db)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if record.get("refresh_id") == refresh_id:
        record["finished"] = datetime.now(timezone.utc).isoformat()
        record["stage_seconds"] = {stage: round(seconds, 2) for stage, seconds in stage_seconds.items()}
        _write_json(path, record)


def _write_json(path: Path, record: dict) -> None:
    """Replace the record whole (a reader sees the old one or the new one).

    Best effort: meta.refresh holds the record that counts, and a full disk must not turn a
    refresh's own failure (or success) into an error about this file.
    """
    try:
        write_whole(path, json.dumps(record, ensure_ascii=False, indent=1), 0o644)
    except OSError as error:
        logging.getLogger(__name__).warning("could not write the status record %s: %s", path, error)


def _loaded_by(con: duckdb.DuckDBPyConnection, refresh_id: str) -> tuple[int, int]:
    if not has_table(con, "raw", "files"):
        return 0, 0
    files, rows = con.execute(
        "select count(*), coalesce(sum(rows), 0) from raw.files where refresh_id = ?", [refresh_id]
    ).fetchone()
    return int(files), int(rows)


def _safe_error(error: str | None) -> str | None:
    if error is None:
        return None
    return _FULL_ID_OR_PHONE.sub("[masked]", error)[:2000]


def _aware_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
