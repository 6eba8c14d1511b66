"""Shared test setup: an isolated Dagster home and secrets; nothing touches the repo's warehouse."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from pipelines.refresh import ensure_dagster_home
from pipelines.settings import Settings


# `make test` runs the suite on parallel workers (pytest-xdist, `-n auto --dist loadfile`): a
# module at a time, so its module fixtures are built once; and the modules naming one of these
# expensive session fixtures go to one worker together, so each fixture is built once.
SHARED_FIXTURE_GROUPS = {
    "district_inbox": ("generated_run", "generated_sources", "refreshed_warehouse", "clean_sources",
                       "refreshed_clean_warehouse"),
    "small_inbox": ("small_clean_sources", "refreshed_small_warehouse", "refreshed_with_every_option"),
}


@lru_cache(maxsize=None)
def _shared_fixture_group(module: Path) -> str | None:
    text = module.read_text(encoding="utf-8") if module.is_file() else ""
    return next((group for group, fixtures in SHARED_FIXTURE_GROUPS.items()
                 if any(re.search(rf"\b{name}\b", text) for name in fixtures)), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return _shared_fixture_group(config.rootpath / module) or module

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("dagster_home")
    ensure_dagster_home(home)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["RURALCARE_PII_KEY"] = "test-only-person-key-secret"
    os.environ["RURALCARE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))  # report fonts, cut once a session
    for name in ("RURALCARE_WORK_DB", "RURALCARE_WAREHOUSE", "RURALCARE_SOURCES",
                 "RURALCARE_PUBLISHED_DB", "RURALCARE_DIVISIONS", "RURALCARE_PLAN_DIR"):
        os.environ.pop(name, None)


@pytest.fixture()
def warehouse_dir(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"


DEFAULT_SEED = 20221231
DEFAULT_MONTHS = "2021-07..2022-12"  # the generator's default (pipelines/generate/__init__.py)


def answer_key_inbox() -> tuple[int, str]:
    """The seed and months of the inbox the answer-key tests compare against (`generated_run`): the
    generator's defaults, unless RURALCARE_TEST_SEED / RURALCARE_TEST_MONTHS name others, to check
    on data the suite never uses (README, "Checking on other data")."""
    return (int(os.environ.get("RURALCARE_TEST_SEED", DEFAULT_SEED)),
            os.environ.get("RURALCARE_TEST_MONTHS", DEFAULT_MONTHS))


@pytest.fixture(scope="session")
def generated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The generator's district output (by default its 18 months) and its summary, made once per session."""
    from pipelines.generate import generate

    seed, months = answer_key_inbox()
    out = tmp_path_factory.mktemp("generated")
    summary = generate(out, seed=seed, months=months)
    return out, summary


@pytest.fixture(scope="session")
def generated_months() -> list[date]:
    """The report months of `generated_run`, each as its first day."""
    from pipelines.generate.model import month_start, parse_months

    return [month_start(month) for month in parse_months(answer_key_inbox()[1])]


@pytest.fixture(scope="session")
def generated_sources(generated_run: tuple[Path, dict]) -> Path:
    return generated_run[0]


@pytest.fixture(scope="session")
def clean_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's `--clean` output of the default seed (no planted problems), made once."""
    from pipelines.generate import generate

    out = tmp_path_factory.mktemp("generated_clean")
    generate(out, seed=DEFAULT_SEED, clean=True)
    return out


def _copy_inbox(sources: Path, into: Path) -> Path:
    for folder in ("towns", "registries"):
        shutil.copytree(sources / folder, into / folder, symlinks=True)
    return into


def _refresh_copy(sources: Path, root: Path):
    """One full refresh of a copy of `sources` made under `root`; returns its Settings.

    The copy keeps `sources` pristine: a refresh moves rejected files aside.
    """
    from pipelines.refresh import run_refresh
    from pipelines.resources import WarehouseResource

    inbox = _copy_inbox(sources, root / "inbox")
    warehouse = WarehouseResource(sources_dir=str(inbox), warehouse_dir=str(root / "warehouse"),
                                  work_db=str(root / "warehouse" / "work.duckdb"))
    result = run_refresh(warehouse)
    assert result.success, f"refresh failed in {result.failed_stage}: {result.error}"
    return warehouse.settings()


@pytest.fixture(scope="session")
def refresh_copy():
    """refresh_copy(sources, root): one full refresh of a private copy of an inbox; its Settings."""
    return _refresh_copy


