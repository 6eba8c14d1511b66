"""One dbt project, two engines (docs/engines.md): the engine-specific SQL stays in the
dispatched macros of macros/portable.sql, and the refresh asks dbt for the engine chosen."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from pipelines.settings import DBT_PROJECT_DIR, Settings
from pipelines.transform.dbt_run import dbt_args_for
from pipelines.transform.spark import spark_missing

# DuckDB-only SQL, each with what to write instead.
DUCKDB_ONLY = {
    r"\bstrftime\s*\(": "year()/month()/day() and lpad",
    r"\bdate_diff\s*\(": "days_between()",
    r"\bgenerate_series\s*\(": "month_series()",
    r"\bread_csv\s*\(": "csv_file_rows()",
    r"\binterval\b": "add_days()/add_months()",
    r",\s*'g'\s*\)": "regexp_replace_all()",
    r"\bvarchar\b": "string",
    r"::": "cast(… as …)",
    r"\bunnest\s*\(": "month_series() or a join",
    r"\bqualify\b": "a row_number() in a subquery",
}


def _sql_files() -> list[Path]:
    files = [*DBT_PROJECT_DIR.glob("models/**/*.sql"), *DBT_PROJECT_DIR.glob("macros/*.sql")]
    return [f for f in files if f.name != "portable.sql"]


def _without_comments(text: str) -> str:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def test_models_and_macros_hold_no_duckdb_only_sql():
    found = [f"{path.relative_to(DBT_PROJECT_DIR)}: {re.search(pattern, text, re.I).group(0)!r} (use {instead})"
             for path in _sql_files()
             for text in [_without_comments(path.read_text(encoding="utf-8"))]
             for pattern, instead in DUCKDB_ONLY.items() if re.search(pattern, text, re.I)]
    assert len(_sql_files()) > 60
    assert found == []


def test_the_guard_catches_duckdb_only_sql():
    planted = "select strftime(month, '%Y') from t where d > now() - interval 1 day and x::int = 1"
    caught = {pattern for pattern in DUCKDB_ONLY if re.search(pattern, _without_comments(planted), re.I)}
    assert caught == {r"\bstrftime\s*\(", r"\binterval\b", r"::"}


def test_the_spark_build_names_its_target_and_the_raw_folders(tmp_path: Path):
    settings = Settings.from_env(warehouse_dir=tmp_path, engine="spark")
    args = dbt_args_for("build", settings, {"raw_locations": {"files": "/x/files"}})
    assert args[args.index("--target") + 1] == "spark"
    assert json.loads(args[args.index("--vars") + 1]) == {"raw_locations": {"files": "/x/files"}}


def test_duckdb_is_the_default_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RURALCARE_ENGINE", raising=False)
    settings = Settings.from_env(warehouse_dir=tmp_path)
    assert settings.engine == "duckdb"
    assert "--target" not in dbt_args_for("build", settings)


def test_an_unknown_engine_is_refused_with_the_choices(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RURALCARE_ENGINE", "postgres")
    with pytest.raises(ValueError, match="duckdb, spark"):
        Settings.from_env()


def test_spark_without_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    missing = spark_missing()
    assert missing is not None and "make setup-spark" in missing


def test_spark_without_its_python_packages_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "pyspark" else real_find_spec(name, *args))
    assert "dbt-spark and PySpark are not installed" in spark_missing()
