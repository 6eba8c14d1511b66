"""Registry exports as Polars frames: which people an export lists, their cells in the
export's style, and the rows the loader must produce from them. Used by the city scale for
every export and by the district scale for its large ones (elderly database, family doctors).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .city_people import age_at_least
from .divisions import Town
from .model import Person, am_of
from .registries import ABILITY_LABELS, SELF_CARE_LONG, ExportStyle


def place_names(towns: list[Town]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(town_code, town_name, town_government), (village_code, village_official, village_short, village_level)."""
    town_frame = pl.DataFrame({"town_code": [t.code for t in towns], "town_name": [t.name for t in towns],
                               "town_government": [t.government_name for t in towns]})
    units = [u for t in towns for u in t.villages + t.communities]
    village_frame = pl.DataFrame({"village_code": [u.code for u in units], "village_official": [u.name for u in units],
                                  "village_short": [u.short for u in units], "village_level": [u.level for u in units]})
    return town_frame, village_frame


def people_frame(people: list[Person]) -> pl.DataFrame:
    """The district model's people with the columns the elderly and family-doctor exports read."""
    return pl.DataFrame({
        "person_name": [p.name for p in people], "id_number": [p.id_number for p in people],
        "gender": [p.gender for p in people],
        "birth_ymd": [p.birth.year * 10000 + p.birth.month * 100 + p.birth.day for p in people],
        "birth_date": [p.birth for p in people], "town_code": [p.town.code for p in people],
        "village_code": [p.village.code for p in people], "living": [p.living for p in people],
        "left_behind": [p.left_behind for p in people], "ability": [p.ability for p in people],
        "family_planning": [p.family_planning for p in people], "phone": [p.phone for p in people],
        "death_am": [p.death_am for p in people], "device_am": [p.device_am for p in people],
        "in_elderly_db": [p.in_elderly_db for p in people], "doctor_signed": [p.doctor_signed for p in people],
        "doctor_end_am": [p.doctor_end_am for p in people], "doctor_status": [p.doctor_status for p in people],
        "doctor_institution": [p.doctor_institution for p in people],
    }, schema_overrides={"phone": pl.Utf8, "doctor_signed": pl.Date, "doctor_institution": pl.Utf8})


def _with_place_names(rows: pl.DataFrame, town_names: pl.DataFrame, village_names: pl.DataFrame) -> pl.DataFrame:
    # row order is the export's order: cells and truth rows must line up
    return (rows.join(town_names, on="town_code", how="left", maintain_order="left")
            .join(village_names, on="village_code", how="left", maintain_order="left"))


def _yes_no(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("是")).otherwise(pl.lit("否"))


