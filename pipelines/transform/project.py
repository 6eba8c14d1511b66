"""The dbt project as Dagster sees it, and the manifest Dagster reads.

The manifest is built by setup (`dbt parse`) or by `ensure_manifest_current()` before the
definitions are imported — never at import time.
"""

import os
import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.settings import DBT_PROJECT_DIR
from pipelines.transform import dbt_cli
from pipelines.transform.project_files import dbt_project_files

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_current(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in dbt_project_files(project_dir))


def ensure_manifest_current(project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Re-parse the dbt project when a model, macro, seed or test changed since the last parse."""
    if manifest_is_current(project_dir):
        return
    done = subprocess.run(
        [str(dbt_cli.executable()), "parse", "--profiles-dir", str(project_dir), "--quiet"],
        cwd=project_dir, capture_output=True, text=True, check=False,
        env={**os.environ, "DO_NOT_TRACK": "1"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
