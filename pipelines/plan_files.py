"""The plan's three files (`ruralcare refresh --plan DIR`): their names and header columns, as
the built-in seeds (dbt_project/seeds/plan*.csv) have them, and the check a plan folder must pass."""

from __future__ import annotations

import csv
from pathlib import Path

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
