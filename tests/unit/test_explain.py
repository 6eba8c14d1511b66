"""`ruralcare explain` (pipelines/explain.py): the parsers, and one KPI row explained from a
hand-made published database with marts.kpi_members."""
import io
from datetime import date
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from pipelines.explain import KpiChoice, Town, explain_kpi, parse_kpi, parse_town, render_explanation

KPIS = [
    KpiChoice("K09_village_points_built", 9, "村级互助养老点建成数", "个"),
    KpiChoice("K10_village_coverage", 10, "村级互助养老服务覆盖率", "%"),
    KpiChoice("K14_one_to_one_pairing", 14, "重点对象一对一结对率", "%"),
    KpiChoice("K15_grid_pairing", 15, "网格化结对率", "%"),
]
TOWNS = [Town("500112018", "王家街道"), Town("500112129", "玉峰山镇"), Town("500112133", "统景镇")]
JUNE = date(2022, 6, 1)


@pytest.mark.parametrize(("typed", "kpi_id"), [
    ("K10", "K10_village_coverage"),
    ("k10", "K10_village_coverage"),
    ("K010", "K10_village_coverage"),
    ("10", "K10_village_coverage"),
    (" 9 ", "K09_village_points_built"),
    ("K09", "K09_village_points_built"),
    ("k9", "K09_village_points_built"),
    ("K10_village_coverage", "K10_village_coverage"),
    ("k10_VILLAGE_coverage", "K10_village_coverage"),
    ("村级互助养老服务覆盖率", "K10_village_coverage"),
    ("互助养老服务覆盖", "K10_village_coverage"),  # a part naming one KPI only
    ("一对一", "K14_one_to_one_pairing"),
])
def test_parse_kpi_accepts_id_number_and_chinese_name(typed: str, kpi_id: str) -> None:
    assert parse_kpi(typed, KPIS).kpi_id == kpi_id


