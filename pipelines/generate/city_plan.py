"""The plan of a synthetic city (`reference/plan/`): the district plan's three files, same
columns and meaning, for the towns and projects `generate --scale city` builds.

- plan.csv: one plan, starting the month before the first report month (as Yubei's plan starts
  on 2021-06-30 for reports from 2021-07), its goal date the latest due date.
- plan_projects.csv: exactly `city.city_projects` (a home and a centre per town).
- plan_targets.csv: per town, the two K09 milestones the generator builds village points to
  (`city_point_targets`); per district (the towns' `parent_code`), the district plan's kinds of
  rows: K09 as the sum of its towns, the project counts (K01, K03, K04, K05, K29) from its own
  projects, the training counts scaled from the built-in plan by the number of towns, and the
  rates as the built-in plan sets them.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..plan_files import PLAN_COLUMNS
from .divisions import Town
from .model import Project, month_end

PROJECT_COUNTS = {  # what each project-count KPI counts (as int_kpi__facilities does)
    "K01_care_centres_built": lambda p: p.facility_type == "失能特困人员集中照护中心",
    "K03_nursing_home_upgrades": lambda p: p.build_mode == "改造升级",
    "K04_nursing_home_new_builds": lambda p: p.facility_type == "敬老院" and p.build_mode == "新建",
    "K05_town_centre_coverage": lambda p: p.facility_type == "镇养老服务中心",
    "K29_consolidation_completed": lambda p: p.build_mode == "撤并",
}
POINTS_KPI = "K09_village_points_built"
TOWN_SCALED = ("K17_manager_training", "K18_caregiver_training")  # district counts, sized by the towns


def city_point_targets(towns: list[Town], months: list[int]) -> dict[str, list[tuple[int, int]]]:
    """K09 milestones per town, [(due month, points)]: three fifths of its villages by the last
    report month, three quarters of those a year earlier."""
    last = months[-1]
    targets = {}
    for town in towns:
        goal = max(1, len(town.villages) * 3 // 5)
        targets[town.code] = [(last - 12, goal * 3 // 4), (last, goal)]
    return targets


def district_name(code: str) -> str:
    """The synthetic districts have codes only (5099xx): 第xx区."""
    return f"第{int(code[-2:])}区"


def plan_row(seed: int, months: list[int], projects: list[Project]) -> dict[str, str]:
    dues = [p.due_am for p in projects if p.due_am is not None]
    return {"plan_id": f"city-{seed}", "name": "合成市农村养老服务全覆盖实施方案",
            "start_date": month_end(months[0] - 1).isoformat(),
            "goal_date": month_end(max([months[-1], *dues])).isoformat()}


def project_rows(towns: list[Town], projects: list[Project]) -> list[dict[str, str]]:
    names = {t.code: t.name for t in towns}
    return [{
        "project_id": p.project_id, "town_code": p.town_code, "town_name": names[p.town_code],
        "facility_name": p.name, "facility_type": p.facility_type, "build_mode": p.build_mode,
        "host_facility": p.host, "min_area_m2": "" if p.min_area is None else f"{p.min_area:g}",
        "due_date": "" if p.due_am is None else month_end(p.due_am).isoformat(), "merge_into": p.merge_into,
        "basis": "city generator",
    } for p in projects]


def target_rows(towns: list[Town], district_of: dict[str, str], months: list[int], projects: list[Project],
                reference_targets: list[dict[str, str]], reference_towns: int) -> list[dict[str, str]]:
    """Town K09 milestones, then each district's rows. `reference_targets` are the built-in
    plan's district-level rows (its last milestone per KPI is what rates and training copy),
    `reference_towns` the number of towns that plan covers."""
    points = city_point_targets(towns, months)
    goal_am = max([months[-1], *(p.due_am for p in projects if p.due_am is not None)])
    rows: list[dict[str, str]] = []

    def add(kpi_id: str, code: str, name: str, due_am: int, value: float, basis: str) -> None:
        rows.append({"kpi_id": kpi_id, "scope_code": code, "scope_name": name,
                     "due_date": month_end(due_am).isoformat(), "target_value": f"{value:g}", "basis": basis})

    for town in towns:
        for due_am, count in points[town.code]:
            add(POINTS_KPI, town.code, town.name, due_am, count, "city generator: three fifths of the villages")
    last_reference = {}
    for r in sorted(reference_targets, key=lambda r: r["due_date"]):
        last_reference[r["kpi_id"]] = float(r["target_value"])
    for district in sorted(set(district_of[t.code] for t in towns)):
        name = district_name(district)
        own_towns = [t for t in towns if district_of[t.code] == district]
        own_projects = [p for p in projects if district_of.get(p.town_code) == district]
        point_ams = sorted({am for t in own_towns for am, _ in points[t.code]})
        for am in point_ams:
            add(POINTS_KPI, district, name, am, sum(n for t in own_towns for due, n in points[t.code] if due == am),
                "sum of towns")
        milestone_ams = sorted({*point_ams, goal_am})
        for kpi_id, counted in PROJECT_COUNTS.items():
            planned = [p.due_am for p in own_projects if counted(p) and p.due_am is not None]
            for am in milestone_ams if planned else []:
                add(kpi_id, district, name, am, sum(due <= am for due in planned),
                    "projects due by then in plan_projects.csv")
        for kpi_id, value in last_reference.items():
            if kpi_id in TOWN_SCALED:
                add(kpi_id, district, name, goal_am, round(value * len(own_towns) / reference_towns),
                    f"built-in plan's target per town x {len(own_towns)} towns")
            elif kpi_id != POINTS_KPI and kpi_id not in PROJECT_COUNTS:
                add(kpi_id, district, name, goal_am, value, "as the built-in plan")
    return rows


def write_city_plan(plan_dir: Path, plan: dict[str, str], projects: list[dict[str, str]],
                    targets: list[dict[str, str]]) -> None:
    plan_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (("plan.csv", [plan]), ("plan_projects.csv", projects), ("plan_targets.csv", targets)):
        with (plan_dir / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=PLAN_COLUMNS[name], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
