"""The KPI answer key on the generator's own truth tables: plausibility of every row."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.generate.answer_kpis import compute_answer_kpis
from pipelines.settings import BUILTIN_DIVISIONS, SEEDS_DIR

DISTRICT = "500112"
COLUMNS_READ = {
    "files": ["file_id", "file_name", "kind", "town_code", "month", "submission_date", "modified_at", "status"],
    "sheets": ["file_id", "sheet_kind", "status"],
    "town_village_points": ["village_name_code", "village_level", "merge_into_code", "is_sub_point"],
    "town_pairings": ["id_number", "pairing_mode", "visits_this_month"],
    "registry_elderly": ["export_date", "id_number", "town_code", "village_name_code", "living_situation"],
    "registry_tekun": ["export_date", "id_number", "town_code", "village_name_code", "institution"],
    "registry_dibao": ["export_date", "id_number", "town_code", "village_name_code", "assistance_category"],
    "registry_family_doctor": ["export_date", "id_number", "contract_date", "contract_status"],
}
COUNTS_SUMMED_OVER_TOWNS = [
    "K01_care_centres_built",
    "K03_nursing_home_upgrades",
    "K04_nursing_home_new_builds",
    "K05_town_centre_coverage",
    "K09_village_points_built",
    "K29_consolidation_completed",
]


@pytest.fixture(scope="module")
def generated(generated_sources):
    truth = generated_sources / "answer_key" / "truth"
    kpis, town_rank, _ = compute_answer_kpis(truth, BUILTIN_DIVISIONS, SEEDS_DIR)
    return truth, kpis, town_rank


@pytest.mark.slow
def test_truth_tables_carry_every_column_the_answer_key_reads(generated):
    truth, _, _ = generated
    missing = {
        table: sorted(set(columns) - set(pl.read_parquet_schema(truth / f"{table}.parquet")))
        for table, columns in COLUMNS_READ.items()
    }
    assert {table: columns for table, columns in missing.items() if columns} == {}


@pytest.mark.slow
def test_generated_kpis_are_plausible(generated, generated_months):
    _, kpis, town_rank = generated
    months = kpis["month"].n_unique()
    assert months == len(generated_months)
    assert kpis.height == 13 * 30 * months  # 11 towns, the district and the city
    assert set(kpis["status"].unique()) == {"done", "green", "yellow", "red", "info", "na"}

    rates = kpis.filter(pl.col("denominator").is_not_null() & (pl.col("kpi_id") != "K23_city_subsidy_received"))
    assert rates.filter((pl.col("value") < 0) | (pl.col("value") > 1)).height == 0
    assert rates.filter(pl.col("numerator") > pl.col("denominator")).height == 0
    assert kpis.filter(pl.col("value").is_null() & (pl.col("status") != "na")).height == 0

    towns = kpis.filter(~pl.col("scope_code").is_in([DISTRICT, "city"]))
    summed = (
        towns.filter(pl.col("kpi_id").is_in(COUNTS_SUMMED_OVER_TOWNS))
        .group_by("month", "kpi_id")
        .agg(town_total=pl.col("value").sum())
    )
    district = kpis.filter(pl.col("scope_code") == DISTRICT).join(summed, on=["month", "kpi_id"])
    assert district.filter(pl.col("value") != pl.col("town_total")).height == 0

    stale_towns = towns.group_by("month", "kpi_id").agg(any_stale=pl.col("stale").any())
    district_stale = kpis.filter(pl.col("scope_code") == DISTRICT).join(stale_towns, on=["month", "kpi_id"])
    assert (district_stale["stale"] == district_stale["any_stale"]).all()

    k21 = kpis.filter(pl.col("kpi_id") == "K21_elderly_database_completeness", pl.col("scope_code") == DISTRICT)
    assert k21["value"].min() > 0.9

    assert town_rank.height == 11 * months
    ranks = town_rank.group_by("month").agg(pl.col("overall_rank").sort())
    assert all(r.to_list() == list(range(1, 12)) for r in ranks["overall_rank"])
    ranked = towns.filter(pl.col("rank").is_not_null())
    assert sorted(ranked["kpi_id"].unique()) == [
        "K05_town_centre_coverage",
        "K09_village_points_built",
        "K10_village_coverage",
        "K13_village_three_ones",
        "K14_one_to_one_pairing",
        "K15_grid_pairing",
    ]
