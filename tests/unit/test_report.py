"""The monthly report (pipelines/report) on a small published database with the contract columns.

Three towns, two months: 王家街道 on time and done, 玉峰山镇 late, 统景镇 missing (stale). The city
database adds two districts for June: 第2区 with two towns of its own, 第3区 with district rows only.
"""
from datetime import date
from pathlib import Path

import duckdb

TOWNS = [("500112018", "王家街道"), ("500112129", "玉峰山镇"), ("500112133", "统景镇")]
KPIS = [
    ("K05_town_centre_coverage", "镇养老服务中心覆盖数", "progress", "个", "已建成镇养老服务中心的镇街数量"),
    ("K09_village_points_built", "村级互助养老点建成数", "progress", "个", "已建成的互助点数量"),
    ("K10_village_coverage", "村级互助养老服务覆盖率", "progress", "%", "覆盖的村 ÷ 行政村数"),
    ("K14_one_to_one_pairing", "重点对象一对一结对率", "progress", "%", "结对的重点对象 ÷ 重点对象"),
    ("K17_manager_training", "院长主管培训人数", "progress", "人", "培训的院长主管人数"),
    ("K23_city_subsidy_received", "市级奖补到位率", "info", "%", "到位奖补 ÷ 应到位"),
    ("K28_nursing_home_registration_rate", "敬老院法人登记备案率", "threshold", "%", "登记备案的敬老院 ÷ 敬老院"),
    ("K30_submission_rate", "镇街按时报送率", "info", "%", "按时报送的镇街 ÷ 镇街数"),
]
MAY, JUNE = date(2022, 5, 1), date(2022, 6, 1)
DISTRICT_NAMES = {"500112": "渝北区", "509902": "第2区", "509903": "第3区"}