@pytest.mark.parametrize(("typed", "message"), [
    ("K99", "no KPI 'K99'; give an id (K10), a number (10) or a Chinese name. KPIs: K09_village_points_built 村级互助养老点建成数;"),
    ("coverage", "no KPI 'coverage'"),  # English words are not names
    ("", "no KPI ''"),
    ("结对率", "KPI '结对率' matches 2 KPIs: K14_one_to_one_pairing 重点对象一对一结对率; K15_grid_pairing 网格化结对率. Give its id, e.g. K14."),
    ("村级", "matches 2 KPIs"),
])
def test_parse_kpi_names_the_valid_choices(typed: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_kpi(typed, KPIS)
    assert message in str(error.value)


@pytest.mark.parametrize(("typed", "town_code"), [
    ("500112129", "500112129"),
    ("玉峰山镇", "500112129"),
    ("玉峰山", "500112129"),
    (" 王家街道 ", "500112018"),
    ("王家", "500112018"),
    ("统景", "500112133"),
])
def test_parse_town_accepts_code_and_name_with_or_without_suffix(typed: str, town_code: str) -> None:
    assert parse_town(typed, TOWNS).town_code == town_code


@pytest.mark.parametrize("typed", ["玉峰", "双龙湖街道", "500112", "", "yufengshan"])
def test_parse_town_lists_the_towns_when_it_finds_none(typed: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_town(typed, TOWNS)
    assert str(error.value) == (f"no town {typed!r} among the towns of the plan; give a code or a name: "
                                "王家街道（500112018）、玉峰山镇（500112129）、统景镇（500112133）")


MEMBER_COLUMNS = """kpi_id varchar, town_code varchar, town_name varchar, month date, member_kind varchar,
    member_id varchar, member_name varchar, village_code varchar, village_name varchar, person_group varchar,
    in_numerator boolean, in_denominator boolean, numerator_value double, denominator_value double,
    reason_zh varchar, source_file varchar, source_sheet varchar, source_row integer"""
BOOK = "玉峰山镇_2022年06月_农村养老服务全覆盖进度表.xlsx"
REGISTRY = "农村老年人信息库_20220629.csv"


def _published(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_kpi (kpi_id varchar, kpi_no integer, name_zh varchar, unit varchar)")
    con.executemany("insert into marts.dim_kpi values (?, ?, ?, ?)",
                    [(k.kpi_id, k.kpi_no, k.name_zh, k.unit) for k in KPIS])
    con.execute("create table marts.dim_town (town_code varchar, town_name varchar, is_rural_scope boolean)")
    con.executemany("insert into marts.dim_town values (?, ?, true)", [(t.town_code, t.town_name) for t in TOWNS])
    con.execute("""create table marts.kpi_town_monthly (town_code varchar, month date, kpi_id varchar, numerator double,
                   denominator double, value double, target double, status varchar, stale boolean)""")
    con.execute("""insert into marts.kpi_town_monthly values
        ('500112129', ?, 'K10_village_coverage', 2, 3, 0.6667, 1.0, 'red', false),
        ('500112129', ?, 'K14_one_to_one_pairing', 1, 3, 0.3333, 1.0, 'red', true),
        ('500112129', '2022-05-01', 'K10_village_coverage', 1, 3, 0.3333, 1.0, 'red', false)""", [JUNE, JUNE])
    con.execute(f"create table marts.kpi_members ({MEMBER_COLUMNS})")
    rows = [
        ("K10_village_coverage", "village", "V1", "石坪村", "V1", "石坪村", None, True, True, 1, 1, "点位已建成", BOOK, "互助养老点", 5),
        ("K10_village_coverage", "village", "V2", "黄印村", "V2", "黄印村", None, True, True, 1, 1, "合并设置至石坪村", BOOK, "互助养老点", 6),
        ("K10_village_coverage", "village", "V3", "[新]桥村", "V3", "[新]桥村", None, False, True, 0, 1, "进度表中无此村", None, None, None),
        ("K10_village_coverage", "row", "f1:9", "太洪社区", None, None, None, False, False, 0, 0, "社区不计入", BOOK, "互助养老点", 9),
        ("K14_one_to_one_pairing", "person", "p-aaa", None, "V1", "石坪村", "特困", True, True, 1, 1, "已结对", BOOK, "结对扶老", 4),
        ("K14_one_to_one_pairing", "person", "p-bbb", None, "V1", "石坪村", "高龄", False, True, 0, 1, "无一对一结对记录", REGISTRY, None, 120),
        ("K14_one_to_one_pairing", "person", "p-ccc", None, "V2", "黄印村", "特困", False, True, 0, 1, "无一对一结对记录", REGISTRY, None, 121),
    ]
    con.executemany("insert into marts.kpi_members values (?, '500112129', '玉峰山镇', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r[0], JUNE, *r[1:]) for r in rows])
    con.close()
    return path


def _rendered(explanation) -> str:
    out = io.StringIO()
    render_explanation(explanation, Console(file=out, width=250, color_system=None, soft_wrap=True))
    return out.getvalue()


def test_explain_splits_the_members_and_names_their_rows(tmp_path: Path) -> None:
    published = _published(tmp_path / "ruralcare.duckdb")

    explanation = explain_kpi(published, "覆盖率", "玉峰山", JUNE)

    assert (explanation.kpi.kpi_id, explanation.town.town_code) == ("K10_village_coverage", "500112129")
    assert (explanation.numerator, explanation.denominator) == (2, 3)
    assert [m.label for m in explanation.passing] == ["石坪村", "黄印村"]
    assert [(m.label, m.reason_zh, m.source) for m in explanation.failing] == [("[新]桥村", "进度表中无此村", "")]
    assert [(m.label, m.source) for m in explanation.outside] == [("太洪社区", f"{BOOK} / 互助养老点 / row 9")]
    text = _rendered(explanation)
    assert "value 66.7% = 2 / 3, target 100.0%" in text
    assert "Failing: not in the numerator (1)" in text and "Passing: in the numerator (2)" in text and "[新]桥村" in text
    assert f"{BOOK} / 互助养老点 / row 5" in text


def test_explain_counts_persons_by_village_without_listing_them(tmp_path: Path) -> None:
    published = _published(tmp_path / "ruralcare.duckdb")

    explanation = explain_kpi(published, "14", "500112129", JUNE)

    assert [(v.village_name, v.not_counted, v.counted, v.groups) for v in explanation.persons_by_village()] == [
        ("石坪村", 1, 1, "特困 1、高龄 1"), ("黄印村", 1, 0, "特困 1")]
    text = _rendered(explanation)
    assert "value 33.3% = 1 / 3" in text and "stale" in text
    assert "p-aaa" not in text and "p-bbb" not in text


def test_explain_points_a_registry_kpi_without_listed_members_to_the_person_fact(tmp_path: Path) -> None:
    published = _published(tmp_path / "ruralcare.duckdb")
    con = duckdb.connect(str(published))
    con.execute("insert into marts.dim_kpi values ('K20_family_doctor_contract_rate', 20, '家庭医生签约率', '%')")
    con.execute("insert into marts.kpi_town_monthly values "
                "('500112129', ?, 'K20_family_doctor_contract_rate', 40, 50, 0.8, null, null, false)", [JUNE])
    con.close()

    text = _rendered(explain_kpi(published, "K20", "玉峰山镇", JUNE))

    assert "value 80.0% = 40 / 50" in text
    assert "marts.fct_person_monthly" in text and "has_family_doctor_contract" in text
    assert "No members recorded" not in text


@pytest.mark.parametrize(("kpi", "town", "month", "message"), [
    ("K9", "玉峰山镇", JUNE, "no K09_village_points_built row for 玉峰山镇 in 2022-06; the published months are 2022-05 to 2022-06"),
    ("K10", "玉峰山镇", date(2021, 1, 1), "no K10_village_coverage row for 玉峰山镇 in 2021-01"),
    ("K77", "玉峰山镇", JUNE, "no KPI 'K77'"),
    ("K10", "龙兴镇", JUNE, "no town '龙兴镇'"),
])
def test_explain_says_what_it_cannot_find(tmp_path: Path, kpi: str, town: str, month: date, message: str) -> None:
    published = _published(tmp_path / "ruralcare.duckdb")
    with pytest.raises(ValueError) as error:
        explain_kpi(published, kpi, town, month)
    assert message in str(error.value)
