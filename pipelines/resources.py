"""Dagster resources: the warehouse (paths, one DuckDB writer) and the dbt CLI.

Fields left empty fall back to the environment and its defaults (pipelines/settings.py),
resolved when a run uses them, never at import time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging.version import Version

from pipelines.settings import Settings
from pipelines.transform import dbt_cli
from pipelines.transform.project import DBT_PROJECT


class WarehouseResource(dg.ConfigurableResource):
    """Where the inbox, the working database and the published copy live."""

    sources_dir: str | None = None
    warehouse_dir: str | None = None
    work_db: str | None = None
    divisions_file: str | None = None
    plan_dir: str | None = None
    engine: str | None = None

    def settings(self) -> Settings:
        return Settings.from_env(
            sources_dir=self.sources_dir,
            warehouse_dir=self.warehouse_dir,
            work_db=self.work_db,
            divisions_file=self.divisions_file,
            plan_dir=self.plan_dir,
            engine=self.engine,
        )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer connection to the working database (mode 0600)."""
        settings = self.settings()
        settings.ensure_warehouse_dir()
        con = connect_when_free(settings.work_db, settings.duckdb_memory_limit)
        try:
            yield con
        finally:
            con.close()
            settings.work_db.chmod(0o600)


# A DuckDB file starts with three 4 KB header blocks, written when it is created: a shorter
# file was cut off in its creation (a refresh killed that moment) and holds no committed data.
DUCKDB_HEADER_BYTES = 3 * 4096


def connect_when_free(path: Path, memory_limit: str | None = None,
                      patience_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """A writer connection. DuckDB admits one process per file: a dbt process that is still
    exiting holds it briefly, so a lock is waited for up to `patience_seconds`."""
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            return duckdb.connect(str(path), config={"memory_limit": memory_limit} if memory_limit else {})
        except duckdb.IOException as error:
            locked = "lock" in str(error).lower()
            if not locked and set_aside_unfinished_database(path):
                continue
            if not locked or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def set_aside_unfinished_database(path: Path) -> bool:
    """Rename a database file cut off while being created (and its log) to `<name>.unfinished`,
    so that a new one is made; False when the file is not such a file."""
    if not path.is_file() or path.stat().st_size >= DUCKDB_HEADER_BYTES:
        return False
    for part in (path, path.with_name(path.name + ".wal")):
        if part.exists():
            part.replace(part.with_name(part.name + ".unfinished"))
    return True


class RuralcareDbtCliResource(DbtCliResource):
    """The dbt CLI without two costs of every build that ruralcare has no use for (measured
    together ≈ 1.8 s of a refresh): a `dbt --version` subprocess, when the dbt-core beside this
    interpreter is the one that runs; and an in-process dbt adapter, which dagster-dbt uses
    only to fetch row counts and column metadata, which ruralcare does not ask for."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def build_resources(warehouse: WarehouseResource | None = None) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": warehouse or WarehouseResource(),
        "dbt": RuralcareDbtCliResource(
            project_dir=DBT_PROJECT,
            profiles_dir=str(DBT_PROJECT.profiles_dir),
            dbt_executable=str(dbt_cli.executable()),
        ),
    }