# (scope, month, kpi) → numerator, denominator, value, target, due, expected, status, stale, rank
KPI_ROWS = [
    # district, June
    ("500112", JUNE, "K05_town_centre_coverage", 2, None, 2, 3, date(2022, 12, 31), 2.4, "green", True, None),
    ("500112", JUNE, "K09_village_points_built", 7, None, 7, 12, date(2022, 12, 31), 9.5, "yellow", True, None),
    ("500112", JUNE, "K10_village_coverage", 21, 30, 0.7, 1.0, date(2022, 12, 31), 0.8, "green", True, None),
    ("500112", JUNE, "K14_one_to_one_pairing", 40, 100, 0.4, 1.0, date(2022, 12, 31), 0.8, "red", True, None),
    ("500112", JUNE, "K17_manager_training", 12, None, 12, 10, date(2022, 12, 31), 6.7, "done", True, None),
    ("500112", JUNE, "K23_city_subsidy_received", 1500000, 2000000, 0.75, None, None, None, "info", True, None),
    ("500112", JUNE, "K28_nursing_home_registration_rate", 2, 3, 2 / 3, 1.0, None, None, "red", True, None),
    ("500112", JUNE, "K30_submission_rate", 1, 3, 1 / 3, None, None, None, "info", False, None),
    # district, May
    ("500112", MAY, "K05_town_centre_coverage", 1, None, 1, 3, date(2022, 12, 31), 2.2, "red", False, None),
    ("500112", MAY, "K09_village_points_built", 5, None, 5, 12, date(2022, 12, 31), 9.0, "yellow", False, None),
    ("500112", MAY, "K10_village_coverage", 18, 30, 0.6, 1.0, date(2022, 12, 31), 0.75, "green", False, None),
    ("500112", MAY, "K14_one_to_one_pairing", 40, 100, 0.4, 1.0, date(2022, 12, 31), 0.75, "red", False, None),
    ("500112", MAY, "K17_manager_training", 8, None, 8, 10, date(2022, 12, 31), 6.0, "green", False, None),
    ("500112", MAY, "K23_city_subsidy_received", 1000000, 1000000, 1.0, None, None, None, "info", False, None),
    ("500112", MAY, "K28_nursing_home_registration_rate", 2, 2, 1.0, 1.0, None, None, "green", False, None),
    ("500112", MAY, "K30_submission_rate", 3, 3, 1.0, None, None, None, "info", False, None),
    # towns, June: 王家 on time and done, 玉峰山 late, 统景 missing (stale)
    ("500112018", JUNE, "K05_town_centre_coverage", 1, None, 1, 1, date(2021, 12, 31), 1, "done", False, 1),
    ("500112129", JUNE, "K05_town_centre_coverage", 1, None, 1, 1, date(2022, 12, 31), 0.5, "done", False, 2),
    ("500112133", JUNE, "K05_town_centre_coverage", 0, None, 0, 1, date(2022, 12, 31), 0.5, "red", True, 3),
    ("500112018", JUNE, "K09_village_points_built", 3, None, 3, 3, date(2022, 12, 31), 2.4, "done", False, 1),
    ("500112129", JUNE, "K09_village_points_built", 3, None, 3, 5, date(2022, 12, 31), 4.0, "yellow", False, 2),
    ("500112133", JUNE, "K09_village_points_built", 1, None, 1, 4, date(2022, 12, 31), 3.1, "red", True, 3),
    ("500112018", JUNE, "K10_village_coverage", 8, 8, 1.0, 1.0, date(2022, 12, 31), 0.8, "done", False, 1),
    ("500112129", JUNE, "K10_village_coverage", 8, 10, 0.8, 1.0, date(2022, 12, 31), 0.8, "green", False, 2),
    ("500112133", JUNE, "K10_village_coverage", 5, 12, 5 / 12, 1.0, date(2022, 12, 31), 0.8, "red", True, 3),
    ("500112018", JUNE, "K14_one_to_one_pairing", 20, 30, 2 / 3, 1.0, date(2022, 12, 31), 0.8, "green", False, 1),
    ("500112129", JUNE, "K14_one_to_one_pairing", 15, 40, 0.375, 1.0, date(2022, 12, 31), 0.8, "red", False, 2),
    ("500112133", JUNE, "K14_one_to_one_pairing", 5, 30, 1 / 6, 1.0, date(2022, 12, 31), 0.8, "red", True, 3),
    ("500112018", JUNE, "K17_manager_training", 5, None, 5, None, None, None, "info", False, None),
    ("500112129", JUNE, "K17_manager_training", 4, None, 4, None, None, None, "info", False, None),
    ("500112133", JUNE, "K17_manager_training", 3, None, 3, None, None, None, "info", True, None),
    ("500112018", JUNE, "K23_city_subsidy_received", 1000000, 1000000, 1.0, None, None, None, "info", False, None),
    ("500112129", JUNE, "K23_city_subsidy_received", 500000, 1000000, 0.5, None, None, None, "info", False, None),
    ("500112133", JUNE, "K23_city_subsidy_received", None, 0, None, None, None, None, "na", True, None),
    ("500112018", JUNE, "K28_nursing_home_registration_rate", 1, 1, 1.0, 1.0, None, None, "green", False, None),
    ("500112129", JUNE, "K28_nursing_home_registration_rate", 1, 1, 1.0, 1.0, None, None, "green", False, None),
    ("500112133", JUNE, "K28_nursing_home_registration_rate", 0, 1, 0.0, 1.0, None, None, "red", True, None),
    ("500112018", JUNE, "K30_submission_rate", 1, 1, 1.0, None, None, None, "info", False, None),
    ("500112129", JUNE, "K30_submission_rate", 0, 1, 0.0, None, None, None, "info", False, None),
    ("500112133", JUNE, "K30_submission_rate", 0, 1, 0.0, None, None, None, "info", True, None),
]
PROJECTS = [
    ("C01", "500112018", "王家街道", "王家街道养老服务中心", "镇养老服务中心", "改建", "王家敬老院", 800, date(2021, 12, 31)),
    ("C02", "500112129", "玉峰山镇", "玉峰山镇养老服务中心", "镇养老服务中心", "新建", "玉峰山镇敬老院", 2000, date(2022, 12, 31)),
    ("C03", "500112133", "统景镇", "统景镇养老服务中心", "镇养老服务中心", "新建", "统景镇敬老院", 2000, date(2022, 5, 31)),
    ("M03", "500112133", "统景镇", "黄印敬老院", "敬老院", "撤并", None, None, date(2022, 12, 31)),
    ("H01", "500112018", "王家街道", "王家敬老院", "敬老院", "现有", None, None, None),
]
PROJECT_MONTHS = [  # project, reported status, built, overdue, area, beds
    ("C01", "已运营", True, False, 1200.0, 60),
    ("C02", "已建成", True, False, 2100.0, 120),
    ("C03", "在建", False, True, None, None),
    ("M03", "已运营", False, False, 300.0, 20),
    ("H01", "已运营", False, False, 900.0, 50),
]
FORECASTS = [  # town, month, kpi, value, due, target, pace, projected, expected completion, forecast status
    ("500112133", JUNE, "K10_village_coverage", 5 / 12, date(2022, 12, 31), 1.0, 0.05, 5 / 12 + 0.3, date(2023, 6, 1), "预计逾期"),
    ("500112133", JUNE, "K09_village_points_built", 1, date(2022, 12, 31), 4, 0.0, 1, None, "预计逾期"),
    ("500112129", JUNE, "K10_village_coverage", 0.8, date(2022, 12, 31), 1.0, 0.05, 1.1, date(2022, 10, 1), "预计按期"),
    ("500112018", JUNE, "K10_village_coverage", 1.0, date(2022, 12, 31), 1.0, 0.0, 1.0, JUNE, "已完成"),
    ("500112129", JUNE, "K14_one_to_one_pairing", 0.375, date(2022, 12, 31), 1.0, None, None, None, "数据不足"),
    ("500112129", MAY, "K09_village_points_built", 2, date(2022, 12, 31), 5, 0.1, 2.7, date(2025, 4, 1), "预计逾期"),
]
FINDINGS = [  # town, rule, severity, how many
    ("500112018", "DQ11_bad_value", "error", 2),
    ("500112129", "DQ06_key_person_unpaired", "warning", 25),
    ("500112129", "DQ11_bad_value", "error", 1),
    ("500112133", "DQ23_submission_missing", "warning", 1),
    (None, "DQ09_file_rejected", "error", 1),
]

# ---------------------------------------------------------------- the city's other districts (June)

