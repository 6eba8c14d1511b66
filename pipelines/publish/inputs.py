"""What the published database was built from, so that a refresh with nothing new leaves it alone.

The digest covers everything the later stages read: the raw layer's files (each file's id and
status: a new, superseded or rejected file changes it), the dbt project (models, macros,
seeds, tests), the division list and plan files in use, and the code that writes the analyst copy.
"""

from __future__ import annotations

import hashlib

import duckdb

from pipelines.settings import PROJECT_ROOT, Settings
from pipelines.tables import has_table
from pipelines.transform.months import update_with_project

_PUBLISH_CODE = PROJECT_ROOT / "pipelines" / "publish"


def inputs_digest(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    digest = hashlib.sha256()
    update_with_project(digest, settings)
    for path in sorted(_PUBLISH_CODE.glob("*.py")):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(repr(_raw_files_state(con)).encode())
    return digest.hexdigest()


def remember_published_inputs(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """After a publish: the inputs the published database now reflects."""
    con.execute("CREATE SCHEMA IF NOT EXISTS state")  # not a published schema
    con.execute("CREATE TABLE IF NOT EXISTS state.published_inputs (digest VARCHAR, recorded_at TIMESTAMP)")
    con.execute("DELETE FROM state.published_inputs")
    con.execute("INSERT INTO state.published_inputs VALUES (?, now()::TIMESTAMP)", [inputs_digest(con, settings)])


def forget_published_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """After a failure downstream of the publish (the progress site): the next refresh publishes again."""
    if has_table(con, "state", "published_inputs"):
        con.execute("DELETE FROM state.published_inputs")


def published_is_current(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """The published file exists and was built from exactly what the working database and the
    project hold now."""
    if not (settings.published_db.exists() and has_table(con, "state", "published_inputs")):
        return False
    stored = con.execute("select digest from state.published_inputs").fetchone()
    return stored is not None and stored[0] == inputs_digest(con, settings)


def nothing_to_refresh(settings: Settings) -> bool:
    """True when the inbox holds no file the raw layer has not seen and the published database is
    current. Cheap on purpose (no Dagster, no dbt): it runs before any stage, and in the nightly
    schedule's tick."""
    from pipelines.ingest.discover import known_files, new_inbox_files

    if not settings.work_db.exists():
        return False
    try:
        con = duckdb.connect(str(settings.work_db), read_only=True)
    except duckdb.IOException:  # a refresh holds it: let the next one decide
        return False
    try:
        return (has_table(con, "raw", "files")
                and not new_inbox_files(settings.sources_dir, known_files(con), settings.inbox_hashes_file)
                and published_is_current(con, settings))
    finally:
        con.close()


def record_if_unchanged(settings: Settings) -> str | None:
    """When there is nothing to refresh, record an `unchanged` refresh and return its id."""
    from datetime import datetime, timezone

    from pipelines.publish.refresh_log import new_refresh_id, record_refresh

    started = datetime.now(timezone.utc)
    if not nothing_to_refresh(settings):
        return None
    try:
        con = duckdb.connect(str(settings.work_db))
    except duckdb.IOException:
        return None
    try:
        refresh_id = new_refresh_id(started)
        record_refresh(con, refresh_id, started=started, status="unchanged")
        return refresh_id
    finally:
        con.close()


def _raw_files_state(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "select count(*), coalesce(string_agg(file_id || ':' || status, ',' order by file_id), '') from raw.files"
    ).fetchone()
