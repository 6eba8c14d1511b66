"""Registry exports in force each month, and the older persons of the KPIs (docs/kpis.md, "People in the KPIs")."""

from __future__ import annotations

import polars as pl

ACTIVE = "正常"
LOW_INCOME = ["低保", "低保边缘"]


def loaded_rows(rows: pl.LazyFrame, files: pl.DataFrame) -> pl.LazyFrame:
    """The registry rows of loaded files."""
    return rows.join(files.filter(pl.col("status") == "loaded").select("file_id").lazy(), on="file_id", how="semi")


def exports_in_force(rows: pl.LazyFrame, months: pl.DataFrame) -> pl.DataFrame:
    """month, month_end, export_date: the registry's latest export dated on or before the month's last day."""
    dates = rows.select("export_date").unique().collect()
    return (
        months.join(dates, how="cross")
        .filter(pl.col("export_date") <= pl.col("month_end"))
        .group_by("month", "month_end")
        .agg(pl.col("export_date").max())
        .sort("month")
    )


def birth_ymd(id_number: pl.Expr) -> pl.Expr:
    """The birth date in an 18-character ID as the integer YYYYMMDD."""
    return id_number.str.slice(6, 8).cast(pl.Int32, strict=False)


def month_day(day: pl.Expr) -> pl.Expr:
    return day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)


def age_at(year: pl.Expr, month_day_of_year: pl.Expr, born_ymd: pl.Expr) -> pl.Expr:
    """Completed years on a day (its year and MMDD) of a person born on YYYYMMDD."""
    return year - born_ymd // 10000 - (month_day_of_year < born_ymd % 10000).cast(pl.Int32)


def _first_row_per_person(
    rows: pl.LazyFrame, town_codes: list[str], first: dict[str, pl.Expr], any_of: dict[str, pl.Expr]
) -> pl.LazyFrame:
    """Per export and valid ID in scope: the first row's fields and flags true on any row."""
    return (
        rows.filter(pl.col("id_number").is_not_null() & pl.col("town_code").is_in(town_codes))
        .sort("row_number")
        .group_by("export_date", "id_number")
        .agg(
            pl.col("town_code").first(),
            pl.col("village_name_code").first().alias("village_code"),
            *[expr.first().alias(name) for name, expr in first.items()],
            *[expr.fill_null(False).any().alias(name) for name, expr in any_of.items()],
        )
        .with_columns(birth_ymd=birth_ymd(pl.col("id_number")))
    )


def _per_month(persons: pl.LazyFrame, served: pl.DataFrame, prefix: str) -> pl.LazyFrame:
    """Each month's persons of a registry, columns other than the keys prefixed."""
    joined = served.lazy().select("month", "export_date").join(persons, on="export_date").drop("export_date")
    return joined.rename({c: f"{prefix}{c}" for c in joined.collect_schema().names() if c not in ("month", "id_number")})


def older_persons(
    elderly: pl.LazyFrame,
    tekun: pl.LazyFrame,
    dibao: pl.LazyFrame,
    served: dict[str, pl.DataFrame],
    months: pl.DataFrame,
    town_codes: list[str],
) -> pl.LazyFrame:
    """One row per month and person aged ≥ 60 at month end, from the registries' exports in force.

    A person is any valid ID on an active row (every elderly-database row; 特困 and 低保
    rows with 人员状态 正常) whose registry town is in scope. Town and village come from
    the elderly database first, then 特困, then 低保 (first row within a registry); the
    elderly-database attributes from the person's first row there.
    Columns: month, id_number, town_code, village_code, age, in_elderly_db, smart_device,
    key_group, grid_group, device_group.
    """
    elderly_persons = _first_row_per_person(
        elderly,
        town_codes,
        first={
            "planning_special_disabled": (
                pl.col("family_planning_special").fill_null(False) & (pl.col("ability_level") >= 1).fill_null(False)
            ),
            "lives_alone": (pl.col("living_situation") == "独居").fill_null(False),
            "left_behind": pl.col("left_behind").fill_null(False),
            "smart_device": pl.col("smart_device").fill_null(False),
        },
        any_of={},
    )
    tekun_persons = _first_row_per_person(
        tekun.filter(pl.col("person_status") == ACTIVE),
        town_codes,
        first={},
        any_of={"dispersed_tekun": pl.col("support_mode") == "分散供养"},
    )
    dibao_persons = _first_row_per_person(
        dibao.filter(pl.col("person_status") == ACTIVE),
        town_codes,
        first={},
        any_of={"low_income": pl.col("assistance_category").is_in(LOW_INCOME)},
    )
    keys = ["month", "id_number"]
    persons = (
        _per_month(elderly_persons, served["elderly"], "e_")
        .with_columns(in_elderly_db=pl.lit(True))
        .join(_per_month(tekun_persons, served["tekun"], "t_"), on=keys, how="full", coalesce=True)
        .join(_per_month(dibao_persons, served["dibao"], "d_"), on=keys, how="full", coalesce=True)
        .join(
            months.lazy().select(
                "month",
                end_year=pl.col("month_end").dt.year().cast(pl.Int32),
                end_month_day=month_day(pl.col("month_end")),
            ),
            on="month",
        )
    )
    in_elderly = pl.col("in_elderly_db").fill_null(False)
    in_tekun = pl.col("t_town_code").is_not_null()
    persons = persons.with_columns(
        in_elderly_db=in_elderly,
        town_code=pl.when(in_elderly)
        .then(pl.col("e_town_code"))
        .when(in_tekun)
        .then(pl.col("t_town_code"))
        .otherwise(pl.col("d_town_code")),
        village_code=pl.when(in_elderly)
        .then(pl.col("e_village_code"))
        .when(in_tekun)
        .then(pl.col("t_village_code"))
        .otherwise(pl.col("d_village_code")),
        age=age_at(
            pl.col("end_year"),
            pl.col("end_month_day"),
            pl.coalesce("e_birth_ymd", "t_birth_ymd", "d_birth_ymd"),
        ),
        smart_device=pl.col("e_smart_device").fill_null(False),
        lives_alone=pl.col("e_lives_alone").fill_null(False),
        left_behind=pl.col("e_left_behind").fill_null(False),
        key_group=pl.col("t_dispersed_tekun").fill_null(False)
        | pl.col("d_low_income").fill_null(False)
        | pl.col("e_planning_special_disabled").fill_null(False),
    ).filter(pl.col("age") >= 60)
    return persons.with_columns(
        grid_group=~pl.col("key_group") & ((pl.col("age") >= 80) | pl.col("lives_alone") | pl.col("left_behind")),
        device_group=pl.col("key_group") | (pl.col("age") >= 80) | pl.col("lives_alone"),
    ).select(
        "month",
        "id_number",
        "town_code",
        "village_code",
        "age",
        "in_elderly_db",
        "smart_device",
        "key_group",
        "grid_group",
        "device_group",
    )