CITY_TOWNS = [("509902001", "鹿堡镇"), ("509902002", "门岗镇")]
# Against 渝北区: K05 the same completion (2/3) with more centres, K10 the same rate (70%) with more
# villages, so 第2区 ranks first on both; the mean ranks then tie (1.75) and the code decides.
CITY_KPI_ROWS = [
    ("509902", JUNE, "K05_town_centre_coverage", 4, None, 4, 6, date(2022, 12, 31), 5, "yellow", False, None),
    ("509902", JUNE, "K09_village_points_built", 6, None, 6, 12, date(2022, 12, 31), 8, "red", False, None),
    ("509902", JUNE, "K10_village_coverage", 35, 50, 0.7, 1.0, date(2022, 12, 31), 0.8, "green", False, None),
    ("509902", JUNE, "K14_one_to_one_pairing", 30, 100, 0.3, 1.0, date(2022, 12, 31), 0.8, "red", False, None),
    ("509902", JUNE, "K30_submission_rate", 1, 2, 0.5, None, None, None, "info", False, None),
    # 第3区: no K05 target (ranked last on it), the best K14
    ("509903", JUNE, "K05_town_centre_coverage", 1, None, 1, None, None, None, "info", False, None),
    ("509903", JUNE, "K09_village_points_built", 1, None, 1, 12, date(2022, 12, 31), 8, "red", False, None),
    ("509903", JUNE, "K10_village_coverage", 5, 10, 0.5, 1.0, date(2022, 12, 31), 0.8, "red", False, None),
    ("509903", JUNE, "K14_one_to_one_pairing", 90, 100, 0.9, 1.0, date(2022, 12, 31), 0.8, "green", False, None),
    ("509902001", JUNE, "K05_town_centre_coverage", 1, None, 1, 1, date(2022, 12, 31), 0.8, "done", False, 1),
    ("509902002", JUNE, "K05_town_centre_coverage", 0, None, 0, 1, date(2022, 12, 31), 0.8, "red", False, 2),
    ("509902001", JUNE, "K10_village_coverage", 20, 25, 0.8, 1.0, date(2022, 12, 31), 0.8, "green", False, 1),
    ("509902002", JUNE, "K10_village_coverage", 15, 25, 0.6, 1.0, date(2022, 12, 31), 0.8, "red", False, 2),
    ("509902001", JUNE, "K30_submission_rate", 1, 1, 1.0, None, None, None, "info", False, None),
    ("509902002", JUNE, "K30_submission_rate", 0, 1, 0.0, None, None, None, "info", False, None),
]
# marts.kpi_city_monthly: month, kpi, numerator, denominator, value, target, due, expected, status, stale
CITY_ROWS = [
    (JUNE, "K05_town_centre_coverage", 7, None, 7, None, None, None, "info", True),
    (JUNE, "K09_village_points_built", 14, None, 14, None, None, None, "info", True),
    (JUNE, "K10_village_coverage", 61, 90, 61 / 90, None, None, None, "info", True),
    (JUNE, "K14_one_to_one_pairing", 160, 300, 160 / 300, None, None, None, "info", True),
]
CITY_PROJECTS = [("C21", "509902001", "鹿堡镇", "鹿堡镇养老服务中心", "镇养老服务中心", "新建", None, 1500,
                  date(2022, 12, 31))]
CITY_FINDINGS = [("509902002", "DQ11_bad_value", "error", 3)]
CITY_FORECASTS = [("509902002", JUNE, "K10_village_coverage", 0.6, date(2022, 12, 31), 1.0, 0.02, 0.72, None, "预计逾期")]


