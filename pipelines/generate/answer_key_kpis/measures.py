"""Numerators and denominators of the 30 KPIs per town and month, and for the district.

Each family returns long rows: town_code, month, kpi_id, numerator, denominator. A town and
month whose feeding sheet (or registry export) is not available yet gets null numerator and
denominator; the sheet in force may be carried forward from an earlier month.
"""

from __future__ import annotations

import polars as pl

from .names import with_facility_key
from .people import ACTIVE

BUILT = ["已建成", "已运营"]
OPERATING = "已运营"
MERGED_AWAY = "已撤并"
CENTRE = "镇养老服务中心"
HOME = "敬老院"
CARE_CENTRE = "失能特困人员集中照护中心"
SOCIALISED = ["公建民营", "委托运营"]
OWN_POINT = ["单独设立", "依托公共资源"]
STANDALONE_POINT = "单独设立"
MERGED_POINT = "合并设置"
NO_POINT_NEEDED = ["不设立（拟撤并）", "不设立（镇中心所在村）"]
MIN_POINT_AREA_M2 = 100.0
CITY_AWARD_PER_CENTRE_YUAN = 1_000_000.0
DISTRICT_TOPUP_CAP_YUAN = 1_000_000.0
EQUIPMENT_SUBSIDY_CAP_YUAN = 20_000.0
MANAGER = "院长/主管"
CAREGIVER = "养老护理员"

# docs/kpis.md: which sheets feed which KPIs (a carried-forward sheet makes them stale).
FEEDING_SHEETS = {
    "K01_care_centres_built": ("facilities",),
    "K02_care_centre_nursing_bed_share": ("facilities",),
    "K03_nursing_home_upgrades": ("facilities",),
    "K04_nursing_home_new_builds": ("facilities",),
    "K05_town_centre_coverage": ("facilities",),
    "K06_centre_area_compliance": ("facilities",),
    "K07_centre_institution_run": ("facilities",),
    "K08_nursing_home_socialised_rate": ("facilities",),
    "K09_village_points_built": ("village_points",),
    "K10_village_coverage": ("village_points",),
    "K11_point_area_compliance": ("village_points",),
    "K12_point_assistant_staffing": ("village_points",),
    "K13_village_three_ones": ("village_points",),
    "K14_one_to_one_pairing": ("pairings",),
    "K15_grid_pairing": ("pairings",),
    "K16_key_group_visit_rate": ("pairings",),
    "K17_manager_training": ("trainings",),
    "K18_caregiver_training": ("trainings",),
    "K19_caregiver_certification": ("trainings",),
    "K20_family_doctor_contract_rate": (),
    "K21_elderly_database_completeness": (),
    "K22_smart_device_coverage": (),
    "K23_city_subsidy_received": ("facilities", "funds"),
    "K24_district_topup_compliance": ("facilities", "funds"),
    "K25_point_subsidy_compliance": ("village_points",),
    "K26_running_fund_ratio": ("facilities", "funds"),
    "K27_nursing_home_clinic_rate": ("facilities",),
    "K28_nursing_home_registration_rate": ("facilities",),
    "K29_consolidation_completed": ("facilities",),
    "K30_submission_rate": (),
}
TRAINING_KPIS = ("K17_manager_training", "K18_caregiver_training", "K19_caregiver_certification")
VILLAGE_KPIS = ("K10_village_coverage", "K13_village_three_ones")  # an area divides by all its villages

KEYS = ["town_code", "month"]


def _count(condition: pl.Expr) -> pl.Expr:
    return condition.fill_null(False).cast(pl.Int64).sum()


