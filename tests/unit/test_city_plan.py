"""The city's plan (pipelines/generate/city_plan.py) and the plan-folder check (pipelines/plan_files.py)."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from pipelines.generate.city import city_projects
from pipelines.generate.city_divisions import city_division_rows, write_divisions
from pipelines.generate.city_plan import (PROJECT_COUNTS, city_point_targets, plan_row, project_rows,
                                          target_rows)
from pipelines.generate.divisions import load_towns
from pipelines.generate.model import load_projects, parse_months
from pipelines.plan_files import PLAN_COLUMNS, plan_dir_problem, plan_division_problem
from pipelines.settings import SEEDS_DIR, Settings
from pipelines.transform.dbt_run import dbt_args_for

MONTHS = parse_months("2022-05..2022-12")
TOWNS = 230  # three districts: 100, 100 and 30 towns


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


BUILTIN_TARGETS = read_rows(SEEDS_DIR / "plan_targets.csv")
BUILTIN_DISTRICT_ROWS = [r for r in BUILTIN_TARGETS if r["scope_code"] == "500112"]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    rows = city_division_rows(7, TOWNS)
    path = tmp_path_factory.mktemp("city") / "divisions.csv"
    write_divisions(path, rows)
    towns = load_towns(path)
    district_of = {r["code"]: r["parent_code"] for r in rows if r["level"] == "town"}
    projects = city_projects(towns, MONTHS)
    targets = target_rows(towns, district_of, MONTHS, projects, BUILTIN_DISTRICT_ROWS, 11)
    return towns, district_of, projects, targets


def test_the_plan_columns_are_the_seeds_headers():
    for name, columns in PLAN_COLUMNS.items():
        with (SEEDS_DIR / name).open(encoding="utf-8") as handle:
            assert tuple(next(csv.reader(handle))) == columns, name


def test_plan_starts_the_month_before_the_first_report_and_ends_at_the_latest_due_date(city):
    _, _, projects, _ = city
    plan = plan_row(7, MONTHS, projects)
    assert set(plan) == set(PLAN_COLUMNS["plan.csv"])
    assert plan["start_date"] == "2022-04-30"
    # centre due dates rotate over 8 + 6 months from the second report month (2022-06..2023-07)
    assert plan["goal_date"] == "2023-07-31"


def test_every_generated_project_is_planned_with_its_town(city):
    towns, _, projects, _ = city
    rows = project_rows(towns, projects)
    assert [r["project_id"] for r in rows] == [p.project_id for p in projects]
    assert all(set(r) == set(PLAN_COLUMNS["plan_projects.csv"]) for r in rows)
    names = {t.code: t.name for t in towns}
    assert {(r["town_code"], r["town_name"]) for r in rows} == set(names.items())
    assert Counter((r["town_code"], r["facility_type"]) for r in rows) == Counter(
        {(t.code, kind): 1 for t in towns for kind in ("敬老院", "镇养老服务中心")})
    centre = next(r for r in rows if r["facility_type"] == "镇养老服务中心")
    home = next(r for r in rows if r["town_code"] == centre["town_code"] and r["facility_type"] == "敬老院")
    assert (centre["build_mode"], centre["host_facility"], centre["min_area_m2"]) == ("改建", home["facility_name"], "800")
    assert (home["build_mode"], home["due_date"], home["min_area_m2"]) == ("现有", "", "")
    assert centre["due_date"].endswith(("-30", "-31"))


def test_each_town_has_the_k09_milestones_the_generator_builds_to(city):
    towns, _, _, targets = city
    points = city_point_targets(towns, MONTHS)
    own = [r for r in targets if len(r["scope_code"]) == 9]
    assert all(set(r) == set(PLAN_COLUMNS["plan_targets.csv"]) for r in targets)
    assert {r["kpi_id"] for r in own} == {"K09_village_points_built"}
    for town in towns:
        rows = [(r["due_date"], int(r["target_value"])) for r in own if r["scope_code"] == town.code]
        assert [d for d, _ in rows] == ["2021-12-31", "2022-12-31"]
        assert [v for _, v in rows] == [v for _, v in points[town.code]]
        assert 1 <= rows[1][1] <= len(town.villages) and rows[0][1] <= rows[1][1]


def test_each_district_has_the_builtin_plans_kinds_of_rows(city):
    towns, district_of, projects, targets = city
    districts = sorted(set(district_of.values()))
    assert districts == ["509901", "509902", "509903"]
    builtin_kpis = {r["kpi_id"] for r in BUILTIN_DISTRICT_ROWS}
    for district in districts:
        rows = [r for r in targets if r["scope_code"] == district]
        own_towns = [t.code for t in towns if district_of[t.code] == district]
        final = {r["kpi_id"]: float(r["target_value"]) for r in sorted(rows, key=lambda r: r["due_date"])}
        # the city builds no care centres, upgrades, new homes or merges: those counts are not planned
        assert set(final) == builtin_kpis - {"K01_care_centres_built", "K03_nursing_home_upgrades",
                                             "K04_nursing_home_new_builds", "K29_consolidation_completed"}
        town_points = [r for r in targets if r["scope_code"] in own_towns]
        for due in ("2021-12-31", "2022-12-31"):
            assert sum(float(r["target_value"]) for r in rows
                       if r["kpi_id"] == "K09_village_points_built" and r["due_date"] == due) == sum(
                float(r["target_value"]) for r in town_points if r["due_date"] == due)
        assert final["K05_town_centre_coverage"] == len(own_towns)
        assert final["K17_manager_training"] == round(100 * len(own_towns) / 11)
        assert final["K18_caregiver_training"] == round(1000 * len(own_towns) / 11)
        for kpi in ("K08_nursing_home_socialised_rate", "K19_caregiver_certification", "K26_running_fund_ratio"):
            assert final[kpi] == next(float(r["target_value"]) for r in BUILTIN_DISTRICT_ROWS if r["kpi_id"] == kpi)
    k05 = [(r["due_date"], float(r["target_value"])) for r in targets
           if r["scope_code"] == "509903" and r["kpi_id"] == "K05_town_centre_coverage"]
    dues = [p.due_am for p in projects if p.facility_type == "镇养老服务中心" and district_of[p.town_code] == "509903"]
    assert k05[1] == ("2022-12-31", sum(d <= MONTHS[-1] for d in dues))


def test_project_counts_read_as_the_builtin_plan_does():
    """Counting the built-in projects as the city plan counts its own gives the built-in goals."""
    projects = load_projects(SEEDS_DIR)
    goals = {r["kpi_id"]: float(r["target_value"]) for r in BUILTIN_DISTRICT_ROWS if r["due_date"] == "2022-12-31"}
    assert {kpi: sum(map(counted, projects)) for kpi, counted in PROJECT_COUNTS.items()} == {
        kpi: goals[kpi] for kpi in PROJECT_COUNTS}


def write_plan_folder(folder: Path, drop_file: str | None = None, drop_column: tuple[str, str] | None = None) -> Path:
    folder.mkdir()
    for name in PLAN_COLUMNS:
        if name == drop_file:
            continue
        text = (SEEDS_DIR / name).read_text(encoding="utf-8")
        if drop_column and drop_column[0] == name:
            header, _, rest = text.partition("\n")
            text = header.replace(drop_column[1], "something_else") + "\n" + rest
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("drop_file,drop_column,says", [
    (None, None, None),
    ("plan_targets.csv", None, ["plan_targets.csv: missing", "add it or point --plan"]),
    ("plan.csv", None, ["plan.csv: missing"]),
    (None, ("plan_projects.csv", "min_area_m2"), ["plan_projects.csv: header lacks column(s) min_area_m2",
                                                  "project_id,town_code"]),
    (None, ("plan_targets.csv", "target_value"), ["plan_targets.csv: header lacks column(s) target_value"]),
])
def test_plan_folder_problems_name_the_file_and_what_to_do(tmp_path, drop_file, drop_column, says):
    problem = plan_dir_problem(write_plan_folder(tmp_path / "plan", drop_file, drop_column))
    if says is None:
        assert problem is None
    else:
        assert all(s in problem for s in says), problem


def test_the_builtin_plan_passes_the_check():
    assert plan_dir_problem(SEEDS_DIR) is None
    assert plan_division_problem(SEEDS_DIR, SEEDS_DIR / "divisions.csv") is None


def test_a_plan_naming_towns_outside_the_division_list_is_explained(tmp_path):
    """The built-in Yubei plan against a city's division list: its towns and 500112 are unknown."""
    divisions = tmp_path / "divisions.csv"
    write_divisions(divisions, city_division_rows(seed=1, n_towns=3))
    problem = plan_division_problem(SEEDS_DIR, divisions)
    assert problem and "--plan DIR" in problem and str(divisions) in problem
    assert "500112" in problem
    # the city's own plan rows are known: its towns, their district and the city level
    towns = [r for r in city_division_rows(seed=1, n_towns=3) if r["level"] == "town"]
    plan = write_plan_folder(tmp_path / "plan", None, None)
    with (plan / "plan_projects.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(PLAN_COLUMNS["plan_projects.csv"]) + "\n")
        handle.write(f"P1,{towns[0]['code']},x,x,镇养老服务中心,新建,,,2022-12-31,,x\n")
    with (plan / "plan_targets.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(PLAN_COLUMNS["plan_targets.csv"]) + "\n")
        for scope in (towns[1]["code"], towns[0]["parent_code"], "city"):
            handle.write(f"K09_village_points_built,{scope},x,2022-12-31,1,x\n")
    assert plan_division_problem(plan, divisions) is None


def test_a_plan_folder_becomes_the_plan_dir_var(tmp_path, monkeypatch):
    monkeypatch.delenv("RURALCARE_PLAN_DIR", raising=False)
    assert "plan_dir" not in " ".join(dbt_args_for("build", Settings.from_env()))
    args = dbt_args_for("build", Settings.from_env(plan_dir=tmp_path))
    assert f'"plan_dir": "{tmp_path.resolve()}"' in args[args.index("--vars") + 1]
    monkeypatch.setenv("RURALCARE_PLAN_DIR", str(tmp_path))
    assert Settings.from_env().plan_dir == tmp_path
