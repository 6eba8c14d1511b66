"""Targets, 序时进度 (expected), traffic lights and the town ranking (docs/kpis.md)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from .inputs import Plan

Milestones = list[tuple[dt.date, float]]

TOWN_CENTRE_KPI = "K05_town_centre_coverage"
CENTRE = "镇养老服务中心"
DECIMALS = 6

# Each KPI's kind, measure and default threshold, written here from the programme's KPI
# definitions and never read from kpi_catalogue.csv: the answer key checks the dbt models,
# which read that seed, so a KPI the seed misclassifies shows as a difference. A test
# compares only the ids.
KPI_CLASSES: dict[str, tuple[str, str, float | None]] = {
    "K01_care_centres_built": ("progress", "count", None),
    "K02_care_centre_nursing_bed_share": ("threshold", "rate", None),
    "K03_nursing_home_upgrades": ("progress", "count", None),
    "K04_nursing_home_new_builds": ("progress", "count", None),
    "K05_town_centre_coverage": ("progress", "count", None),
    "K06_centre_area_compliance": ("threshold", "rate", 1.0),
    "K07_centre_institution_run": ("threshold", "rate", 1.0),
    "K08_nursing_home_socialised_rate": ("threshold", "rate", None),
    "K09_village_points_built": ("progress", "count", None),
    "K10_village_coverage": ("progress", "rate", None),
    "K11_point_area_compliance": ("threshold", "rate", 1.0),
    "K12_point_assistant_staffing": ("threshold", "rate", 1.0),
    "K13_village_three_ones": ("progress", "rate", None),
    "K14_one_to_one_pairing": ("progress", "rate", None),
    "K15_grid_pairing": ("progress", "rate", None),
    "K16_key_group_visit_rate": ("threshold", "rate", 1.0),
    "K17_manager_training": ("progress", "count", None),
    "K18_caregiver_training": ("progress", "count", None),
    "K19_caregiver_certification": ("threshold", "rate", None),
    "K20_family_doctor_contract_rate": ("info", "rate", None),
    "K21_elderly_database_completeness": ("info", "rate", None),
    "K22_smart_device_coverage": ("info", "rate", None),
    "K23_city_subsidy_received": ("info", "rate", None),
    "K24_district_topup_compliance": ("threshold", "rate", 1.0),
    "K25_point_subsidy_compliance": ("threshold", "rate", 1.0),
    "K26_running_fund_ratio": ("threshold", "rate", None),
    "K27_nursing_home_clinic_rate": ("info", "rate", None),
    "K28_nursing_home_registration_rate": ("threshold", "rate", 1.0),
    "K29_consolidation_completed": ("progress", "count", None),
    "K30_submission_rate": ("info", "rate", None),
}


def kpi_classes() -> pl.DataFrame:
    """kpi_id, kind, measure, threshold: KPI_CLASSES as a frame."""
    return pl.DataFrame(
        [(kpi_id, *classes) for kpi_id, classes in KPI_CLASSES.items()],
        schema={"kpi_id": pl.String, "kind": pl.String, "measure": pl.String, "threshold": pl.Float64},
        orient="row",
    )


def plan_milestones(plan: Plan) -> dict[tuple[str, str], Milestones]:
    """(kpi_id, scope_code) → the plan's milestones for it, sorted by due date."""
    out: dict[tuple[str, str], Milestones] = {}
    for kpi_id, scope_code, due, value in plan.targets.sort("due_date").iter_rows():
        out.setdefault((kpi_id, scope_code), []).append((due, value))
    return out


def town_centre_dues(plan: Plan) -> dict[str, dt.date]:
    """town_code → the earliest due date of its 镇养老服务中心 projects."""
    centres = plan.projects.filter((pl.col("facility_type") == CENTRE) & pl.col("due_date").is_not_null())
    dues = centres.group_by("town_code").agg(pl.col("due_date").min())
    return dict(dues.iter_rows())


def milestones_for(
    plan: Plan, kpi_id: str, measure: str, scope_code: str, district_code: str | None = None
) -> Milestones:
    """The milestones (due date, value) that apply to a KPI in a scope, sorted by due date.

    A scope's own rows. A town (`district_code` given) without its own: for a rate, its
    district's rows; for K05, 1 on the due date of its 镇养老服务中心 project; other counts: none.
    """
    return _milestones(plan_milestones(plan), town_centre_dues(plan), kpi_id, measure, scope_code, district_code)


def _milestones(
    planned: dict[tuple[str, str], Milestones],
    centre_dues: dict[str, dt.date],
    kpi_id: str,
    measure: str,
    scope_code: str,
    district_code: str | None,
) -> Milestones:
    own = planned.get((kpi_id, scope_code), [])
    if own or district_code is None:
        return own
    if measure == "rate":
        return planned.get((kpi_id, district_code), [])
    if kpi_id == TOWN_CENTRE_KPI and scope_code in centre_dues:
        return [(centre_dues[scope_code], 1.0)]
    return []


def applicable_milestone(milestones: Milestones, month_end: dt.date) -> tuple[dt.date, float]:
    """The earliest milestone due on or after the month's last day, else the last one."""
    for due, value in milestones:
        if due >= month_end:
            return due, value
    return milestones[-1]


