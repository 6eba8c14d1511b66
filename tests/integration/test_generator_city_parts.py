"""The pieces of `generate --scale city`: division list, people, registry cells (fast, no files but one)."""

import datetime as dt
from collections import Counter

import polars as pl
import pytest

from pipelines.generate.city import city_projects, pairing_frame, with_pairing_schedule
from pipelines.generate.city_divisions import PLACE_CHARS, _FIXED_WORDS, city_division_rows, write_divisions
from pipelines.generate.city_people import age_at_least, age_at_month_end, id_numbers, town_people, town_sizes
from pipelines.generate.city_registries import city_style
from pipelines.generate.registry_frames import export_cells, export_rows, place_names
from pipelines.generate.divisions import load_towns
from pipelines.generate.ids import is_valid_id, make_id
from pipelines.generate.model import am_of, parse_months


@pytest.fixture(scope="module")
def towns(tmp_path_factory):
    path = tmp_path_factory.mktemp("city") / "divisions.csv"
    write_divisions(path, city_division_rows(7, 30))
    return load_towns(path)


def test_division_rows_shape_and_names():
    rows = city_division_rows(7, 250)
    towns = [r for r in rows if r["level"] == "town"]
    units = [r for r in rows if r["level"] != "town"]
    assert len(towns) == 250
    assert len({r["code"] for r in rows}) == len(rows)
    assert {len(r["code"]) for r in towns} == {9} and {len(r["code"]) for r in units} == {12}
    town_codes = {r["code"] for r in towns}
    assert all(r["parent_code"] in town_codes and r["code"].startswith(r["parent_code"]) for r in units)
    assert {r["parent_code"] for r in towns} == {"509901", "509902", "509903"}
    assert all(r["is_rural_scope"] == "true" for r in rows)
    # town bases unique across the city, unit bases unique within a town
    assert len({r["name"].removesuffix("街道").rstrip("镇乡") for r in towns}) == 250
    per_town = Counter((r["parent_code"], r["name"][:2]) for r in units)
    assert max(per_town.values()) == 1
    villages = [r for r in units if r["level"] == "village"]
    assert all(r["name"].endswith("村村民委员会") for r in villages)
    assert all(r["name"].endswith("社区居民委员会") for r in units if r["level"] == "community")
    assert 8 * 250 <= len(villages) <= 12 * 250
    assert city_division_rows(7, 250) == rows
    assert not set(PLACE_CHARS) & set(_FIXED_WORDS)


@pytest.mark.parametrize("region,birth,sequence", [
    ("500112", dt.date(1950, 3, 7), 11), ("500000", dt.date(1962, 12, 31), 0), ("500799", dt.date(1927, 2, 28), 999),
    ("510222", dt.date(1944, 10, 1), 476),
])
def test_id_numbers_match_the_scalar_generator(region, birth, sequence):
    import numpy as np

    ymd = np.array([birth.year * 10000 + birth.month * 100 + birth.day])
    assert id_numbers(region, ymd, np.array([sequence]))[0] == make_id(region, birth, sequence)


def test_town_people_are_deterministic_unique_and_older(towns):
    months = parse_months("2022-11..2022-12")
    sizes = town_sizes(7, towns, 60_000)
    assert sum(sizes.values()) == 60_000
    people = pl.concat(town_people(7, t, sizes[t.code], months) for t in towns[:5])
    assert people["id_number"].n_unique() == people.height
    assert all(is_valid_id(i) for i in people["id_number"])
    assert people.filter(~age_at_least(pl.col("birth_ymd"), dt.date(2022, 12, 31), 60)).is_empty()
    assert people.filter(age_at_least(pl.col("birth_ymd"), dt.date(2022, 12, 31), 96)).is_empty()
    assert people.equals(pl.concat(town_people(7, t, sizes[t.code], months) for t in towns[:5]))
    share = people.select(pl.col("tekun").mean(), pl.col("dibao").mean(), pl.col("doctor_signed").is_not_null().mean())
    assert 0.02 < share["tekun"][0] < 0.04 and 0.04 < share["dibao"][0] < 0.08
    assert 0.6 < share["doctor_signed"][0] < 0.75


