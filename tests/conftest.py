"""Shared test setup: an isolated Dagster home and secrets; nothing touches the repo's warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.refresh import ensure_dagster_home


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("dagster_home")
    ensure_dagster_home(home)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["RURALCARE_PII_KEY"] = "test-only-person-key-secret"
    for name in ("RURALCARE_WORK_DB", "RURALCARE_WAREHOUSE", "RURALCARE_SOURCES",
                 "RURALCARE_PUBLISHED_DB", "RURALCARE_DIVISIONS"):
        os.environ.pop(name, None)


@pytest.fixture()
def warehouse_dir(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"
