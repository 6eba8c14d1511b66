"""dbt builds the reference layer on a temporary DuckDB file."""

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import create_raw_tables
from pipelines.settings import DBT_PROJECT_DIR, DEFAULT_DUCKDB_MEMORY_LIMIT, Settings
from pipelines.transform.dbt_run import exported_env
from pipelines.transform import dbt_cli


def dbt(args: list[str], settings: Settings) -> subprocess.CompletedProcess:
    # The warehouse's own target folder, as in a refresh: dbt_project/target/ is setup's parse, which
    # a new warehouse starts from (a parse with this test's memory limit or vars would spoil it).
    with exported_env({**settings.dbt_env(), "DBT_TARGET_PATH": str(settings.dbt_target_dir)}):
        return subprocess.run(
            [str(dbt_cli.executable()), *args, "--profiles-dir", str(DBT_PROJECT_DIR)],
            cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False,
        )


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("wh")
    settings = Settings.from_env(warehouse_dir=warehouse)
    con = duckdb.connect(str(settings.work_db))
    create_raw_tables(con)
    con.close()
    # cautious: tests of other models that merely reference dim_town wait for those models.
    done = dbt(["build", "--select", "resource_type:seed", "+dim_town", "+dim_village",
                "--indirect-selection", "cautious"], settings)
    assert done.returncode == 0, done.stdout[-4000:]
    return settings.work_db


def query(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_eleven_towns_in_scope(reference_db: Path) -> None:
    rows = query(reference_db, "select town_name from marts.dim_town where is_rural_scope order by town_code")
    assert [r[0] for r in rows] == [
        "王家街道", "玉峰山镇", "统景镇", "大湾镇", "兴隆镇", "木耳镇",
        "茨竹镇", "古路镇", "石船镇", "大盛镇", "洛碛镇",
    ]
    assert query(reference_db, "select count(*) from marts.dim_town") == [(30,)]


def test_villages_in_scope(reference_db: Path) -> None:
    counts = dict(query(
        reference_db,
        "select level, count(*) from marts.dim_village where is_rural_scope group by level",
    ))
    assert counts == {"village": 168, "community": 30}


def test_short_names_as_towns_write_them(reference_db: Path) -> None:
    names = dict(query(reference_db, "select village_name, short_name from marts.dim_village"))
    assert names["洛碛村村民委员会"] == "洛碛村"
    assert names["王家社区居民委员会"] == "王家社区"


def test_contract_types_are_enforced(reference_db: Path) -> None:
    types = dict(query(
        reference_db,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'dim_village'",
    ))
    assert types == {
        "village_code": "VARCHAR", "village_name": "VARCHAR", "short_name": "VARCHAR",
        "level": "VARCHAR", "town_code": "VARCHAR", "is_rural_scope": "BOOLEAN",
    }


def test_divisions_file_override(tmp_path: Path) -> None:
    """`refresh --divisions FILE` loads the warehouse against another division list."""
    divisions = tmp_path / "divisions.csv"
    divisions.write_text(
        "code,name,level,parent_code,urban_rural_code,is_rural_scope\n"
        "990001001,甲镇,town,990001,,true\n"
        "990001001001,甲村村民委员会,village,990001001,,true\n",
        encoding="utf-8",
    )
    settings = Settings.from_env(warehouse_dir=tmp_path / "wh", divisions_file=divisions)
    settings.ensure_warehouse_dir()
    con = duckdb.connect(str(settings.work_db))
    create_raw_tables(con)
    con.close()
    from pipelines.transform.dbt_run import dbt_args_for

    done = dbt([*dbt_args_for("run", settings), "--select", "+dim_town", "+dim_village"], settings)
    assert done.returncode == 0, done.stdout[-4000:]
    assert query(settings.work_db, "select town_code, town_name from marts.dim_town") == [("990001001", "甲镇")]
    assert query(settings.work_db, "select short_name from marts.dim_village") == [("甲村",)]


def test_the_dbt_version_dagster_is_told_is_the_one_dbt_reports():
    """The refresh's dbt resource reads dbt-core's version instead of running `dbt --version`
    (pipelines/resources.py); dagster-dbt parses dbt's output by that version."""
    import re

    from pipelines.resources import build_resources

    reported = subprocess.run([str(dbt_cli.executable()), "--version"],
                              capture_output=True, text=True, check=True).stdout
    assert str(build_resources()["dbt"]._cli_version) == re.search(r"(\d+\.\d+\.\d+)", reported).group(1)


def duckdb_shows(memory_limit: str) -> str:
    with duckdb.connect(config={"memory_limit": memory_limit}) as con:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_dbt_and_the_writer_connection_share_the_duckdb_memory_limit(
    reference_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.resources import WarehouseResource

    monkeypatch.setenv("RURALCARE_DUCKDB_MEMORY_LIMIT", "1500MB")
    settings = Settings.from_env(work_db=reference_db)
    done = dbt(["show", "--inline", "select current_setting('memory_limit') as memory_limit", "--output", "json",
                "--log-format", "text"], settings)
    assert done.returncode == 0, done.stdout[-4000:]
    assert f'"memory_limit": "{duckdb_shows("1500MB")}"' in done.stdout
    with WarehouseResource(work_db=str(reference_db)).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == duckdb_shows("1500MB")
    assert duckdb_shows("1500MB") != duckdb_shows(DEFAULT_DUCKDB_MEMORY_LIMIT)  # the setting, not the default


def test_the_default_duckdb_memory_limit_is_the_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RURALCARE_DUCKDB_MEMORY_LIMIT", raising=False)
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")
    assert Settings.from_env().duckdb_memory_limit == DEFAULT_DUCKDB_MEMORY_LIMIT
    assert f"env_var('RURALCARE_DUCKDB_MEMORY_LIMIT', '{DEFAULT_DUCKDB_MEMORY_LIMIT}')" in profile


def parse_events(settings: Settings, target: Path) -> set[str]:
    done = dbt(["--log-format", "json", "--log-level", "debug", "parse", "--target-path", str(target)], settings)
    assert done.returncode == 0, done.stdout[-4000:]
    return {json.loads(line)["info"]["name"] for line in done.stdout.splitlines() if line.startswith("{")}


def test_a_new_warehouse_reuses_the_parse_made_for_another(tmp_path: Path) -> None:
    """dbt re-parses the whole project when the profile changed; the warehouse's path does not
    count as a change (pipelines/transform/dbt_cli.py), so a first refresh re-uses setup's parse."""
    first, second = (Settings.from_env(warehouse_dir=tmp_path / name) for name in ("first", "second"))
    parse_events(first, tmp_path / "first_target")
    (tmp_path / "second_target").mkdir()
    shutil.copy(tmp_path / "first_target" / "partial_parse.msgpack", tmp_path / "second_target")

    events = parse_events(second, tmp_path / "second_target")

    assert "UnableToPartialParse" not in events
    assert "PartialParsingSkipParsing" in events
