"""`ruralcare refresh --plan DIR` loads another plan than the built-in Yubei seeds, and the city
generator writes one for its towns (Deliver 1 of the city-scale issue)."""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.generate import generate
from pipelines.generate.city_divisions import city_division_rows, write_divisions
from pipelines.plan_files import plan_dir_problem
from pipelines.publish.inputs import published_is_current
from pipelines.settings import SEEDS_DIR, Settings

RURALCARE = str(Path(sys.executable).parent / "ruralcare")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


KPI = "K09_village_points_built"


def test_the_marts_use_the_given_plans_targets(refreshed_with_every_option):
    settings = refreshed_with_every_option.settings
    town, kpi, due = refreshed_with_every_option.changed_target
    given = next(float(r["target_value"]) for r in read_rows(settings.plan_dir / "plan_targets.csv")
                 if (r["scope_code"], r["kpi_id"], r["due_date"]) == (town, kpi, due))
    builtin = next(float(r["target_value"]) for r in read_rows(SEEDS_DIR / "plan_targets.csv")
                   if (r["scope_code"], r["kpi_id"], r["due_date"]) == (town, kpi, due))
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        targets = con.execute("select month, target from marts.kpi_town_monthly where town_code = ? and kpi_id = ? "
                              "order by month", [town, kpi]).fetchall()
        other = con.execute("select count(*) from marts.kpi_town_monthly where town_code <> ? and kpi_id = ? "
                            "and target is not null", [town, kpi]).fetchone()[0]
    finally:
        con.close()
    assert [t for _, t in targets] == [given, given] and given != builtin
    other_towns = {r["scope_code"] for r in read_rows(SEEDS_DIR / "plan_targets.csv")
                   if r["kpi_id"] == kpi and len(r["scope_code"]) == 9} - {town}
    assert other == 2 * len(other_towns)  # the other towns keep their targets in both months


def test_the_published_database_is_current_for_its_plan_only(refreshed_with_every_option, tmp_path):
    settings = refreshed_with_every_option.settings
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        assert published_is_current(con, settings)
        assert not published_is_current(con, Settings.from_env(sources_dir=settings.sources_dir,
                                                               warehouse_dir=settings.warehouse_dir,
                                                               divisions_file=settings.divisions_file))
        changed = shutil.copytree(settings.plan_dir, tmp_path / "plan")
        targets = changed / "plan_targets.csv"
        text = targets.read_text(encoding="utf-8")
        targets.write_text(text.replace(",2022-12-31,101,", ",2022-12-31,102,"), encoding="utf-8")
        assert targets.read_text(encoding="utf-8") != text
        assert not published_is_current(con, Settings.from_env(sources_dir=settings.sources_dir,
                                                               warehouse_dir=settings.warehouse_dir, plan_dir=changed,
                                                               divisions_file=settings.divisions_file))
    finally:
        con.close()


def test_refresh_explains_a_plan_folder_without_targets(tmp_path):
    folder = tmp_path / "plan"
    folder.mkdir()
    for name in ("plan.csv", "plan_projects.csv"):
        shutil.copy(SEEDS_DIR / name, folder / name)
    done = subprocess.run([RURALCARE, "refresh", "--warehouse", str(tmp_path / "wh"), "--plan", str(folder)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "plan_targets.csv: missing" in done.stderr
    assert not (tmp_path / "wh" / "work.duckdb").exists()


def test_refresh_with_a_city_division_list_but_the_builtin_plan_says_to_give_plan(tmp_path):
    divisions = tmp_path / "divisions.csv"
    write_divisions(divisions, city_division_rows(seed=1, n_towns=3))
    done = subprocess.run([RURALCARE, "refresh", "--warehouse", str(tmp_path / "wh"), "--divisions", str(divisions)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "give --plan DIR" in done.stderr.replace("\n", " ")
    assert not (tmp_path / "wh" / "work.duckdb").exists()


def test_a_small_citys_plan_covers_every_town_and_its_projects(tmp_path):
    summary = generate(tmp_path, months="2022-11..2022-12", scale="city", city_towns=5, city_people=5_000)
    plan = Path(summary["plan"])
    assert plan_dir_problem(plan) is None
    towns = {r["code"] for r in read_rows(tmp_path / "reference" / "divisions.csv") if r["level"] == "town"}
    projects = read_rows(plan / "plan_projects.csv")
    targets = read_rows(plan / "plan_targets.csv")
    assert {p["town_code"] for p in projects} == towns
    assert {t["scope_code"] for t in targets if t["kpi_id"] == KPI and len(t["scope_code"]) == 9} == towns
    # every town's workbooks were generated against the same towns
    loaded = {r["town_code"] for r in read_rows(tmp_path / "answer_key" / "files.csv")
              if r["kind"] == "town_workbook" and r["expected_status"] == "loaded"}
    assert loaded == towns