@pytest.mark.parametrize("birth_ymd,am,age", [
    (19621231, am_of(dt.date(2022, 12, 1)), 60), (19630101, am_of(dt.date(2022, 12, 1)), 59),
    (19621115, am_of(dt.date(2022, 11, 1)), 60), (19621201, am_of(dt.date(2022, 11, 1)), 59),
])
def test_age_at_month_end(birth_ymd, am, age):
    assert pl.select(age_at_month_end(pl.lit(birth_ymd), am)).item() == age


@pytest.mark.parametrize("index,registry,fields", [
    (0, "elderly", {2: "女", 6: "与子女同住", 7: "否", 8: "1", 11: "13812345678"}),
    (1, "elderly", {8: "轻度失能", 10: "是"}),
    (4, "tekun", {6: "集中供养", 7: "部分丧失生活自理能力", 9: "13260", 10: "正常"}),
    (0, "dibao", {4: "低保边缘", 5: "正常"}),
    (1, "family_doctor", {1: "2020-05-06", 3: "有效"}),
])
def test_export_cells_follow_the_district_forms(towns, index, registry, fields):
    town = towns[0]
    village = town.villages[0]
    style = city_style(registry, index)
    person = pl.DataFrame({
        "id_number": ["500112195003070114"], "person_name": ["王秀英"], "gender": ["女"], "birth_ymd": [19500307],
        "birth_date": [dt.date(1950, 3, 7)], "town_code": [town.code], "village_code": [village.code],
        "living": ["与子女同住"], "left_behind": [False], "ability": [1], "family_planning": [False],
        "phone": ["13812345678"], "death_am": [10**9], "device_am": [am_of(dt.date(2022, 1, 1))],
        "doctor_signed": [dt.date(2020, 5, 6)], "doctor_end_am": [10**9], "doctor_status": ["解约"],
        "tekun": [True], "tekun_self_care": ["部分丧失"], "tekun_allowance": [13260.0], "tekun_home": [True],
        "tekun_end_am": [10**9], "dibao": [True], "dibao_category": ["低保边缘"], "dibao_start_am": [0],
        "dibao_end_am": [10**9], "dibao_end_status": ["终止"],
    })
    export = dt.date(2022, 12, 29)
    town_names, village_names = place_names(towns)
    homes = pl.DataFrame({"town_code": [town.code], "home_name": [f"{town.short}敬老院"]})
    cells = export_cells(export_rows(person, registry, export), registry, style, export, town_names, village_names,
                         homes).row(0)
    for column, value in fields.items():
        assert cells[column] == value
    id_cell = {"plain": "500112195003070114", "excel_formula": '="500112195003070114"',
               "apostrophe": "'500112195003070114"}[style.id_form]
    assert id_cell in cells
    if registry != "family_doctor":
        assert (town.name if style.town_form == "name" else town.government_name) in cells
        assert (village.name if style.village_form == "official" else village.short) in cells
    assert style.encoding in ("gb18030", "utf-8", "utf-8-sig")


def test_city_styles_are_csv_in_gb18030_and_utf8():
    styles = [city_style(registry, i) for registry, count in (("tekun", 18), ("dibao", 18), ("elderly", 6),
                                                              ("family_doctor", 4)) for i in range(count)]
    assert {s.encoding for s in styles} == {"gb18030", "utf-8", "utf-8-sig"}
    assert not any(s.nul_bytes or s.repeated_header for s in styles)


def test_pairing_sheet_lists_group_members_only(towns):
    months = parse_months("2022-07..2022-12")
    town = towns[2]
    people = with_pairing_schedule(town_people(7, town, 4000, months), 7, town, 0, months)
    listed = pairing_frame(people, months[-1], dt.date(2022, 12, 28))
    assert 0 < listed.height < people.height
    assert listed.filter(~(pl.col("key") | pl.col("grid") | pl.col("pairing_other"))).is_empty()
    assert listed.filter(pl.col("pairing_am") > months[-1]).is_empty()
    assert all(len(c) >= 1 for c in listed["categories"])
    earlier = pairing_frame(people, months[0], dt.date(2022, 7, 28))
    assert earlier.height < listed.height  # coverage grows over the months


def test_city_projects_one_home_and_one_centre_per_town(towns):
    projects = city_projects(towns, parse_months("2022-01..2022-12"))
    assert Counter(p.town_code for p in projects) == {t.code: 2 for t in towns}
    centres = [p for p in projects if p.facility_type == "镇养老服务中心"]
    assert all(p.host == f"{t.short}敬老院" for p, t in zip(centres, towns))
