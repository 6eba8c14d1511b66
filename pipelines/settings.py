"""Paths and secrets, read from the environment when asked for (never at import time).

One setting, `RURALCARE_WORK_DB`, names the working database for both dbt (profiles.yml)
and Dagster; `Settings.dbt_env()` exports it to every dbt subprocess, with the DuckDB memory
limit both use (`RURALCARE_DUCKDB_MEMORY_LIMIT`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
CONTRACT_FILE = PROJECT_ROOT / "sources" / "contract" / "sheets.yaml"
BUILTIN_DIVISIONS = DBT_PROJECT_DIR / "seeds" / "divisions.csv"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
BUILTIN_PLAN_DIR = SEEDS_DIR  # plan.csv, plan_projects.csv, plan_targets.csv (pipelines/plan_files.py)
ENGINES = ("duckdb", "spark")
# DuckDB's memory limit for the working database, in dbt's builds and ruralcare's own writer
# connection (DuckDB spills to its temp folder beyond it). DuckDB's own default, 80 % of RAM, lets
# a city build hold 4.7 GB beside the refresh process; with 3 GB it held 3.3 GB and took 64.8 s
# instead of 62.3 s (one run each, within this VM's noise). profiles.yml repeats it for dbt run by hand.
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"


@dataclass(frozen=True)
class Settings:
    sources_dir: Path
    warehouse_dir: Path
    work_db: Path
    published_db: Path
    divisions_file: Path
    pii_key_file: Path
    plan_dir: Path = BUILTIN_PLAN_DIR
    engine: str = "duckdb"  # where dbt builds the models: duckdb, or spark (docs/engines.md)
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT

    @property
    def raw_dir(self) -> Path:
        return self.warehouse_dir / "raw"

    @property
    def spark_dir(self) -> Path:
        """The Spark engine's tables, metastore and raw hand-over (`refresh --engine spark`)."""
        return self.warehouse_dir / "spark"

    @property
    def inbox_hashes_file(self) -> Path:
        """The inbox files' SHA-256, remembered between refreshes (pipelines/ingest/inbox.py)."""
        return self.warehouse_dir / "inbox_sha256.json"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's artifacts and partial-parse state for this warehouse (kept between refreshes)."""
        return self.warehouse_dir / "dbt_target"

    @property
    def rejected_dir(self) -> Path:
        # Beside towns/ and registries/, never scanned as input.
        return self.sources_dir / "rejected"

    @classmethod
    def from_env(cls, engine: str | None = None, **overrides: Path | None) -> "Settings":
        env = os.environ
        warehouse = Path(env.get("RURALCARE_WAREHOUSE", PROJECT_ROOT / "warehouse"))
        settings = cls(
            sources_dir=Path(env.get("RURALCARE_SOURCES", PROJECT_ROOT / "sources" / "inbox")),
            warehouse_dir=warehouse,
            work_db=Path(env.get("RURALCARE_WORK_DB", warehouse / "work.duckdb")),
            published_db=Path(env.get("RURALCARE_PUBLISHED_DB", warehouse / "ruralcare.duckdb")),
            divisions_file=Path(env.get("RURALCARE_DIVISIONS", BUILTIN_DIVISIONS)),
            pii_key_file=Path(env.get("RURALCARE_PII_KEY_FILE", PROJECT_ROOT / ".secrets" / "pii.key")),
            plan_dir=Path(env.get("RURALCARE_PLAN_DIR", BUILTIN_PLAN_DIR)),
            engine=engine or env.get("RURALCARE_ENGINE", "duckdb"),
            duckdb_memory_limit=env.get("RURALCARE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
        )
        if settings.engine not in ENGINES:
            raise ValueError(f"RURALCARE_ENGINE is {settings.engine!r}: use one of {', '.join(ENGINES)}")
        given = {k: Path(v).resolve() for k, v in overrides.items() if v is not None}
        if "warehouse_dir" in given:
            # A warehouse folder given on the command line moves both databases with it.
            given.setdefault("work_db", given["warehouse_dir"] / "work.duckdb")
            given.setdefault("published_db", given["warehouse_dir"] / "ruralcare.duckdb")
        settings = replace(settings, **given)
        return replace(
            settings,
            sources_dir=settings.sources_dir.resolve(),
            warehouse_dir=settings.warehouse_dir.resolve(),
            work_db=settings.work_db.resolve(),
            published_db=settings.published_db.resolve(),
        )

    def ensure_warehouse_dir(self) -> None:
        self.work_db.parent.mkdir(parents=True, exist_ok=True)
        self.published_db.parent.mkdir(parents=True, exist_ok=True)

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: the shared DuckDB path, no telemetry."""
        return {
            **os.environ,
            "RURALCARE_WORK_DB": str(self.work_db),
            "RURALCARE_DIVISIONS": str(self.divisions_file),
            "RURALCARE_PLAN_DIR": str(self.plan_dir),
            "RURALCARE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def pii_key(self) -> bytes:
        """The person-key secret: RURALCARE_PII_KEY, else a random key kept in a 0600 file."""
        from_env = os.environ.get("RURALCARE_PII_KEY")
        if from_env:
            return from_env.encode("utf-8")
        path = self.pii_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode("utf-8")
