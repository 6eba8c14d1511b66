"""The plan's three files (`ruralcare refresh --plan DIR`): their names and header columns, as
the built-in seeds (dbt_project/seeds/plan*.csv) have them, and the check a plan folder must pass."""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.ingest.divisions import Divisions

PLAN_COLUMNS = {
    "plan.csv": ("plan_id", "name", "start_date", "goal_date"),
    "plan_projects.csv": ("project_id", "town_code", "town_name", "facility_name", "facility_type", "build_mode",
                          "host_facility", "min_area_m2", "due_date", "merge_into", "basis"),
    "plan_targets.csv": ("kpi_id", "scope_code", "scope_name", "due_date", "target_value", "basis"),
}


def plan_dir_problem(plan_dir: Path) -> str | None:
    """What is wrong with a plan folder (which file, what, what to do), or None."""
    for name, columns in PLAN_COLUMNS.items():
        path = Path(plan_dir) / name
        if not path.is_file():
            return (f"{path}: missing. A plan folder holds plan.csv, plan_projects.csv and plan_targets.csv "
                    f"(the columns of dbt_project/seeds/{name}); add it or point --plan at the right folder.")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        missing = [c for c in columns if c not in header]
        if missing:
            return (f"{path}: header lacks column(s) {', '.join(missing)}. The first line must name the columns "
                    f"{','.join(columns)} (as dbt_project/seeds/{name}).")
    return None


def plan_division_problem(plan_dir: Path, divisions_file: Path) -> str | None:
    """Which plan rows name a town or district the division list does not have (the dbt tests
    of the plan would fail the build on them), with what to do; None when every one is known.
    A scope is a programme town, a district of them (their parent_code) or `city`."""
    divisions = Divisions.load(Path(divisions_file))
    towns = set(divisions.in_scope_towns)
    districts = set(divisions.districts)
    unknown = []
    for name, column, known in (("plan_projects.csv", "town_code", towns),
                                ("plan_targets.csv", "scope_code", towns | districts | {"city"})):
        with (Path(plan_dir) / name).open(encoding="utf-8-sig", newline="") as handle:
            unknown += sorted({row[column] for row in csv.DictReader(handle)} - known)
    if not unknown:
        return None
    return (f"{plan_dir}: {len(unknown)} town or district code(s) of the plan are not programme towns or their "
            f"districts in the division list {divisions_file} (e.g. {', '.join(unknown[:3])}). A division list "
            f"other than the built-in one needs its own plan: give --plan DIR (`ruralcare generate --scale city` "
            f"writes one in OUT/reference/plan/).")