def _runs_of_last_refresh(published_db: Path) -> list:
    import dagster as dg
    import duckdb

    from pipelines.runs import REFRESH_ID_TAG

    with duckdb.connect(str(published_db), read_only=True) as con:
        ((refresh_id,),) = con.execute("select refresh_id from meta.refresh order by started desc limit 1").fetchall()
    instance = dg.DagsterInstance.get()
    return list(instance.get_runs(filters=dg.RunsFilter(tags={REFRESH_ID_TAG: refresh_id})))


@pytest.fixture(scope="session")
def runs_of_last_refresh():
    """runs_of_last_refresh(published_db): the Dagster runs (in this session's Dagster home) of the
    last refresh that published that file."""
    return _runs_of_last_refresh


@pytest.fixture(scope="session")
def refreshed_warehouse(generated_sources: Path, tmp_path_factory: pytest.TempPathFactory):
    """One full refresh of a copy of the generated inbox, run as a user runs it (`ruralcare refresh`).

    Returns its Settings. The privacy tests scan what this command left behind (its log, dbt's
    logs, the Dagster home), so the session pays for one 18-month refresh, not two.
    """
    root = tmp_path_factory.mktemp("refreshed")
    inbox = _copy_inbox(generated_sources, root / "inbox")
    command = [str(Path(sys.executable).parent / "ruralcare"), "refresh",
               "--sources", str(inbox), "--warehouse", str(root / "warehouse")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"refresh failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Settings.from_env(sources_dir=inbox, warehouse_dir=root / "warehouse")


@pytest.fixture(scope="session")
def refreshed_clean_warehouse(clean_sources: Path, tmp_path_factory: pytest.TempPathFactory):
    """--clean sources of the default seed, refreshed in a warehouse of their own; its Settings."""
    return _refresh_copy(clean_sources, tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="session")
def small_clean_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two clean months (2022-11..2022-12) of the default seed: a quick inbox for refresh mechanics."""
    from pipelines.generate import generate

    out = tmp_path_factory.mktemp("generated_small")
    generate(out, seed=DEFAULT_SEED, months="2022-11..2022-12", clean=True)
    return out


@pytest.fixture(scope="session")
def refreshed_small_warehouse(small_clean_sources: Path, tmp_path_factory: pytest.TempPathFactory):
    """The two clean months refreshed at once, in a warehouse of their own; its Settings (read only)."""
    return _refresh_copy(small_clean_sources, tmp_path_factory.mktemp("small"))


# 统景镇's last village-point milestone: the target the every-option refresh's plan raises by 5.
CHANGED_TARGET = ("500112133", "K09_village_points_built", "2022-12-31")


def _plan_with_new_target(folder: Path) -> Path:
    """The built-in plan with the CHANGED_TARGET row raised by 5."""
    from pipelines.plan_files import PLAN_COLUMNS
    from pipelines.settings import SEEDS_DIR

    folder.mkdir(parents=True)
    for name in PLAN_COLUMNS:
        shutil.copy(SEEDS_DIR / name, folder / name)
    with (folder / "plan_targets.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if (r["scope_code"], r["kpi_id"], r["due_date"]) == CHANGED_TARGET)
    row["target_value"] = str(int(row["target_value"]) + 5)
    with (folder / "plan_targets.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PLAN_COLUMNS["plan_targets.csv"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


@dataclass(frozen=True)
class OptionsRefresh:
    settings: Settings  # of the refresh (divisions and plan included)
    changed_target: tuple[str, str, str]  # (scope_code, kpi_id, due_date) of the raised plan target


@pytest.fixture(scope="session")
def refreshed_with_every_option(small_clean_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> OptionsRefresh:
    """`ruralcare refresh` of the two clean months with every option together: --sources,
    --warehouse, --divisions (a copy of the Yubei list elsewhere), --plan (the built-in plan with
    one town target raised) and --strict. Shared by the refresh-mechanics and plan tests (read only)."""
    from pipelines.settings import BUILTIN_DIVISIONS

    root = tmp_path_factory.mktemp("every_option")
    inbox = _copy_inbox(small_clean_sources, root / "inbox")
    divisions = root / "lists" / "yubei_divisions.csv"
    divisions.parent.mkdir()
    shutil.copy(BUILTIN_DIVISIONS, divisions)
    plan = _plan_with_new_target(root / "plan")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ruralcare"), "refresh", "--sources", str(inbox),
         "--warehouse", str(root / "wh"), "--divisions", str(divisions), "--plan", str(plan), "--strict"],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    settings = Settings.from_env(sources_dir=inbox, warehouse_dir=root / "wh", divisions_file=divisions, plan_dir=plan)
    return OptionsRefresh(settings, CHANGED_TARGET)


@pytest.fixture(scope="session")
def copy_inbox():
    """copy_inbox(sources, into): a private copy of an inbox (a refresh moves rejected files aside)."""
    return _copy_inbox