def _filled(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().str.len_chars().fill_null(0) > 0


def available(in_force: pl.DataFrame, kinds: tuple[str, ...]) -> pl.DataFrame:
    """Town-months where every sheet kind in `kinds` has a version in force."""
    frames = [
        in_force.filter((pl.col("sheet_kind") == kind) & pl.col("file_id").is_not_null()).select(KEYS)
        for kind in kinds
    ]
    result = frames[0]
    for frame in frames[1:]:
        result = result.join(frame, on=KEYS)
    return result


def rows_in_force(
    rows: pl.DataFrame | pl.LazyFrame, in_force: pl.DataFrame, kind: str, months: pl.DataFrame
) -> pl.DataFrame | pl.LazyFrame:
    """The rows of the sheet version in force for each town and month (with month_end).

    A DataFrame comes back sorted by town, month and row; a LazyFrame (a row per person) stays
    lazy and unsorted: its rows are only counted.
    """
    assignment = in_force.filter((pl.col("sheet_kind") == kind) & pl.col("file_id").is_not_null()).select(
        *KEYS, "file_id"
    )
    joined = (
        assignment.lazy()
        .join(rows.lazy().drop("town_code", "month"), on="file_id")
        .join(months.lazy(), on="month")
    )
    if isinstance(rows, pl.LazyFrame):
        return joined
    return joined.collect().sort(*KEYS, "row_number")


def long_rows(frame: pl.DataFrame, measures: dict[str, tuple[str, str | None]]) -> pl.DataFrame:
    parts = [
        frame.select(
            *KEYS,
            kpi_id=pl.lit(kpi_id),
            numerator=pl.col(numerator).cast(pl.Float64),
            denominator=pl.col(denominator).cast(pl.Float64) if denominator else pl.lit(None, pl.Float64),
        )
        for kpi_id, (numerator, denominator) in measures.items()
    ]
    return pl.concat(parts)


def on_base(base: pl.DataFrame, aggregates: pl.DataFrame) -> pl.DataFrame:
    """Aggregates for every available town-month; no rows means zero."""
    joined = base.join(aggregates, on=KEYS, how="left")
    return joined.with_columns(pl.exclude(KEYS).fill_null(0))


# ---------------------------------------------------------------- 机构设施 + 资金情况


def facility_rows(rows: pl.DataFrame, towns: pl.DataFrame) -> pl.DataFrame:
    """Facility rows in force with their facility key; the same facility twice: the first row counts."""
    keyed = with_facility_key(rows, "facility_name", towns, "facility_key")
    identity = pl.coalesce(pl.col("facility_key"), pl.lit("#row") + pl.col("row_number").cast(pl.String))
    return (
        keyed.with_columns(identity=identity)
        .sort(*KEYS, "row_number")
        .unique([*KEYS, "identity"], keep="first", maintain_order=True)
        .with_columns(
            built=pl.col("build_status").is_in(BUILT).fill_null(False),
            operating_home=((pl.col("facility_type") == HOME) & (pl.col("build_status") == OPERATING)).fill_null(
                False
            ),
            socialised=pl.col("operation_mode").is_in(SOCIALISED).fill_null(False),
        )
        .with_columns(
            built_centre=(pl.col("facility_type") == CENTRE).fill_null(False) & pl.col("built"),
            built_care_centre=(pl.col("facility_type") == CARE_CENTRE).fill_null(False) & pl.col("built"),
        )
    )


def keyed_projects(projects: pl.DataFrame, towns: pl.DataFrame) -> pl.DataFrame:
    keyed = with_facility_key(projects, "facility_name", towns, "facility_key")
    return with_facility_key(keyed, "host_facility", towns, "host_key")


def facility_measures(
    facilities: pl.DataFrame, projects: pl.DataFrame, base: pl.DataFrame
) -> pl.DataFrame:
    """K01–K08, K27–K29 and K23's denominator, from the facility rows in force."""
    with_min_area = facilities.join(
        projects.select("town_code", "facility_key", "min_area_m2"), on=["town_code", "facility_key"], how="left"
    )
    per_town = with_min_area.group_by(KEYS).agg(
        care_centres=_count(pl.col("built_care_centre")),
        care_nursing_beds=pl.col("nursing_beds").filter(pl.col("built_care_centre")).sum(),
        care_beds=pl.col("beds").filter(pl.col("built_care_centre")).sum(),
        centres=_count(pl.col("built_centre")),
        centres_large_enough=_count(pl.col("built_centre") & (pl.col("area_m2") >= pl.col("min_area_m2"))),
        centres_institution_run=_count(pl.col("built_centre") & pl.col("socialised") & _filled(pl.col("operator"))),
        homes=_count(pl.col("operating_home")),
        homes_socialised=_count(pl.col("operating_home") & pl.col("socialised")),
        homes_with_clinic=_count(pl.col("operating_home") & pl.col("has_clinic")),
        homes_registered=_count(pl.col("operating_home") & pl.col("legal_person_registered") & pl.col("filed")),
    )
    matched = projects.join(
        facilities.select(*KEYS, "facility_key", "built", "build_status"),
        on=["town_code", "facility_key"],
    )
    per_project = matched.group_by(KEYS).agg(
        upgrades=_count((pl.col("build_mode") == "改造升级") & pl.col("built")),
        new_homes=_count((pl.col("build_mode") == "新建") & (pl.col("facility_type") == HOME) & pl.col("built")),
        consolidated=_count((pl.col("build_mode") == "撤并") & (pl.col("build_status") == MERGED_AWAY)),
    )
    frame = on_base(base, per_town.join(per_project, on=KEYS, how="full", coalesce=True)).with_columns(
        town_has_centre=(pl.col("centres") > 0).cast(pl.Int64),
        award_due=pl.col("centres") * CITY_AWARD_PER_CENTRE_YUAN,
    )
    return frame


def funds_measures(
    facilities: pl.DataFrame,
    funds: pl.DataFrame,
    projects: pl.DataFrame,
    towns: pl.DataFrame,
    facilities_and_funds: pl.DataFrame,
    funds_base: pl.DataFrame,
) -> pl.DataFrame:
    """K23's numerator, K24, K26's numerator (KEYS, city_award, topup_ok, topup_centres, running_funds)."""
    funds = with_facility_key(funds, "project_name", towns, "fund_key").filter(
        pl.col("amount_yuan").is_not_null()
    )
    centre_keys = pl.concat(
        [
            facilities.filter(pl.col("facility_type") == CENTRE).select(*KEYS, "facility_key"),
            facilities_and_funds.join(
                projects.filter(pl.col("facility_type") == CENTRE).select("town_code", "facility_key"),
                on="town_code",
            ),
        ]
    ).unique()
    city_award = (
        funds.filter(
            (pl.col("fund_type") == "市级奖补") & (pl.col("paid_date") <= pl.col("month_end")).fill_null(False)
        )
        .join(centre_keys, left_on=[*KEYS, "fund_key"], right_on=[*KEYS, "facility_key"], how="semi")
        .group_by(KEYS)
        .agg(city_award=pl.col("amount_yuan").sum())
    )
    home_keys = facilities.filter(pl.col("operating_home")).select(*KEYS, "facility_key")
    running = (
        funds.filter(
            (pl.col("fund_type") == "运行经费")
            & (pl.col("paid_date") <= pl.col("month_end")).fill_null(False)
            & (pl.col("paid_date").dt.year() == pl.col("month").dt.year()).fill_null(False)
        )
        .join(home_keys, left_on=[*KEYS, "fund_key"], right_on=[*KEYS, "facility_key"], how="semi")
        .group_by(KEYS)
        .agg(running_funds=pl.col("amount_yuan").sum())
    )
    home_hosts = projects.filter(pl.col("facility_type") == HOME).select("town_code", host_key="facility_key")
    topup_centres = projects.filter(
        (pl.col("facility_type") == CENTRE) & (pl.col("build_mode") == "改建")
    ).join(home_hosts, on=["town_code", "host_key"], how="semi")
    topups = (
        funds.filter(pl.col("fund_type") == "区级补助")
        .join(
            topup_centres.select("town_code", "project_id", "facility_key"),
            left_on=["town_code", "fund_key"],
            right_on=["town_code", "facility_key"],
        )
        .group_by(*KEYS, "project_id")
        .agg(total=pl.col("amount_yuan").sum())
        .group_by(KEYS)
        .agg(topup_centres=pl.len().cast(pl.Int64), topup_ok=_count(pl.col("total") <= DISTRICT_TOPUP_CAP_YUAN))
    )
    both = on_base(facilities_and_funds, city_award.join(running, on=KEYS, how="full", coalesce=True))
    return both.join(on_base(funds_base, topups), on=KEYS, how="full", coalesce=True)


def resident_allowances(
    tekun: pl.LazyFrame, served: pl.DataFrame, facilities: pl.DataFrame, towns: pl.DataFrame, base: pl.DataFrame
) -> pl.DataFrame:
    """K26's denominator: Σ 年基本生活标准 of active 集中供养 特困 persons of operating homes × month/12.

    Persons of any age with a valid ID, the first row of each ID in the export; the 供养机构 is
    matched to a home of the row's own town.
    """
    residents = (
        tekun.filter(
            pl.col("id_number").is_not_null()
            & (pl.col("person_status") == ACTIVE)
            & (pl.col("support_mode") == "集中供养")
            & pl.col("town_code").is_in(towns["town_code"].implode())
        )
        .sort("row_number")
        .unique(["export_date", "id_number"], keep="first", maintain_order=True)
    )
    residents = with_facility_key(residents, "institution", towns, "home_key")
    homes = facilities.filter(pl.col("operating_home")).select(*KEYS, home_key="facility_key")
    allowances = (
        served.lazy()
        .select("month", "export_date")
        .join(residents.select("export_date", "town_code", "home_key", "annual_allowance_yuan"), on="export_date")
        .join(homes.lazy(), on=[*KEYS, "home_key"], how="semi")
        .group_by(KEYS)
        .agg(annual_allowance=pl.col("annual_allowance_yuan").sum())
        .collect()
    )
    return on_base(base, allowances).with_columns(
        allowance_due=pl.col("annual_allowance") * pl.col("month").dt.month().cast(pl.Float64) / 12.0
    )


# ---------------------------------------------------------------- 互助养老点


def village_point_measures(rows: pl.DataFrame, villages: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """K09–K13 and K25. Only rows of the town's 村 count; a village's first main row describes its point."""
    village_rows = rows.filter((pl.col("village_level") == "village") & pl.col("village_name_code").is_not_null())
    village_rows = village_rows.with_columns(
        is_main=~pl.col("is_sub_point").fill_null(False),
    ).with_columns(
        main_order=pl.col("row_number").rank("ordinal").over(*KEYS, "village_name_code", "is_main"),
    )
    # A second main row of the same village is a DQ19 duplicate and counts nowhere.
    counted = village_rows.filter(~pl.col("is_main") | (pl.col("main_order") == 1))
    mains = counted.filter(pl.col("is_main")).with_columns(
        built=pl.col("build_status").is_in(BUILT).fill_null(False),
    ).with_columns(
        built_point=pl.col("setup_mode").is_in(OWN_POINT).fill_null(False) & pl.col("built"),
        built_standalone=(pl.col("setup_mode") == STANDALONE_POINT).fill_null(False) & pl.col("built"),
    )
    per_town = mains.group_by(KEYS).agg(
        points_built=_count(pl.col("built_point")),
        standalone_built=_count(pl.col("built_standalone")),
        standalone_large_enough=_count(pl.col("built_standalone") & (pl.col("area_m2") >= MIN_POINT_AREA_M2)),
        points_staffed=_count(pl.col("built_point") & (pl.col("assistants") >= 1)),
    )
    subsidies = counted.group_by(KEYS).agg(
        subsidised_rows=_count(pl.col("equipment_subsidy_yuan").is_not_null()),
        subsidies_within_cap=_count(pl.col("equipment_subsidy_yuan") <= EQUIPMENT_SUBSIDY_CAP_YUAN),
    )
    assistants = counted.group_by(*KEYS, "village_name_code").agg(
        has_assistant=(pl.col("assistants") >= 1).fill_null(False).any()
    )
    built_points = mains.filter(pl.col("built_point")).select(*KEYS, merge_into_code="village_name_code")
    reference = base.join(villages, on="town_code")
    per_village = (
        reference.join(
            mains.select(
                *KEYS,
                village_code="village_name_code",
                setup_mode="setup_mode",
                merge_into_code="merge_into_code",
                built_point="built_point",
                association="has_elderly_association",
                teams="volunteer_teams",
            ),
            on=[*KEYS, "village_code"],
            how="left",
        )
        .join(
            built_points.with_columns(target_built=pl.lit(True)),
            on=[*KEYS, "merge_into_code"],
            how="left",
        )
        .join(
            assistants.rename({"village_name_code": "village_code"}),
            on=[*KEYS, "village_code"],
            how="left",
        )
    )
    covered = (
        pl.col("built_point").fill_null(False)
        | pl.col("setup_mode").is_in(NO_POINT_NEEDED).fill_null(False)
        | (
            (pl.col("setup_mode") == MERGED_POINT)
            & (pl.col("merge_into_code") != pl.col("village_code"))
            & pl.col("target_built")
        ).fill_null(False)
    )
    three_ones = (
        pl.col("association").fill_null(False)
        & (pl.col("teams") >= 1).fill_null(False)
        & pl.col("has_assistant").fill_null(False)
    )
    coverage = per_village.group_by(KEYS).agg(
        villages=pl.len().cast(pl.Int64),
        villages_covered=_count(covered),
        villages_three_ones=_count(three_ones),
    )
    aggregates = per_town.join(subsidies, on=KEYS, how="full", coalesce=True).join(
        coverage, on=KEYS, how="full", coalesce=True
    )
    return on_base(base, aggregates)


# ---------------------------------------------------------------- 结对扶老 and people


def pairing_measures(rows: pl.LazyFrame, persons: pl.LazyFrame, base: pl.DataFrame) -> pl.DataFrame:
    """K14–K16: the town's older persons against its pairing sheet in force."""
    paired = (
        rows.filter(pl.col("id_number").is_not_null())
        .group_by(*KEYS, "id_number")
        .agg(
            one_to_one=(pl.col("pairing_mode") == "一对一").fill_null(False).any(),
            any_pairing=pl.col("pairing_mode").is_in(["一对一", "网格化"]).fill_null(False).any(),
            visited=(pl.col("visits_this_month") >= 1).fill_null(False).any(),
        )
    )
    people = persons.join(base.lazy(), on=KEYS, how="semi").join(paired, on=[*KEYS, "id_number"], how="left")
    aggregates = people.group_by(KEYS).agg(
        key_persons=_count(pl.col("key_group")),
        key_paired=_count(pl.col("key_group") & pl.col("one_to_one")),
        key_visited=_count(pl.col("key_group") & pl.col("visited")),
        grid_persons=_count(pl.col("grid_group")),
        grid_paired=_count(pl.col("grid_group") & pl.col("any_pairing")),
    ).collect()
    return on_base(base, aggregates)


def registry_measures(
    persons: pl.LazyFrame,
    elderly: pl.LazyFrame,
    contracts: pl.LazyFrame,
    served: dict[str, pl.DataFrame],
    elderly_base: pl.DataFrame,
    contract_base: pl.DataFrame,
) -> pl.DataFrame:
    """K20–K22 (registries alone)."""
    first_valid_contract = (
        contracts.filter(pl.col("id_number").is_not_null() & (pl.col("contract_status") == "有效"))
        .group_by("export_date", "id_number")
        .agg(contract_date=pl.col("contract_date").min())
    )
    contracted = (
        served["family_doctor"]
        .lazy()
        .join(first_valid_contract, on="export_date")
        .filter(pl.col("contract_date") <= pl.col("month_end"))
        .select("month", "id_number", contracted=pl.lit(True))
    )
    doctor = (
        persons.filter(pl.col("in_elderly_db"))
        .join(contracted, on=["month", "id_number"], how="left")
        .group_by(KEYS)
        .agg(db_persons=pl.len().cast(pl.Int64), db_contracted=_count(pl.col("contracted")))
        .collect()
    )
    complete = (
        pl.col("id_number").is_not_null()
        & pl.col("village_name_code").is_not_null()
        & pl.col("living_situation").is_not_null()
        & pl.col("left_behind").is_not_null()
        & pl.col("ability_level").is_not_null()
    )
    per_export = elderly.group_by("export_date", "town_code").agg(
        db_rows=pl.len().cast(pl.Int64), db_rows_complete=_count(complete)
    )
    completeness = (
        served["elderly"].lazy().select("month", "export_date").join(per_export, on="export_date").drop("export_date")
    ).collect()
    devices = persons.group_by(KEYS).agg(
        device_persons=_count(pl.col("device_group")),
        device_equipped=_count(pl.col("device_group") & pl.col("smart_device")),
    ).collect()
    return on_base(elderly_base, completeness.join(devices, on=KEYS, how="full", coalesce=True)).join(
        on_base(contract_base, doctor), on=KEYS, how="full", coalesce=True
    )


# ---------------------------------------------------------------- 培训情况


def counted_trainings(rows: pl.DataFrame) -> pl.DataFrame:
    """Training rows that count: a valid ID and a 培训日期 on or before the month's end."""
    return rows.filter(
        pl.col("id_number").is_not_null()
        & (pl.col("training_date") <= pl.col("month_end")).fill_null(False)
    ).with_columns(
        certified_with_number=pl.col("certified").fill_null(False) & _filled(pl.col("certificate_no"))
    )


def training_aggregates(counted: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    caregiver = pl.col("training_category") == CAREGIVER
    return counted.group_by(by).agg(
        managers=pl.col("id_number").filter(pl.col("training_category") == MANAGER).n_unique().cast(pl.Int64),
        caregivers=pl.col("id_number").filter(caregiver).n_unique().cast(pl.Int64),
        caregivers_certified=pl.col("id_number")
        .filter(caregiver & pl.col("certified_with_number"))
        .n_unique()
        .cast(pl.Int64),
    )


TRAINING_MEASURES = {
    "K17_manager_training": ("managers", None),
    "K18_caregiver_training": ("caregivers", None),
    "K19_caregiver_certification": ("caregivers_certified", "caregivers"),
}


def training_measures(counted: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    return on_base(base, training_aggregates(counted, KEYS))


def area_training_measures(counted: pl.DataFrame, base: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """K17–K19 of each district and the city (`areas`: town_code, scope_code): distinct ID numbers
    across its towns, for the months any of its towns has a training sheet. Keyed by town_code
    (holding the area's code) and month, as the towns' measures are."""
    area_months = base.join(areas, on="town_code").select("scope_code", "month").unique()
    aggregates = training_aggregates(counted.join(areas, on="town_code"), ["scope_code", "month"])
    joined = area_months.join(aggregates, on=["scope_code", "month"], how="left").with_columns(
        pl.exclude("scope_code", "month").fill_null(0)
    )
    return joined.rename({"scope_code": "town_code"})
