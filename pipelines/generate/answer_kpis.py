"""The answer key of the 30 KPIs (docs/kpis.md), computed in Polars from the generator's truth tables.

`compute_answer_kpis` returns (kpis, town_rank, district_rank): one KPI row per scope (every town
in scope, each district, i.e. the towns' parent_code, and the city, scope code `city`: every town),
month (from the earliest report month of any loaded workbook to the latest) and KPI, the towns'
overall ranking within their district and the districts' within the city per month. It is written independently of the dbt KPI
models and of the KPI catalogue they read, so that each checks the other. The tables with a
row per person are scanned lazily and streamed (`inputs.SCANNED_TABLES`), so a city of
millions of people fits in bounded memory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.generate.answer_key_kpis import measures as m
from pipelines.generate.answer_key_kpis.inputs import (
    CITY,
    Plan,
    Scope,
    load_plan,
    load_scope,
    load_truth_tables,
    month_grid,
)
from pipelines.generate.answer_key_kpis.people import exports_in_force, loaded_rows, older_persons
from pipelines.generate.answer_key_kpis.targets import kpi_classes, rank_towns, targets_frame, traffic_light
from pipelines.generate.answer_key_kpis.workbooks import (
    effective_workbooks,
    on_time_submissions,
    report_month_range,
    sheets_in_force,
    workbook_sent,
)

KEYS = ["town_code", "month"]

KPI_COLUMNS = {
    "scope_code": pl.String,
    "month": pl.Date,
    "kpi_id": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
    "target": pl.Float64,
    "due_date": pl.Date,
    "expected": pl.Float64,
    "status": pl.String,
    "stale": pl.Boolean,
    "rank": pl.Int64,
}
TOWN_RANK_COLUMNS = {
    "town_code": pl.String,
    "month": pl.Date,
    "mean_rank": pl.Float64,
    "overall_rank": pl.Int64,
}
DISTRICT_RANK_COLUMNS = {"district_code": pl.String, **{k: v for k, v in TOWN_RANK_COLUMNS.items() if k != "town_code"}}


def compute_answer_kpis(
    truth_dir: Path, divisions_file: Path, plan_dir: Path
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """`plan_dir` holds plan.csv, plan_projects.csv and plan_targets.csv (the seeds, or a city's plan)."""
    tables = load_truth_tables(truth_dir)
    scope = load_scope(divisions_file)
    plan = load_plan(plan_dir)
    month_range = report_month_range(tables["files"])
    if month_range is None:
        return (pl.DataFrame(schema=KPI_COLUMNS), pl.DataFrame(schema=TOWN_RANK_COLUMNS),
                pl.DataFrame(schema=DISTRICT_RANK_COLUMNS))
    months = month_grid(*month_range)
    # scope code → the district of a town, None for a district or the city
    scopes = {
        **dict(scope.towns.select("town_code", "district_code").iter_rows()),
        **{code: None for code in [*scope.district_codes, CITY]},
    }

    with tempfile.TemporaryDirectory(prefix="answer-kpis-") as spill_dir:
        measures = _town_measures(tables, scope, plan, months, Path(spill_dir))
    classes = kpi_classes()
    count_kpis = classes.filter(pl.col("measure") == "count")["kpi_id"].to_list()
    areas = _area_measures(measures.town_rows, measures.area_trainings, scope, count_kpis)
    stale = _stale_flags(measures.in_force, measures.sent, scope.areas())
    rows = pl.concat(
        [
            measures.town_rows.rename({"town_code": "scope_code"}),
            areas,
        ],
        how="vertical_relaxed",
    )
    scope_frame = pl.DataFrame(
        {"scope_code": list(scopes), "district_code": list(scopes.values())},
        schema={"scope_code": pl.String, "district_code": pl.String},
    )
    grid = (
        classes.select("kpi_id")
        .join(scope_frame.select("scope_code"), how="cross")
        .join(months.select("month"), how="cross")
    )
    targets = targets_frame(plan, scopes, months)
    kpis = (
        grid.join(rows, on=["scope_code", "month", "kpi_id"], how="left")
        .join(targets, on=["scope_code", "month", "kpi_id"], how="left")
        .join(stale, on=["scope_code", "month", "kpi_id"], how="left")
        .with_columns(
            denominator=pl.when(pl.col("measure") == "rate").then(pl.col("denominator")),
            value=pl.when(pl.col("measure") == "count")
            .then(pl.col("numerator"))
            .when(pl.col("denominator") > 0)
            .then(pl.col("numerator") / pl.col("denominator")),
            stale=pl.col("stale").fill_null(False),
        )
    )
    kpis = kpis.with_columns(
        status=pl.Series(
            [
                traffic_light(kind, value, target, expected, final)
                for kind, value, target, expected, final in kpis.select(
                    "kind", "value", "target", "expected", "final_value"
                ).iter_rows()
            ],
            dtype=pl.String,
        )
    )
    ranks, town_rank = rank_towns(kpis.join(scope_frame.filter(pl.col("district_code").is_not_null()), on="scope_code"))
    kpis = kpis.join(ranks.drop("district_code"), on=["scope_code", "month", "kpi_id"], how="left")
    # Districts rank among the districts of the city as towns among the towns of a district; the
    # key's kpis.csv keeps its district rows' rank empty, as kpi_district_monthly has no rank column.
    _, district_rank = rank_towns(
        kpis.filter(pl.col("scope_code").is_in(scope.district_codes)).with_columns(district_code=pl.lit(CITY))
    )
    district_rank = district_rank.rename({"town_code": "district_code"})
    scope_order = {code: i for i, code in enumerate(scopes)}
    kpis = (
        kpis.with_columns(scope_order=pl.col("scope_code").replace_strict(scope_order, return_dtype=pl.Int64))
        .sort("scope_order", "month", "kpi_id")
        .select([pl.col(name).cast(dtype) for name, dtype in KPI_COLUMNS.items()])
    )
    return (kpis, town_rank.select([pl.col(name).cast(dtype) for name, dtype in TOWN_RANK_COLUMNS.items()]),
            district_rank.select([pl.col(name).cast(dtype) for name, dtype in DISTRICT_RANK_COLUMNS.items()]))


@dataclass(frozen=True)
class _Measures:
    town_rows: pl.DataFrame  # town_code, month, kpi_id, numerator, denominator
    area_trainings: pl.DataFrame  # scope_code, month, kpi_id, …: K17–K19 of the districts and city
    in_force: pl.DataFrame  # sheets_in_force()
    sent: pl.DataFrame  # workbook_sent()


def _town_measures(
    tables: dict[str, pl.DataFrame | pl.LazyFrame], scope: Scope, plan: Plan, months: pl.DataFrame, spill_dir: Path
) -> _Measures:
    """Every town's KPI rows; `spill_dir` holds the month-by-person table while they are computed."""
    town_codes = scope.town_codes
    files = tables["files"]
    effective = effective_workbooks(files, town_codes)
    in_force = sheets_in_force(effective, tables["sheets"], town_codes, months)
    sent = workbook_sent(effective, town_codes, months)
    towns = scope.towns

    def in_force_rows(kind: str) -> pl.DataFrame:
        return m.rows_in_force(tables[f"town_{kind}"], in_force, kind, months)

    # Registries: each month's latest export on or before its last day.
    registries = ("elderly", "tekun", "dibao", "family_doctor")
    registry_rows = {r: loaded_rows(tables[f"registry_{r}"], files) for r in registries}
    served = {r: exports_in_force(registry_rows[r], months) for r in registries}
    # a row per month and older person, written once and scanned by the families that count people
    older_persons(
        registry_rows["elderly"], registry_rows["tekun"], registry_rows["dibao"], served, months, town_codes
    ).sink_parquet(spill_dir / "persons.parquet", engine="streaming")
    persons = pl.scan_parquet(spill_dir / "persons.parquet")

    town_months = sent.select(KEYS)
    facilities_base = m.available(in_force, ("facilities",))
    funds_base = m.available(in_force, ("funds",))
    facilities_and_funds = m.available(in_force, ("facilities", "funds"))
    projects = m.keyed_projects(plan.projects, towns)

    facilities = m.facility_rows(in_force_rows("facilities"), towns)
    facility = m.facility_measures(facilities, projects, facilities_base)
    funds = m.funds_measures(facilities, in_force_rows("funds"), projects, towns, facilities_and_funds, funds_base)
    tekun_base = facilities_base.join(served["tekun"].select("month"), on="month", how="semi")
    allowances = m.resident_allowances(registry_rows["tekun"], served["tekun"], facilities, towns, tekun_base)
    running = facilities_and_funds.join(funds, on=KEYS, how="left").join(allowances, on=KEYS, how="full", coalesce=True)

    points_base = m.available(in_force, ("village_points",))
    points = m.village_point_measures(in_force_rows("village_points"), scope.villages, points_base)

    people_months = pl.concat([served[r].select("month") for r in ("elderly", "tekun", "dibao")]).unique()
    pairings_base = m.available(in_force, ("pairings",)).join(people_months, on="month", how="semi")
    pairings = m.pairing_measures(in_force_rows("pairings"), persons, pairings_base)

    trainings_base = m.available(in_force, ("trainings",))
    counted_trainings = m.counted_trainings(in_force_rows("trainings"))
    trainings = m.training_measures(counted_trainings, trainings_base)
    area_trainings = m.area_training_measures(counted_trainings, trainings_base, scope.areas())

    elderly_base = town_months.join(served["elderly"].select("month"), on="month", how="semi")
    contract_base = elderly_base.join(served["family_doctor"].select("month"), on="month", how="semi")
    elderly_rows = registry_rows["elderly"].filter(pl.col("town_code").is_in(town_codes))
    registry_kpis = m.registry_measures(
        persons, elderly_rows, registry_rows["family_doctor"], served, elderly_base, contract_base
    )

    submissions = on_time_submissions(files, town_codes, months).select(
        *KEYS, on_time=pl.col("on_time").cast(pl.Int64), one=pl.lit(1, pl.Int64)
    )

    town_rows = pl.concat(
        [
            m.long_rows(
                facility,
                {
                    "K01_care_centres_built": ("care_centres", None),
                    "K02_care_centre_nursing_bed_share": ("care_nursing_beds", "care_beds"),
                    "K03_nursing_home_upgrades": ("upgrades", None),
                    "K04_nursing_home_new_builds": ("new_homes", None),
                    "K05_town_centre_coverage": ("town_has_centre", None),
                    "K06_centre_area_compliance": ("centres_large_enough", "centres"),
                    "K07_centre_institution_run": ("centres_institution_run", "centres"),
                    "K08_nursing_home_socialised_rate": ("homes_socialised", "homes"),
                    "K27_nursing_home_clinic_rate": ("homes_with_clinic", "homes"),
                    "K28_nursing_home_registration_rate": ("homes_registered", "homes"),
                    "K29_consolidation_completed": ("consolidated", None),
                },
            ),
            m.long_rows(
                facilities_and_funds.join(facility, on=KEYS, how="left").join(funds, on=KEYS, how="left"),
                {"K23_city_subsidy_received": ("city_award", "award_due")},
            ),
            m.long_rows(
                funds_base.join(funds, on=KEYS, how="left"),
                {"K24_district_topup_compliance": ("topup_ok", "topup_centres")},
            ),
            m.long_rows(running, {"K26_running_fund_ratio": ("running_funds", "allowance_due")}),
            m.long_rows(
                points,
                {
                    "K09_village_points_built": ("points_built", None),
                    "K10_village_coverage": ("villages_covered", "villages"),
                    "K11_point_area_compliance": ("standalone_large_enough", "standalone_built"),
                    "K12_point_assistant_staffing": ("points_staffed", "points_built"),
                    "K13_village_three_ones": ("villages_three_ones", "villages"),
                    "K25_point_subsidy_compliance": ("subsidies_within_cap", "subsidised_rows"),
                },
            ),
            m.long_rows(
                pairings,
                {
                    "K14_one_to_one_pairing": ("key_paired", "key_persons"),
                    "K15_grid_pairing": ("grid_paired", "grid_persons"),
                    "K16_key_group_visit_rate": ("key_visited", "key_persons"),
                },
            ),
            m.long_rows(trainings, m.TRAINING_MEASURES),
            m.long_rows(
                registry_kpis,
                {
                    "K20_family_doctor_contract_rate": ("db_contracted", "db_persons"),
                    "K21_elderly_database_completeness": ("db_rows_complete", "db_rows"),
                    "K22_smart_device_coverage": ("device_equipped", "device_persons"),
                },
            ),
            m.long_rows(submissions, {"K30_submission_rate": ("on_time", "one")}),
        ]
    ).filter(pl.col("numerator").is_not_null() | pl.col("denominator").is_not_null())
    return _Measures(town_rows, m.long_rows(area_trainings, m.TRAINING_MEASURES), in_force, sent)


def _area_measures(
    town_rows: pl.DataFrame, area_trainings: pl.DataFrame, scope: Scope, count_kpis: list[str]
) -> pl.DataFrame:
    """Numerators and denominators of each district and the city: sums over their towns with a value;
    K10 and K13 over all villages of their towns; K17–K19 distinct across their towns."""
    complete = town_rows.filter(
        pl.col("numerator").is_not_null() & (pl.col("denominator").is_not_null() | pl.col("kpi_id").is_in(count_kpis))
    )
    areas = scope.areas()
    villages = (
        areas.join(scope.villages, on="town_code")
        .group_by("scope_code")
        .agg(villages=pl.len().cast(pl.Float64))
    )
    summed = (
        complete.filter(~pl.col("kpi_id").is_in(m.TRAINING_KPIS))
        .join(areas, on="town_code")
        .group_by("scope_code", "month", "kpi_id")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        .join(villages, on="scope_code", how="left")
        .with_columns(
            denominator=pl.when(pl.col("kpi_id").is_in(m.VILLAGE_KPIS))
            .then(pl.col("villages"))
            .otherwise(pl.col("denominator"))
        )
    )
    return pl.concat([summed, area_trainings.rename({"town_code": "scope_code"})], how="diagonal_relaxed").select(
        "scope_code", "month", "kpi_id", "numerator", "denominator"
    )


def _stale_flags(in_force: pl.DataFrame, sent: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """scope_code, month, kpi_id, stale: a town without its own workbook, or a KPI fed by a sheet not sent for M.

    A district or the city is stale when any of its towns is.
    """
    feeding = pl.DataFrame(
        [(kpi_id, kind) for kpi_id, kinds in m.FEEDING_SHEETS.items() for kind in kinds],
        schema={"kpi_id": pl.String, "sheet_kind": pl.String},
        orient="row",
    )
    carried = (
        in_force.join(feeding, on="sheet_kind")
        .group_by("town_code", "month", "kpi_id")
        .agg(carried=(~pl.col("sent")).any())
    )
    towns = (
        sent.join(pl.DataFrame({"kpi_id": list(m.FEEDING_SHEETS)}), how="cross")
        .join(carried, on=["town_code", "month", "kpi_id"], how="left")
        .select(
            scope_code="town_code",
            month="month",
            kpi_id="kpi_id",
            stale=~pl.col("sent") | pl.col("carried").fill_null(False),
        )
    )
    area_flags = (
        towns.join(areas.rename({"scope_code": "area_code"}), left_on="scope_code", right_on="town_code")
        .group_by("area_code", "month", "kpi_id")
        .agg(pl.col("stale").any())
        .select(scope_code="area_code", month="month", kpi_id="kpi_id", stale="stale")
    )
    return pl.concat([towns, area_flags])
