"""The files a dbt parse reads, found without importing dbt, Dagster or the loader (the warm dbt
process checks them before it builds: pipelines/transform/dbt_cli.py)."""

from __future__ import annotations

from pathlib import Path

DBT_PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml")


def dbt_project_files(project_dir: Path) -> list[Path]:
    files: list[Path] = []
    for name in DBT_PROJECT_SOURCES:
        path = project_dir / name
        files += [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sorted(files)
