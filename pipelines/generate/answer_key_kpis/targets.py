"""Targets, 序时进度 (expected), traffic lights and the town ranking (docs/kpis.md)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from .inputs import DISTRICT_CODE, Plan

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


def milestones_for(plan: Plan, kpi_id: str, measure: str, scope_code: str) -> Milestones:
    """The milestones (due date, value) that apply to a KPI in a scope, sorted by due date.

    A town's own rows; else, for a rate, the district's rows; else, for K05, 1 on the due date
    of the town's 镇养老服务中心 project. Other counts with only a district row: none.
    """

    def rows_of(code: str) -> Milestones:
        rows = plan.targets.filter((pl.col("kpi_id") == kpi_id) & (pl.col("scope_code") == code)).sort("due_date")
        return list(zip(rows["due_date"].to_list(), rows["target_value"].to_list()))

    own = rows_of(scope_code)
    if own or scope_code == DISTRICT_CODE:
        return own
    if measure == "rate":
        return rows_of(DISTRICT_CODE)
    if kpi_id == TOWN_CENTRE_KPI:
        centre = plan.projects.filter(
            (pl.col("town_code") == scope_code) & (pl.col("facility_type") == CENTRE) & pl.col("due_date").is_not_null()
        ).sort("due_date")
        return [(centre["due_date"][0], 1.0)] if centre.height else []
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
        gap = round((value - round(expected, DECIMALS)) / target, DECIMALS)
        if gap >= -0.10:
            return "green"
        return "yellow" if gap >= -0.30 else "red"
    if value >= round(target, DECIMALS):
        return "green"
    return "yellow" if value >= round(target - 0.10, DECIMALS) else "red"


def targets_frame(plan: Plan, scope_codes: list[str], months: pl.DataFrame) -> pl.DataFrame:
    """scope_code, month, kpi_id, kind, measure, target, due_date, expected, final_value."""
    records = []
    month_pairs = list(zip(months["month"].to_list(), months["month_end"].to_list()))
    for kpi_id, (kind, measure, threshold) in KPI_CLASSES.items():
        for scope_code in scope_codes:
            milestones = [] if kind == "info" else milestones_for(plan, kpi_id, measure, scope_code)
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

    Ranked: the progress KPIs that have town targets. Order: completion (value / town target)
    descending, then the larger absolute value (the numerator: for a count, the value itself),
    then the town code; a null completion ranks last.
    """
    ranked_kpis = (
        town_rows.filter((pl.col("kind") == "progress") & pl.col("target").is_not_null())["kpi_id"].unique().to_list()
    )
    candidates = town_rows.filter(pl.col("kpi_id").is_in(ranked_kpis)).with_columns(
        completion=pl.when(pl.col("target") != 0).then(pl.col("value") / pl.col("target")).round(DECIMALS),
    )
    ranks = (
        candidates.sort(
            ["month", "kpi_id", "completion", "numerator", "scope_code"],
            descending=[False, False, True, True, False],
            nulls_last=True,
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("month", "kpi_id"))
        .select("scope_code", "month", "kpi_id", "rank")
    )
    town_rank = (
        ranks.group_by("scope_code", "month")
        .agg(mean_rank=pl.col("rank").mean())
        .sort(["month", "mean_rank", "scope_code"])
        .with_columns(overall_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("month"))
        .select(town_code="scope_code", month="month", mean_rank="mean_rank", overall_rank="overall_rank")
        .sort("month", "town_code")
    )
    return ranks, town_rank