def expected_progress(milestones: Milestones, start_date: dt.date, as_of: dt.date) -> float:
    """序时进度: linear in calendar days from 0 at the plan start through each milestone.

    A milestone dated on or before the start is a baseline: the line starts from its value.
    Before the start the line is at its starting value; after the last milestone, at its value.
    """
    baseline = [value for due, value in milestones if due <= start_date]
    points = [(start_date, baseline[-1] if baseline else 0.0)] + [(d, v) for d, v in milestones if d > start_date]
    if as_of <= points[0][0]:
        return float(points[0][1])
    for (d0, v0), (d1, v1) in zip(points, points[1:]):
        if as_of <= d1:
            return v0 + (v1 - v0) * (as_of - d0).days / (d1 - d0).days
    return float(points[-1][1])


def traffic_light(
    kind: str, value: float | None, target: float | None, expected: float | None, final: float | None
) -> str:
    """Status with precedence na (no value) → info (no target) → colour, decided on values rounded to 6 decimals."""
    if value is None:
        return "na"
    if kind == "info" or target is None:
        return "info"
    value = round(value, DECIMALS)
    if kind == "progress":
        if final is not None and value >= round(final, DECIMALS):
            return "done"
        if target == 0:  # nothing due yet, more later: on or ahead of 序时进度 is green (the gap's sign)
            return "green" if value >= round(expected, DECIMALS) else "red"
        gap = round((value - round(expected, DECIMALS)) / target, DECIMALS)
        if gap >= -0.10:
            return "green"
        return "yellow" if gap >= -0.30 else "red"
    if value >= round(target, DECIMALS):
        return "green"
    return "yellow" if value >= round(target - 0.10, DECIMALS) else "red"


def targets_frame(plan: Plan, scopes: dict[str, str | None], months: pl.DataFrame) -> pl.DataFrame:
    """scope_code, month, kpi_id, kind, measure, target, due_date, expected, final_value.

    `scopes`: scope code → its district for a town, None for a district or the city.
    """
    records = []
    month_pairs = list(zip(months["month"].to_list(), months["month_end"].to_list()))
    planned, centre_dues = plan_milestones(plan), town_centre_dues(plan)
    for kpi_id, (kind, measure, threshold) in KPI_CLASSES.items():
        for scope_code, district_code in scopes.items():
            milestones = (
                [] if kind == "info" else _milestones(planned, centre_dues, kpi_id, measure, scope_code, district_code)
            )
            for month, month_end in month_pairs:
                record = {
                    "scope_code": scope_code,
                    "month": month,
                    "kpi_id": kpi_id,
                    "kind": kind,
                    "measure": measure,
                    "target": None,
                    "due_date": None,
                    "expected": None,
                    "final_value": None,
                }
                if milestones:
                    due, value = applicable_milestone(milestones, month_end)
                    record.update(target=float(value), due_date=due, final_value=float(milestones[-1][1]))
                    if kind == "progress":
                        record["expected"] = expected_progress(milestones, plan.start_date, month_end)
                elif kind == "threshold" and threshold is not None:
                    record["target"] = float(threshold)
                records.append(record)
    return pl.DataFrame(
        records,
        schema={
            "scope_code": pl.String,
            "month": pl.Date,
            "kpi_id": pl.String,
            "kind": pl.String,
            "measure": pl.String,
            "target": pl.Float64,
            "due_date": pl.Date,
            "expected": pl.Float64,
            "final_value": pl.Float64,
        },
    )


def rank_towns(town_rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(scope_code, month, kpi_id, rank) per ranked KPI, and (town_code, month, mean_rank, overall_rank).

    Towns are ranked among the towns of their district (`district_code`). Ranked: the progress
    KPIs that have town targets in the district. Order: completion (value / town target)
    descending, then the larger absolute value (the numerator: for a count, the value itself),
    then the town code; a null completion ranks last. The districts of a city are ranked the same
    way, given as rows whose `district_code` is one group (`answer_kpis`: 'city').
    """
    ranked_kpis = (
        town_rows.filter((pl.col("kind") == "progress") & pl.col("target").is_not_null())
        .select("district_code", "kpi_id")
        .unique()
    )
    candidates = town_rows.join(ranked_kpis, on=["district_code", "kpi_id"], how="semi").with_columns(
        completion=pl.when(pl.col("target") != 0).then(pl.col("value") / pl.col("target")).round(DECIMALS),
    )
    ranks = (
        candidates.sort(
            ["district_code", "month", "kpi_id", "completion", "numerator", "scope_code"],
            descending=[False, False, False, True, True, False],
            nulls_last=True,
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("district_code", "month", "kpi_id"))
        .select("scope_code", "district_code", "month", "kpi_id", "rank")
    )
    town_rank = (
        ranks.group_by("scope_code", "district_code", "month")
        .agg(mean_rank=pl.col("rank").mean())
        .sort(["district_code", "month", "mean_rank", "scope_code"])
        .with_columns(overall_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("district_code", "month"))
        .select(town_code="scope_code", month="month", mean_rank="mean_rank", overall_rank="overall_rank")
        .sort("month", "town_code")
    )
    return ranks, town_rank