def build(path: Path, city: bool = False) -> Path:
    """渝北区 alone (a district's warehouse), or with 第2区 and 第3区 (a city's)."""
    towns = TOWNS + CITY_TOWNS if city else TOWNS
    kpi_rows = KPI_ROWS + CITY_KPI_ROWS if city else KPI_ROWS
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema quality; create schema meta")
    con.execute("create table marts.dim_kpi (kpi_id varchar, name_zh varchar, kind varchar, unit varchar, definition_zh varchar)")
    con.executemany("insert into marts.dim_kpi values (?, ?, ?, ?, ?)", KPIS)
    con.execute("create table marts.dim_town (town_code varchar, town_name varchar, town_type varchar, district_code varchar, "
                "is_rural_scope boolean)")
    con.executemany("insert into marts.dim_town values (?, ?, '镇', ?, true)", [(c, n, c[:6]) for c, n in towns])
    columns = "numerator double, denominator double, value double, target double, due_date date, expected double, status varchar, stale boolean"
    con.execute(f"create table marts.kpi_town_monthly (town_code varchar, town_name varchar, month date, kpi_id varchar, {columns}, rank integer)")
    con.execute(f"create table marts.kpi_district_monthly (district_code varchar, district_name varchar, month date, kpi_id varchar, {columns})")
    con.execute("create table marts.kpi_city_monthly (month date, kpi_id varchar, numerator double, denominator double, value double, "
                "target double, due_date date, expected double, status varchar, stale boolean, district_count integer)")
    names = dict(towns)
    for scope, month, kpi, *rest in kpi_rows:
        if scope in DISTRICT_NAMES:
            con.execute("insert into marts.kpi_district_monthly values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [scope, DISTRICT_NAMES[scope], month, kpi, *rest[:-1]])
        else:
            con.execute("insert into marts.kpi_town_monthly values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [scope, names[scope], month, kpi, *rest])
    if city:
        con.executemany("insert into marts.kpi_city_monthly values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 3)", CITY_ROWS)
    else:  # one district: the city is the district, without its targets
        con.execute("""insert into marts.kpi_city_monthly select month, kpi_id, numerator, denominator, value, null, null, null,
                       if(value is null, 'na', 'info'), stale, 1 from marts.kpi_district_monthly""")
    con.execute("create table marts.town_rank_monthly (town_code varchar, month date, mean_rank double, overall_rank integer, "
                "district_code varchar)")
    con.executemany("insert into marts.town_rank_monthly values (?, ?, ?, ?, ?)",
                    [("500112018", JUNE, 1.0, 1, "500112"), ("500112129", JUNE, 2.0, 2, "500112"),
                     ("500112133", JUNE, 3.0, 3, "500112")]
                    + ([("509902001", JUNE, 1.0, 1, "509902"), ("509902002", JUNE, 2.0, 2, "509902")] if city else []))
    con.execute("create table marts.district_rank_monthly (district_code varchar, district_name varchar, month date, "
                "mean_rank double, ranked_kpi_count integer, overall_rank integer)")
    con.executemany("insert into marts.district_rank_monthly values (?, ?, ?, ?, ?, ?)",
                    [("509902", "第2区", JUNE, 1.75, 4, 2), ("500112", "渝北区", JUNE, 1.75, 4, 1),
                     ("509903", "第3区", JUNE, 2.5, 4, 3)] if city else [("500112", "渝北区", JUNE, 1.0, 4, 1)])
    con.execute("""create table marts.dim_project (project_id varchar, town_code varchar, town_name varchar, facility_name varchar,
                   facility_type varchar, build_mode varchar, host_facility varchar, min_area_m2 integer, due_date date, merge_into varchar)""")
    con.executemany("insert into marts.dim_project values (?, ?, ?, ?, ?, ?, ?, ?, ?, null)", PROJECTS + (CITY_PROJECTS if city else []))
    con.execute("create table marts.fct_project_monthly (project_id varchar, month date, reported_status varchar, built boolean, overdue boolean, stale boolean)")
    con.execute("create table marts.fct_facility_monthly (project_id varchar, month date, area_m2 double, beds integer, nursing_beds integer)")
    for project, status, built, overdue, area, beds in PROJECT_MONTHS:
        con.execute("insert into marts.fct_project_monthly values (?, ?, ?, ?, ?, false)", [project, JUNE, status, built, overdue])
        con.execute("insert into marts.fct_facility_monthly values (?, ?, ?, ?, null)", [project, JUNE, area, beds])
    con.execute("""create table quality.findings (rule_id varchar, severity varchar, town_code varchar, month date, source_file varchar,
                   sheet varchar, row_number integer, column_name varchar, value varchar, message_zh varchar, message_en varchar)""")
    for town, rule, severity, n in FINDINGS + (CITY_FINDINGS if city else []):
        for i in range(n):
            # masked personal values, as published: they must never reach the report
            con.execute("insert into quality.findings values (?, ?, ?, ?, 'f.xlsx', null, ?, '公民身份号码', "
                        "'500112********1234', '张*：身份证号校验码错误', 'bad check digit')",
                        [rule, severity, town, JUNE, i + 2])
    con.execute("""create table quality.files (file_name varchar, kind varchar, town_code varchar, month date, status varchar,
                   submission_date date)""")
    con.executemany("insert into quality.files values (?, 'town_workbook', ?, ?, ?, ?)", [
        ("王家_6月.xlsx", "500112018", JUNE, "loaded", date(2022, 7, 4)),
        ("玉峰山_6月.xlsx", "500112129", JUNE, "loaded", date(2022, 7, 8)),
        ("玉峰山_6月_坏.xlsx", "500112129", JUNE, "rejected", date(2022, 7, 3)),
        *([("鹿堡_6月.xlsx", "509902001", JUNE, "loaded", date(2022, 7, 2))] if city else []),
    ])
    con.execute("""create table marts.kpi_forecast_monthly (town_code varchar, town_name varchar, month date, kpi_id varchar,
                   kpi_name_zh varchar, value double, milestone_due_date date, milestone_target double,
                   months_of_history integer, pace_per_month double, projected_value double,
                   expected_completion_month date, forecast_status varchar, is_forecast_late boolean)""")
    kpi_names = {k[0]: k[1] for k in KPIS}
    for town, month, kpi, value, due, target, pace, projected, completion, state in FORECASTS + (CITY_FORECASTS if city else []):
        con.execute("insert into marts.kpi_forecast_monthly values (?, ?, ?, ?, ?, ?, ?, ?, 4, ?, ?, ?, ?, ?)",
                    [town, names[town], month, kpi, kpi_names[kpi], value, due, target, pace, projected,
                     completion, state, state == "预计逾期"])
    con.execute("create table meta.refresh (id varchar, started timestamp, finished timestamp, status varchar, files integer, rows bigint)")
    con.close()
    return path


# ---------------------------------------------------------------- tests

import openpyxl  # noqa: E402
import pytest  # noqa: E402

from pipelines.report import parse_formats, write_report  # noqa: E402
from pipelines.report.content import build_report, bottom_towns, submission_state  # noqa: E402
from pipelines.report.data import load_report_data  # noqa: E402
from pipelines.report.fmt import (  # noqa: E402
    fmt_change, fmt_count, fmt_percent, fmt_wan_yuan, parse_month, report_title, short_town,
)
from pipelines.report.labels import status_colours  # noqa: E402
from pipelines.report.xlsx import safe_text  # noqa: E402


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("report") / "ruralcare.duckdb")


@pytest.fixture(scope="module")
def report(published):
    return build_report(load_report_data(published, JUNE))


def texts(table) -> list[list[str]]:
    return [[cell.text for cell in row] for row in table.rows]


@pytest.mark.parametrize("value, shown", [
    (None, "—"), (0.0, "0.0%"), (0.8534, "85.3%"), (1.0, "100.0%"), (2 / 3, "66.7%"), (1.2, "120.0%"),
])
def test_percentages_have_one_decimal(value, shown):
    assert fmt_percent(value) == shown


@pytest.mark.parametrize("value, shown", [(None, "—"), (7.0, "7"), (1200, "1,200"), (9.5, "9.5"), (2.44, "2.4")])
def test_counts_are_whole_unless_fractional(value, shown):
    assert fmt_count(value) == shown


@pytest.mark.parametrize("yuan, shown", [
    (1_000_000, "100万元"), (356_000, "35.6万元"), (123_456, "12.35万元"), (0, "0万元"), (None, "—"),
    (15_000_000, "1,500万元"),
])
def test_money_reads_in_wan_yuan(yuan, shown):
    assert fmt_wan_yuan(yuan) == shown


@pytest.mark.parametrize("current, previous, unit, shown", [
    (0.70, 0.60, "%", "+10.0个百分点"),
    (2 / 3, 1.0, "%", "−33.3个百分点"),
    (0.4, 0.4, "%", "持平"),
    (7, 5, "个", "+2"),
    (5, 7, "个", "−2"),
    (7, 7, "个", "持平"),
    (7, None, "个", "—"),
])
def test_change_since_last_month(current, previous, unit, shown):
    assert fmt_change(current, previous, unit) == shown


def test_month_title_and_parsing():
    assert parse_month("2022-06") == JUNE
    assert report_title(JUNE, "渝北区") == "渝北区农村养老服务全覆盖工作进展情况通报（2022年6月）"
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("2022年6月")


@pytest.mark.parametrize("name, short", [("王家街道", "王家"), ("玉峰山镇", "玉峰山"), ("镇", "镇")])
def test_short_town_names_for_narrow_headers(name, short):
    assert short_town(name) == short


@pytest.mark.parametrize("row, state", [
    ({"value": 1.0, "stale": False}, "on_time"),
    ({"value": 0.0, "stale": False}, "late"),
    ({"value": 0.0, "stale": True}, "missing"),
    (None, "missing"),
])
def test_submission_state_from_the_towns_k30_row(row, state):
    assert submission_state(row) == state


@pytest.mark.parametrize("text, safe", [("=1+1", "'=1+1"), ("-2", "'-2"), ("@x", "'@x"), ("王家", "王家")])
def test_excel_text_never_reads_as_a_formula(text, safe):
    assert safe_text(text) == safe


def test_formats_are_checked():
    assert parse_formats("pdf, html,pdf") == ("pdf", "html")
    with pytest.raises(ValueError, match="docx"):
        parse_formats("html,docx")


def test_unknown_month_names_the_months_available(published, tmp_path):
    with pytest.raises(ValueError, match="2022年5月至2022年6月"):
        write_report(published, date(2023, 1, 1), tmp_path, ("xlsx",))


def test_overall_table_lists_kpis_with_a_target_progress_first(report):
    rows = texts(report.overall)
    names = [r[1] for r in rows]
    assert names == ["镇养老服务中心覆盖数（个）", "村级互助养老点建成数（个）", "村级互助养老服务覆盖率",
                     "重点对象一对一结对率", "院长主管培训人数（人）", "敬老院法人登记备案率"]
    coverage = rows[2]
    # value (stale district: ※), target, due date, 序时进度, completion, status, change
    assert coverage[3:] == ["70.0%※", "100.0%※", "2022年12月31日", "80.0%※", "70.0%", "正常推进", "+10.0个百分点"]
    assert rows[5][8] == "未达标" and report.overall.rows[5][8].status == "red"
    assert rows[4][8] == "已完成" and report.overall.rows[4][8].status == "done"
    assert any("※" in note for note in report.overall.notes)


def test_monitoring_table_shows_money_in_wan_yuan(report):
    rows = {r[1]: r for r in texts(report.monitoring)}
    assert rows["市级奖补到位率"][2:] == ["75.0%※", "100.0%", "−25.0个百分点", "到位150万元 / 应到位200万元"]
    assert rows["镇街按时报送率"][5] == "1 / 3"


def test_town_table_is_in_rank_order_with_stale_towns_marked(report):
    rows = texts(report.towns)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert [r[1] for r in rows] == ["王家街道", "玉峰山镇", "统景镇※"]
    assert rows[2][2] == "在建" and report.towns.rows[2][2].status == "red"
    assert rows[1][3:5] == ["3", "5"] and report.towns.rows[1][3].status == "yellow"
    assert [r[-1] for r in rows] == ["按时报送", "逾期报送", "未报送"]
    assert any("统景镇本月未报送" in note for note in report.towns.notes)


def test_bottom_towns_leave_out_those_that_have_completed(published):
    data = load_report_data(published, JUNE)
    assert [t.name for t, _ in bottom_towns(data, "K10_village_coverage")] == ["统景镇", "玉峰山镇"]
    assert [t.name for t, _ in bottom_towns(data, "K14_one_to_one_pairing")] == ["统景镇", "玉峰山镇", "王家街道"]


def test_problems_name_towns_projects_and_red_thresholds(report):
    by_title = {g.title: g.items for g in report.problems}
    assert by_title["（一）进度排名靠后的镇街"][0] == "镇养老服务中心覆盖数：统景镇0个（第3名，严重滞后）。"
    assert by_title["（三）逾期未完成的重点项目"] == ["统景镇统景镇养老服务中心：计划2022年5月31日前完成，目前在建。"]
    assert by_title["（四）未达标的约束性指标"] == ["敬老院法人登记备案率66.7%，低于标准100.0%；未达标镇街：统景镇。"]
    assert by_title["（五）报送问题"] == ["统景镇本月未报送进度表，相关指标沿用此前数据。", "玉峰山镇逾期报送（晚于次月5日）。"]


def test_projects_in_task_order_with_overdue_flags(report):
    rows = texts(report.projects)
    assert [r[0] for r in rows] == ["C01", "C02", "C03", "M03", "H01"]
    assert rows[2][-1] == "逾期未完成" and report.projects.rows[2][-1].status == "red"
    assert rows[0][-1] == "已完成"
    assert rows[0][5] == "1,200"


def test_data_quality_is_counts_by_town_and_rule(report):
    rows = texts(report.submissions)
    assert rows[1][:8] == ["玉峰山镇", "逾期报送", "2022年7月8日", "1", "1", "1", "25", "0"]
    assert rows[-1][0] == "未识别镇街的文件" and rows[-1][5] == "1"
    matrix = texts(report.findings_by_rule)
    assert report.findings_by_rule.columns[3:] == ["王家", "玉峰山", "统景", "未识别", "合计"]
    assert matrix[-1] == ["合计", "", "", "2", "26", "1", "1", "30"]


def test_lead_paragraphs_read_as_a_bureau_writes(report):
    text = "".join(report.summary)
    assert "截至2022年6月30日" in text
    assert "建成村级互助养老点7个（目标12个）" in text
    assert "市级奖补资金到位150万元（到位率75.0%）" in text
    assert "统景镇未报送" in text and "玉峰山镇逾期报送" in text


@pytest.fixture(scope="module")
def written(published, tmp_path_factory) -> dict[str, Path]:
    return write_report(published, JUNE, tmp_path_factory.mktemp("out"), ("html", "xlsx"))


def test_html_is_one_self_contained_file(written):
    assert set(written) == {"html", "xlsx"}
    html = written["html"].read_text(encoding="utf-8")
    assert report_title(JUNE, "渝北区") in html and "<div class=\"issuer\">渝北区民政局</div>" in html
    assert all(name in html for _, name in TOWNS)
    # font and charts inline, nothing fetched
    assert "@font-face" in html and "data:font/ttf;base64," in html and html.count("<svg") == 3
    assert 'src="http' not in html and "url(http" not in html and "<link" not in html


def test_xlsx_keeps_the_marts_numbers_with_status_colours(written):
    book = openpyxl.load_workbook(written["xlsx"])
    assert book.sheetnames[:4] == ["通报摘要", "总体进展", "监测指标", "分镇街进展"]
    overall = book["总体进展"]
    header = [c.value for c in overall[3]]
    assert header[:4] == ["序号", "指标", "类别", "本月值"]
    by_name = {row[1].value: row for row in overall.iter_rows(min_row=4) if row[1].value}
    coverage = by_name["村级互助养老服务覆盖率"]
    assert coverage[3].value == 0.7 and coverage[3].number_format == "0.0%"
    assert by_name["敬老院法人登记备案率"][3].value == 2 / 3
    assert by_name["村级互助养老点建成数（个）"][3].value == 7
    assert by_name["敬老院法人登记备案率"][8].fill.fgColor.rgb.endswith("F6D2D2")
    towns = book["分镇街进展"]
    assert [r[1].value for r in towns.iter_rows(min_row=4, max_row=6)] == ["王家街道", "玉峰山镇", "统景镇※"]


def test_excel_status_colours_are_the_report_css_traffic_lights():
    # every status the HTML and PDF colour; 监测 (info) cells stay plain there and in Excel
    assert set(status_colours()) == {"done", "green", "yellow", "red", "na"}
    assert status_colours()["red"] == ("#f6d2d2", "#9b1c1c")


def test_no_person_level_values_leave_the_database(written):
    html = written["html"].read_text(encoding="utf-8")
    assert "500112********1234" not in html and "张*" not in html
    book = openpyxl.load_workbook(written["xlsx"])
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells and not any("500112****" in c or "张*" in c for c in cells)


def test_early_warning_lists_the_months_late_forecasts_as_a_linear_projection(report):
    assert report.warning_lead == ("按近三个月的平均进度线性外推，1个镇街的2项进度指标（共2项次）"
                                   "预计在里程碑到期日前无法完成目标（预计逾期），需提前督促：")
    assert report.warnings.columns == ["镇街", "指标", "本月值", "月均进度（近三个月）", "里程碑到期日", "里程碑目标",
                                       "到期预计值", "预计完成月份"]
    assert texts(report.warnings) == [
        ["统景镇", "村级互助养老点建成数", "1", "持平/月", "2022年12月31日", "4", "1", "按当前进度无法完成"],
        ["统景镇", "村级互助养老服务覆盖率", "41.7%", "+5.0个百分点/月", "2022年12月31日", "100.0%", "71.7%", "2023年6月"],
    ]
    assert "线性外推" in report.warnings.notes[0]
    coverage = report.warnings.rows[1]
    assert (coverage[3].value, coverage[3].fmt, coverage[6].value, coverage[6].status) == (0.05, "change_percent", 5 / 12 + 0.3, "red")


def test_early_warning_says_so_in_one_sentence_when_nothing_is_late(published, tmp_path):
    from dataclasses import replace

    from pipelines.report.html import draw_charts, render_html

    nothing_late = build_report(replace(load_report_data(published, JUNE), forecast_late=[]))
    assert nothing_late.warning_lead == "按近三个月的平均进度线性外推，2022年6月没有预计在里程碑到期日前无法完成的镇街和指标。"
    assert nothing_late.warnings.rows == [] and nothing_late.warnings.notes == [nothing_late.warning_lead]
    html = render_html(nothing_late, draw_charts(nothing_late, load_report_data(published, JUNE)))
    assert "<h2>六、预警</h2>" in html and nothing_late.warning_lead in html and "预警：预计逾期的镇街和指标" not in html
    no_mart = build_report(replace(load_report_data(published, JUNE), forecast_late=None))
    assert "重新刷新" in no_mart.warning_lead


def test_early_warning_is_a_section_of_the_html_and_a_sheet_of_the_workbook(written, report):
    html = written["html"].read_text(encoding="utf-8")
    assert "<h2>六、预警</h2>" in html and report.warning_lead in html and "按当前进度无法完成" in html
    assert html.index("五、存在问题") < html.index("六、预警") < html.index("七、数据质量与报送")
    sheet = openpyxl.load_workbook(written["xlsx"])["预警"]
    assert [c.value for c in sheet[3]][:3] == ["镇街", "指标", "本月值"]
    coverage = [c.value for c in sheet[5]]
    assert coverage[:3] == ["统景镇", "村级互助养老服务覆盖率", 5 / 12] and coverage[6] == 5 / 12 + 0.3


# ---------------------------------------------------------------- a city warehouse: one district, the districts ranked

from click.testing import CliRunner  # noqa: E402

from pipelines.cli import main as ruralcare  # noqa: E402
from pipelines.report.writer import write_month_reports  # noqa: E402
from pipelines.report.city import city_table, load_city_summary  # noqa: E402
from pipelines.report.data import Town  # noqa: E402


@pytest.fixture(scope="module")
def city_warehouse(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("city_warehouse")
    build(warehouse / "ruralcare.duckdb", city=True)
    return warehouse


def run_report(warehouse: Path, *options: str):
    return CliRunner().invoke(ruralcare, ["report", "--month", "2022-06", "--warehouse", str(warehouse), *options])


def test_a_districts_report_reads_only_its_own_towns_rows_projects_and_findings(city_warehouse):
    data = load_report_data(city_warehouse / "ruralcare.duckdb", JUNE, "509902")
    assert (data.district.code, data.district.name) == ("509902", "第2区")
    assert data.towns == [Town("509902001", "鹿堡镇"), Town("509902002", "门岗镇")]
    coverage = data.district_row("K10_village_coverage")
    assert (coverage["numerator"], coverage["value"]) == (35, 0.7)
    assert {code for code, _ in data.town} == {"509902001", "509902002"}
    assert set(data.ranks) == {"509902001", "509902002"}
    assert [p["project_id"] for p in data.projects] == ["C21"]
    assert data.finding_counts == {("509902002", "DQ11_bad_value", "error"): 3}
    assert set(data.submissions) == {"509902001"}
    assert [r["town_code"] for r in data.forecast_late] == ["509902002"]
    assert data.months == [JUNE]
    # by name too
    assert load_report_data(city_warehouse / "ruralcare.duckdb", JUNE, "第2区").district.code == "509902"


def test_in_a_city_a_file_no_town_was_read_from_is_no_districts(city_warehouse, published):
    yubei = load_report_data(city_warehouse / "ruralcare.duckdb", JUNE, "500112")
    assert yubei.towns == [Town(code, name) for code, name in TOWNS]
    assert all(code is not None for code, _, _ in yubei.finding_counts)
    # the district's own warehouse keeps them: they can only be its files
    assert (None, "DQ09_file_rejected", "error") in load_report_data(published, JUNE).finding_counts


def test_a_districts_report_is_titled_and_signed_with_its_name(city_warehouse, tmp_path):
    written = write_report(city_warehouse / "ruralcare.duckdb", JUNE, tmp_path, ("html", "xlsx"), district="509902")
    assert written["html"].name == "第2区农村养老服务全覆盖工作进展情况通报_2022-06.html"
    html = written["html"].read_text(encoding="utf-8")
    assert "<h1>第2区农村养老服务全覆盖工作进展情况通报（2022年6月）</h1>" in html
    assert "第2区民政局" in html and "渝北" not in html
    assert "鹿堡镇" in html and not any(name in html for _, name in TOWNS)
    book = openpyxl.load_workbook(written["xlsx"])
    assert book["通报摘要"]["A1"].value == "第2区农村养老服务全覆盖工作进展情况通报（2022年6月）"
    assert [r[1].value for r in book["分镇街进展"].iter_rows(min_row=4, max_row=5)] == ["鹿堡镇", "门岗镇"]


def test_without_district_a_city_report_names_the_districts_and_exits_2(city_warehouse, published, tmp_path):
    result = run_report(city_warehouse, "--format", "xlsx", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "holds 3 districts" in result.output and "--district" in result.output
    assert "500112 渝北区, 509902 第2区, 509903 第3区" in result.output
    assert list(tmp_path.iterdir()) == []
    # a district's own warehouse needs none
    result = run_report(published.parent, "--format", "xlsx", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["渝北区农村养老服务全覆盖工作进展情况通报_2022-06.xlsx"]


def test_report_of_an_unknown_district_exits_2_naming_the_districts(city_warehouse):
    result = run_report(city_warehouse, "--district", "509999", "--format", "xlsx")
    assert result.exit_code == 2
    assert "no district '509999'" in result.output and "509902 第2区" in result.output
    assert run_report(city_warehouse, "--district", "509902", "--city").exit_code == 2


def test_city_summary_ranks_the_districts_with_the_city_last(city_warehouse):
    table = city_table(load_city_summary(city_warehouse / "ruralcare.duckdb", JUNE))
    assert table.columns[:7] == ["排名", "区", "区划代码", "平均名次", "镇中心", "镇中心目标", "镇中心状态"]
    rows = texts(table)
    # in the order of marts.district_rank_monthly (渝北区 and 第2区 tie on 1.75: dbt put the code first)
    assert [r[:4] for r in rows] == [["1", "渝北区", "500112", "1.75"], ["2", "第2区", "509902", "1.75"],
                                     ["3", "第3区", "509903", "2.50"], ["—", "全市", "—", "—"]]
    assert table.rows[0][3].value == 1.75
    by_name = {r[1]: dict(zip(table.columns, r)) for r in rows}
    assert (by_name["第2区"]["村级覆盖率"], by_name["第2区"]["村级覆盖率目标"], by_name["第2区"]["村级覆盖率状态"]) == \
        ("70.0%", "100.0%", "正常推进")
    assert (by_name["全市"]["村级覆盖率"], by_name["全市"]["村级覆盖率目标"], by_name["全市"]["镇中心"]) == \
        ("67.8%※", "—", "7※")
    assert "三个一达标率" not in table.columns  # K13 is not in this database


def test_city_summary_writes_a_workbook_and_a_page(city_warehouse, tmp_path):
    result = run_report(city_warehouse, "--city", "--format", "html,xlsx", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    stem = "全市各区农村养老服务全覆盖工作进展排名_2022-06"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}.html", f"{stem}.xlsx"]
    sheet = openpyxl.load_workbook(tmp_path / f"{stem}.xlsx")["各区排名"]
    assert sheet["A1"].value == "表  各区主要指标完成情况及排名（2022年6月）"
    assert [c.value for c in sheet[3]][:5] == ["排名", "区", "区划代码", "平均名次", "镇中心"]
    values = [[c.value for c in r][:5] for r in sheet.iter_rows(min_row=4, max_row=7)]
    assert sheet["D4"].number_format == "0.00" and sheet["E4"].number_format == "#,##0"
    assert values == [[1, "渝北区", "500112", 1.75, 2], [2, "第2区", "509902", 1.75, 4],
                      [3, "第3区", "509903", 2.5, 1], ["—", "全市", "—", "—", 7]]
    html = (tmp_path / f"{stem}.html").read_text(encoding="utf-8")
    assert "<h1>全市各区农村养老服务全覆盖工作进展排名（2022年6月）</h1>" in html
    assert html.index("渝北区") < html.index("第2区") < html.index("第3区") < html.index("全市</td>")
    assert "data:font/ttf;base64," in html and 'src="http' not in html


def test_the_months_reports_are_every_districts_and_with_several_their_ranking(city_warehouse, published, tmp_path):
    written = write_month_reports(city_warehouse / "ruralcare.duckdb", JUNE, tmp_path / "city", ("xlsx",))
    assert {key: path.name for key, path in written.items()} == {
        "500112 xlsx": "渝北区农村养老服务全覆盖工作进展情况通报_2022-06.xlsx",
        "509902 xlsx": "第2区农村养老服务全覆盖工作进展情况通报_2022-06.xlsx",
        "509903 xlsx": "第3区农村养老服务全覆盖工作进展情况通报_2022-06.xlsx",
        "city xlsx": "全市各区农村养老服务全覆盖工作进展排名_2022-06.xlsx",
    }
    assert all(path.exists() for path in written.values())
    one = write_month_reports(published, JUNE, tmp_path / "district", ("xlsx",))
    assert {key: path.name for key, path in one.items()} == {"xlsx": "渝北区农村养老服务全覆盖工作进展情况通报_2022-06.xlsx"}


# ---------------------------------------------------------------- charts: labels that never overlap

from itertools import combinations  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from pipelines.report.charts import points_figure, spread_apart, trend_figure  # noqa: E402


@pytest.mark.parametrize("wanted, gap, low, high, placed", [
    # the demo's 2022-12: the top one stays, the three below spread about their middle
    ([98.8, 95.6, 95.2, 93.5], 2, 0, 105, [98.8, 94.7667 + 2, 94.7667, 94.7667 - 2]),
    ([50, 50, 50], 10, 0, 100, [60, 50, 40]),  # equal: first on top, as in the legend
    ([10, 40, 80], 10, 0, 100, [10, 40, 80]),  # already apart: unchanged
    ([100, 99, 98], 5, 0, 100, [100, 95, 90]),  # at the top: pushed down, not out
    ([0, 1], 5, 2.5, 100, [2.5, 7.5]),  # at the bottom: pushed up
    ([5, 30, 6], 4, 0, 100, [3.5, 30, 7.5]),  # given in any order, each keeps its own place
    ([42], 10, 0, 100, [42]),  # a single label
    ([120], 10, 0, 100, [100]),  # a single label beyond the edge comes inside
    ([], 10, 0, 100, []),
])
def test_spread_apart_moves_labels_as_little_as_keeps_them_apart(wanted, gap, low, high, placed):
    result = spread_apart(wanted, gap, low, high)
    assert result == pytest.approx(placed, abs=1e-4)
    order = sorted(range(len(wanted)), key=lambda i: (wanted[i], -i))
    assert [result[i] for i in order] == sorted(result)
    assert all(b - a >= gap - 1e-9 for a, b in zip(sorted(result), sorted(result)[1:]))
    assert all(low <= y <= high for y in result)


def test_spread_apart_says_when_the_labels_cannot_fit():
    with pytest.raises(ValueError, match="3 labels 10 apart need 20, the space between 0 and 15 is only 15"):
        spread_apart([5, 5, 5], 10, 0, 15)


MONTHS_2022 = [f"22年{m}月" for m in range(1, 13)]
COVERAGE_NAMES = ["镇养老服务中心覆盖率", "村级互助养老服务覆盖率", "重点对象一对一结对率", "敬老院改造提升完成率"]


def trend_series(ends: list[float], months: int) -> list[tuple[str, list[float | None]]]:
    """Lines rising to `ends` (fractions) in the last month."""
    return [(name, [end * (0.3 + 0.7 * m / max(1, months - 1)) for m in range(months)])
            for name, end in zip(COVERAGE_NAMES, ends)]


def text_box(text: Text, renderer):
    """Where the letters are (an annotation's own extent also takes in its leader line)."""
    return Text.get_window_extent(text, renderer)


def overlaps(texts: list[Text], renderer) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), text_box(t, renderer)) for t in texts if t.get_visible() and t.get_text()]
    return [(a, b) for (a, box_a), (b, box_b) in combinations(boxes, 2) if box_a.overlaps(box_b)]


def figure_texts(figure) -> list[Text]:
    """What a reader sees written on the figure: titles, tick labels, value labels, legend."""
    texts = []
    for axes in figure.axes:
        texts += [axes.title, *axes.get_xticklabels(), *axes.get_yticklabels(), *axes.texts]
        if axes.get_legend():
            texts += axes.get_legend().get_texts()
    for legend in figure.legends:
        texts += legend.get_texts()
    return texts


@pytest.mark.parametrize("ends, months", [
    ([0.988, 0.956, 0.952, 0.935], 12),  # the demo's 2022-12
    ([0.97, 0.97, 0.97, 0.97], 2),  # all equal, the first month of a report
    ([0.033, 0.032, 0.032, 0.031], 12),  # at the bottom, by the legend's old corner
])
def test_trend_chart_value_labels_never_overlap(ends, months):
    figure = trend_figure(MONTHS_2022[:months], trend_series(ends, months))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    labels = axes.texts
    assert [t.get_text() for t in labels] == [f"{end * 100:.1f}%" for end in ends]
    assert overlaps(labels, renderer) == []
    # each still points at its line's last value, and a higher value sits higher
    assert [x for t in labels for x in t.xy] == pytest.approx([x for end in ends for x in (months - 1, end * 100)])
    boxes = [text_box(t, renderer) for t in labels]
    assert sorted(range(len(ends)), key=lambda i: (ends[i], -i)) == sorted(range(len(ends)), key=lambda i: boxes[i].y0)
    assert all(axes.bbox.y0 <= box.y0 and box.y1 <= axes.bbox.y1 for box in boxes)
    # nor does any other text: month names, legend, title; the report month is named
    assert overlaps(figure_texts(figure), renderer) == []
    assert axes.get_xticklabels()[-1].get_text() == MONTHS_2022[months - 1]
    plt.close(figure)


def test_points_chart_legend_covers_no_bar_and_no_value():
    """The tallest towns last, where a legend in the plot's upper right corner used to sit."""
    built = [2, 6, 5, 4, 5, 7, 8, 10, 14, 14, 14]
    figure = points_figure([(f"{name}镇", value, value) for name, value in zip("一二三四五六七八九十甲", built)])
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    legends = [*figure.legends, *filter(None, [axes.get_legend()])]
    assert len(legends) == 1
    legend = legends[0].get_window_extent(renderer)
    assert [t.get_text() for t in axes.texts] == [str(v) for v in built]
    covered = [p for p in axes.patches if p.get_height() and p.get_window_extent(renderer).overlaps(legend)]
    covered += [t.get_text() for t in axes.texts if text_box(t, renderer).overlaps(legend)]
    assert covered == []
    assert overlaps([axes.title, *axes.texts, *legends[0].get_texts()], renderer) == []
    plt.close(figure)