def _birth(style: ExportStyle) -> pl.Expr:
    ymd = pl.col("birth_ymd")
    if style.birth_form == "slash":
        return pl.format("{}/{}/{}", ymd // 10000, ymd // 100 % 100, ymd % 100)
    if style.birth_form == "compact":
        return ymd.cast(pl.Utf8)
    return pl.col("birth_date").dt.strftime("%Y-%m-%d")


def _id(style: ExportStyle) -> pl.Expr:
    if style.id_form == "excel_formula":
        return pl.format('="{}"', pl.col("id_number"))
    if style.id_form == "apostrophe":
        return pl.lit("'") + pl.col("id_number")
    return pl.col("id_number")


def _has_device(am: int) -> pl.Expr:
    return pl.col("device_am") <= am


def _doctor_status(am: int) -> pl.Expr:
    return pl.when(pl.col("doctor_end_am") <= am).then(pl.col("doctor_status")).otherwise(pl.lit("有效"))


def _doctor_institution(frame: pl.DataFrame) -> pl.Expr:
    return pl.col("doctor_institution") if "doctor_institution" in frame.columns else pl.col("town_name") + "卫生院"


def export_rows(people: pl.DataFrame, registry: str, export: dt.date) -> pl.DataFrame:
    """The people listed in one export (the elderly database: as `Programme.in_elderly_export`)."""
    am = am_of(export)
    alive = pl.col("death_am") > am
    if registry == "elderly":
        listed = alive & age_at_least(pl.col("birth_ymd"), export, 60)
        if "in_elderly_db" in people.columns:  # the district model keeps some older people out of the database
            listed = listed & pl.col("in_elderly_db")
        return people.filter(listed)
    if registry == "tekun":
        return people.filter(pl.col("tekun") & (alive | (pl.col("tekun_end_am") <= am)))
    if registry == "dibao":
        return people.filter(pl.col("dibao") & (pl.col("dibao_start_am") <= am))
    return people.filter(pl.col("doctor_signed") <= export)


def export_cells(rows: pl.DataFrame, registry: str, style: ExportStyle, export: dt.date,
                 town_names: pl.DataFrame, village_names: pl.DataFrame, homes: pl.DataFrame) -> pl.DataFrame:
    """One export's cells as text columns, in the contract's column order."""
    am = am_of(export)
    frame = _with_place_names(rows, town_names, village_names)
    town = pl.col("town_name" if style.town_form == "name" else "town_government")
    village = pl.col("village_official" if style.village_form == "official" else "village_short")
    if registry == "elderly":
        ability = (pl.col("ability").replace_strict(ABILITY_LABELS, return_dtype=pl.Utf8) if style.ability_labels
                   else pl.col("ability").cast(pl.Utf8))
        device = pl.when(_has_device(am)).then(pl.lit("是")).otherwise(pl.lit("否"))
        cells = [pl.col("person_name"), _id(style), pl.col("gender"), _birth(style), town, village, pl.col("living"),
                 _yes_no("left_behind"), ability, _yes_no("family_planning"), device, pl.col("phone").fill_null("")]
    elif registry == "tekun":
        frame = frame.join(homes, on="town_code", how="left", maintain_order="left")
        active = pl.col("tekun_end_am") > am
        alive = pl.col("death_am") > am
        home = pl.when(pl.col("tekun_home")).then(pl.col("home_name")).otherwise(pl.lit(""))
        cells = [pl.col("person_name"), _id(style), pl.col("gender"), _birth(style), town, village,
                 pl.when(pl.col("tekun_home")).then(pl.lit("集中供养")).otherwise(pl.lit("分散供养")),
                 pl.col("tekun_self_care").replace_strict(SELF_CARE_LONG, return_dtype=pl.Utf8), home,
                 pl.col("tekun_allowance").cast(pl.Int64).cast(pl.Utf8),
                 pl.when(active).then(pl.lit("正常")).when(alive).then(pl.lit("终止")).otherwise(pl.lit("注销"))]
    elif registry == "dibao":
        status = pl.when(pl.col("dibao_end_am") > am).then(pl.lit("正常")).otherwise(pl.col("dibao_end_status"))
        cells = [pl.col("person_name"), _id(style), town, village, pl.col("dibao_category"), status]
    else:
        cells = [_id(style), pl.col("doctor_signed").dt.strftime("%Y-%m-%d"), _doctor_institution(frame),
                 _doctor_status(am)]
    return frame.select([c.alias(f"c{i}") for i, c in enumerate(cells)])


def export_truth(rows: pl.DataFrame, registry: str, style: ExportStyle, export: dt.date, file_id: str,
                 town_names: pl.DataFrame, village_names: pl.DataFrame, schema: dict[str, pl.DataType],
                 first_row: int = 2, homes: pl.DataFrame | None = None) -> pl.DataFrame:
    """What the loader must produce from one export (rows as listed, the first on line `first_row`).

    特困 and 低保 rows (city scale) need the people's registry columns of `city_people` and, for
    特困, `homes` (town_code, home_name)."""
    am = am_of(export)
    frame = _with_place_names(rows, town_names, village_names)
    fields = [pl.lit(file_id).alias("file_id"), (pl.int_range(pl.len()) + first_row).alias("row_number"),
              pl.lit(export).alias("export_date"), pl.col("id_number"), pl.lit(True).alias("id_valid"),
              pl.lit(False).alias("id_legacy15")]
    places = [pl.col("town_name" if style.town_form == "name" else "town_government").alias("town_name"),
              pl.col("village_official" if style.village_form == "official" else "village_short").alias("village_name"),
              pl.col("town_code"), pl.col("village_code").alias("village_name_code"), pl.col("village_level")]
    if registry == "elderly":
        fields += [
            pl.col("person_name"), pl.col("gender"), pl.col("birth_date"), *places,
            pl.col("living").alias("living_situation"), pl.col("left_behind"), pl.col("ability").alias("ability_level"),
            pl.col("family_planning").alias("family_planning_special"), _has_device(am).alias("smart_device"),
            pl.col("phone")]
    elif registry == "tekun":
        frame = frame.join(homes, on="town_code", how="left", maintain_order="left")
        alive = pl.col("death_am") > am
        fields += [
            pl.col("person_name"), pl.col("gender"), pl.col("birth_date"), *places,
            pl.when(pl.col("tekun_home")).then(pl.lit("集中供养")).otherwise(pl.lit("分散供养")).alias("support_mode"),
            pl.col("tekun_self_care").alias("self_care"),
            pl.when(pl.col("tekun_home")).then(pl.col("home_name")).alias("institution"),
            pl.col("tekun_allowance").cast(pl.Int64).alias("annual_allowance_yuan"),
            pl.when(pl.col("tekun_end_am") > am).then(pl.lit("正常")).when(alive).then(pl.lit("终止"))
            .otherwise(pl.lit("注销")).alias("person_status")]
    elif registry == "dibao":
        fields += [
            pl.col("person_name"), *places, pl.col("dibao_category").alias("assistance_category"),
            pl.when(pl.col("dibao_end_am") > am).then(pl.lit("正常")).otherwise(pl.col("dibao_end_status"))
            .alias("person_status")]
    elif registry == "family_doctor":
        fields += [pl.col("doctor_signed").alias("contract_date"),
                   _doctor_institution(frame).alias("contract_institution"),
                   _doctor_status(am).alias("contract_status")]
    else:
        raise ValueError(f"no truth frame for the {registry} registry")
    return frame.select(fields).select(list(schema)).cast(schema)
