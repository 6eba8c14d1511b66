"""The progress site's pure pieces (links, picker, colours, sparklines, members) and one build
from a small hand-made published database."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.site import build_site, parts
from pipelines.site.build import member_lines, member_rounds, site_css

DEC, NOV, OCT = date(2022, 12, 1), date(2022, 11, 1), date(2022, 10, 1)


@pytest.mark.parametrize(("from_page", "to_page", "expected"), [
    ("index.html", "2022-12/index.html", "2022-12/index.html"),
    ("2022-12/index.html", "status.html", "../status.html"),
    ("2022-12/index.html", "2022-12/warnings.html", "../2022-12/warnings.html"),
    ("2022-12/town/500112018.html", "2022-12/town/500112018/K10_village_coverage.html",
     "../../2022-12/town/500112018/K10_village_coverage.html"),
    ("2022-12/town/500112018/K10_village_coverage.html", "2022-11/index.html", "../../../2022-11/index.html"),
    ("status.html", "2022-12/index.html", "2022-12/index.html"),
])
def test_relative_links(from_page: str, to_page: str, expected: str) -> None:
    assert parts.relative(from_page, to_page) == expected


@pytest.mark.parametrize(("page", "month", "expected"), [
    ("2022-12/index.html", NOV, "2022-11/index.html"),
    ("2022-12/town/500112018.html", OCT, "2022-10/town/500112018.html"),
    ("2022-12/town/500112018/K14_one_to_one_pairing.html", NOV, "2022-11/town/500112018/K14_one_to_one_pairing.html"),
    ("status.html", NOV, "2022-11/index.html"),  # not a month's page: that month's overview
    ("index.html", NOV, "2022-11/index.html"),
])
def test_same_page_in_another_month(page: str, month: date, expected: str) -> None:
    assert parts.same_page_in(page, month) == expected


def test_month_picker_links_the_same_page_newest_first_and_falls_back_to_the_overview() -> None:
    written = {"2022-12/town/a.html", "2022-11/town/a.html", "2022-10/index.html", "2022-11/index.html",
               "2022-12/index.html"}
    picker = parts.month_picker("2022-12/town/a.html", DEC, [OCT, DEC, NOV], written)
    assert [(m.label, m.href, m.current) for m in picker] == [
        ("2022年12月", "../../2022-12/town/a.html", True),
        ("2022年11月", "../../2022-11/town/a.html", False),
        ("2022年10月", "../../2022-10/index.html", False),  # the town has no page that month
    ]


@pytest.mark.parametrize(("step", "month", "expected"), [
    (-1, DEC, NOV), (1, NOV, DEC), (1, DEC, None), (-1, OCT, None),
])
def test_neighbour_month(step: int, month: date, expected: date | None) -> None:
    assert parts.neighbour([NOV, OCT, DEC], month, step) == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("done", "st-done"), ("green", "st-green"), ("yellow", "st-yellow"), ("red", "st-red"), ("na", "st-na"),
    ("info", ""), (None, ""), ("bogus", ""),
])
def test_status_class(status: str | None, expected: str) -> None:
    assert parts.status_class(status) == expected


@pytest.mark.parametrize(("forecast", "expected"), [
    ("预计逾期", "st-red"), ("预计按期", "st-green"), ("已完成", "st-done"), ("数据不足", "st-na"), (None, ""),
])
def test_forecast_class(forecast: str | None, expected: str) -> None:
    assert parts.forecast_class(forecast) == expected


@pytest.mark.parametrize(("values", "top", "expected"), [
    # 120 × 28 px with 3 px padding: x from 3 to 117, y from 25 (0) up to 3 (top)
    ([0.0, 0.5, 1.0], 1.0, [[(3.0, 25.0), (60.0, 14.0), (117.0, 3.0)]]),
    ([2.0, 2.0], 4.0, [[(3.0, 14.0), (117.0, 14.0)]]),  # flat
    ([1.0, None, 1.0], 1.0, [[(3.0, 3.0)], [(117.0, 3.0)]]),  # a month without a value breaks the line
    ([None, 0.25], 1.0, [[(117.0, 19.5)]]),
    ([0.5], 1.0, [[(60.0, 14.0)]]),  # one month: in the middle
    ([1.2, -0.1], 1.0, [[(3.0, 3.0), (117.0, 25.0)]]),  # outside the scale: clipped to the box
    ([0.0, 0.0], 0.0, [[(3.0, 25.0), (117.0, 25.0)]]),  # nothing yet: no division by zero
])
def test_spark_points(values: list[float | None], top: float, expected: list) -> None:
    assert parts.spark_points(values, top) == expected


def test_sparkline_of_a_rate_has_its_target_line_last_dot_status_colour_and_title() -> None:
    svg = parts.sparkline_svg([0.5, 0.75, None, 0.9], [OCT, NOV, DEC, date(2023, 1, 1)], "%", target=1.0,
                              status="yellow")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title>2022年10月 50.0% → 2023年1月 90.0%</title>" in svg
    assert 'stroke-dasharray="3 2"' in svg and 'y1="3.0"' in svg  # the target, at the top of a 0–100% scale
    assert svg.count("<polyline") == 1  # the lone last point after the gap is only a dot
    assert f'fill="{parts.SPARK_COLOURS["yellow"]}"' in svg


def test_sparkline_of_a_count_scales_to_the_target_and_is_empty_without_values() -> None:
    svg = parts.sparkline_svg([1.0, 2.0], [NOV, DEC], "个", target=4.0, status=None)
    assert 'y1="3.0"' in svg  # target 4 is the top of the scale
    assert parts.SPARK_NEUTRAL in svg
    assert parts.sparkline_svg([None, None], [NOV, DEC], "%") == ""


def member(kind: str, counted: bool, *, members: int = 1, numerator: float | None = None,
           denominator: float | None = 1.0, village: str | None = "001", member_id: str | None = "m", **extra) -> dict:
    row = {"member_kind": kind, "member_id": member_id, "member_name": extra.pop("name", None),
           "village_code": village, "village_name": extra.pop("village_name", None),
           "person_group": extra.pop("group", None), "in_numerator": counted, "in_denominator": denominator is not None,
           "numerator_value": (members if counted else 0.0) if numerator is None else numerator,
           "denominator_value": denominator, "reason_zh": extra.pop("reason", None), "source_file": None,
           "source_sheet": None, "source_row": None, "members": members}
    row.update(extra)
    return row


def test_summarise_members_counts_grouped_persons_by_their_number() -> None:
    rows = [member("person", True, members=5, denominator=5.0), member("person", False, members=2, denominator=2.0),
            member("village", False, member_id="v1"),
            member("village", False, member_id="v2", denominator=None)]  # outside the denominator: not asked about
    assert parts.summarise_members(rows) == parts.MemberSummary(counted=5, not_counted=3, numerator=5.0,
                                                                 denominator=8.0)


def test_summarise_members_of_a_count_kpi_counts_every_member_outside_the_numerator() -> None:
    rows = [member("village", True, denominator=None), member("village", False, denominator=None)]
    summary = parts.summarise_members(rows)
    assert (summary.counted, summary.not_counted, summary.denominator) == (1, 1, None)


@pytest.mark.parametrize(("row", "expected"), [
    ({"source_file": "统景镇_2022年12月.xlsx", "source_sheet": "互助养老点", "source_row": 12},
     "统景镇_2022年12月.xlsx · 互助养老点 · 第12行"),
    ({"source_file": "特困人员名册_20221231.csv", "source_sheet": None, "source_row": 7}, "特困人员名册_20221231.csv · 第7行"),
    ({"source_file": None, "source_sheet": None, "source_row": None}, "—"),
])
def test_source_text(row: dict, expected: str) -> None:
    assert parts.source_text(row) == expected


def test_member_lines_put_the_members_not_counted_first_and_money_in_wan_yuan() -> None:
    rows = [member("payment", True, numerator=350000.0, denominator=400000.0, member_id="f:3"),
            member("payment", False, numerator=0.0, denominator=50000.0, member_id="f:9")]
    lines = member_lines("K23_city_subsidy_received", rows)
    assert [(m.counted, m.numerator, m.denominator) for m in lines] == [
        (False, "0万元", "5万元"), (True, "35万元", "40万元")]


def test_the_sites_status_colours_are_the_reports() -> None:
    css = site_css()
    report_css = (Path(__file__).parents[2] / "reports" / "templates" / "report.css").read_text(encoding="utf-8")
    red = re.search(r"\.st-red \{ background: (#\w+); color: (#\w+)", report_css).groups()
    assert f".st-red {{ background: {red[0]}; color: {red[1]}; }}" in css


def test_build_refuses_to_replace_a_folder_that_is_not_a_site(tmp_path: Path) -> None:
    (tmp_path / "budget.xlsx").write_bytes(b"keep me")
    with pytest.raises(ValueError, match="not a ruralcare site"):
        build_site(tmp_path / "missing.duckdb", tmp_path)
    assert (tmp_path / "budget.xlsx").read_bytes() == b"keep me"


# ---------------------------------------------------------------- one build from a tiny database

TOWNS = [("500112001", "甲镇"), ("500112002", "乙镇")]
KPIS = [("K10_village_coverage", 10, "村级互助养老服务覆盖率", "progress", "rate", "%"),
        ("K14_one_to_one_pairing", 14, "重点对象一对一结对率", "progress", "rate", "%")]


def tiny_published_db(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("""
        create schema marts; create schema quality; create schema meta;
        create table marts.dim_kpi (kpi_id varchar, kpi_no int, name_zh varchar, kind varchar, measure varchar,
            unit varchar, feeding_sheet varchar, definition_zh varchar);
        create table marts.dim_town (town_code varchar, town_name varchar, town_type varchar, district_code varchar,
            is_rural_scope boolean);
        create table marts.kpi_town_monthly (town_code varchar, town_name varchar, month date, kpi_id varchar,
            numerator double, denominator double, value double, target double, due_date date, expected double,
            status varchar, stale boolean, rank integer);
        create table marts.kpi_district_monthly (district_code varchar, district_name varchar, month date,
            kpi_id varchar, numerator double, denominator double, value double, target double, due_date date,
            expected double, status varchar, stale boolean);
        create table marts.kpi_city_monthly (month date, kpi_id varchar, numerator double, denominator double,
            value double, target double, due_date date, expected double, status varchar, stale boolean,
            district_count integer);
        create table marts.town_rank_monthly (town_code varchar, month date, mean_rank double, overall_rank integer,
            district_code varchar);
        create table marts.kpi_members (kpi_id varchar, town_code varchar, town_name varchar, month date,
            member_kind varchar, member_id varchar, member_name varchar, village_code varchar, village_name varchar,
            person_group varchar, in_numerator boolean, in_denominator boolean, numerator_value double,
            denominator_value double, reason_zh varchar, source_file varchar, source_sheet varchar, source_row integer);
        create table marts.kpi_forecast_monthly (town_code varchar, town_name varchar, month date, kpi_id varchar,
            kpi_name_zh varchar, value double, milestone_due_date date, milestone_target double,
            months_of_history integer, pace_per_month double, projected_value double,
            expected_completion_month date, forecast_status varchar, is_forecast_late boolean);
        create table quality.files (file_name varchar, kind varchar, town_code varchar, month date, status varchar,
            reason_zh varchar, loaded_at timestamp);
        create table quality.findings (rule_id varchar, severity varchar, town_code varchar, month date);
        create table meta.refresh (refresh_id varchar, started timestamp, finished timestamp, status varchar,
            files bigint, rows bigint, error varchar);
    """)
    con.executemany("insert into marts.dim_kpi values (?, ?, ?, ?, ?, ?, null, null)", KPIS)
    con.executemany("insert into marts.dim_town values (?, ?, '镇', '500112', true)", TOWNS)
    for month, values in ((NOV, (0.5, 0.6)), (DEC, (0.75, 0.8))):
        for (code, name), value, rank in zip(TOWNS, values, (2, 1)):
            for kpi_id, *_ in KPIS:
                con.execute("insert into marts.kpi_town_monthly values (?, ?, ?, ?, 3, 4, ?, 1, '2023-06-30', 0.9, "
                            "'yellow', false, ?)", [code, name, month, kpi_id, value, rank])
            con.execute("insert into marts.town_rank_monthly values (?, ?, ?, ?, '500112')", [code, month, rank, rank])
        for kpi_id, *_ in KPIS:
            con.execute("insert into marts.kpi_district_monthly values ('500112', '渝北区', ?, ?, 6, 8, ?, 1, "
                        "'2023-06-30', 0.9, 'yellow', false)", [month, kpi_id, sum(values) / 2])
    con.execute("""insert into marts.kpi_members values
        ('K10_village_coverage', '500112001', '甲镇', '2022-12-01', 'village', '500112001201', '东村', '500112001201',
         '东村', null, false, true, 0, 1, '点位未建成', '甲镇_2022年12月_进度表.xlsx', '互助养老点', 7),
        ('K10_village_coverage', '500112001', '甲镇', '2022-12-01', 'village', '500112001202', '西村', '500112001202',
         '西村', null, true, true, 1, 1, '点位已建成', '甲镇_2022年12月_进度表.xlsx', '互助养老点', 8),
        ('K14_one_to_one_pairing', '500112001', '甲镇', '2022-12-01', 'person', 'pk-secret-1', null, '500112001201',
         '东村', '特困', false, true, 0, 1, '无一对一结对记录', '特困人员名册_20221231.csv', null, 5),
        ('K14_one_to_one_pairing', '500112001', '甲镇', '2022-12-01', 'person', 'pk-secret-2', null, '500112001201',
         '东村', '特困', false, true, 0, 1, '无一对一结对记录', '特困人员名册_20221231.csv', null, 6)""")
    con.execute("""insert into marts.kpi_forecast_monthly values
        ('500112001', '甲镇', '2022-12-01', 'K10_village_coverage', '村级互助养老服务覆盖率', 0.75, '2023-06-30', 1.0,
         2, 0.02, 0.87, '2024-01-01', '预计逾期', true),
        ('500112002', '乙镇', '2022-12-01', 'K10_village_coverage', '村级互助养老服务覆盖率', 0.8, '2023-06-30', 1.0,
         2, 0.1, 1.0, '2023-02-01', '预计按期', false)""")
    con.execute("insert into quality.files values ('甲镇_2022年11月_进度表.xlsx', 'town_workbook', '500112001', "
                "'2022-11-01', 'loaded', null, now()), ('坏文件.xlsx', 'town_workbook', null, null, 'rejected', "
                "'文件已损坏，无法打开，请重新保存后报送', now())")
    con.execute("insert into quality.findings values ('DQ01_x', 'error', '500112002', '2022-12-01')")
    con.execute("insert into meta.refresh values ('r1', now(), now(), 'success', 2, 10, null)")
    con.close()
    return path


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("tiny_site")
    database = tiny_published_db(root / "ruralcare.duckdb")
    out = root / "site"
    return out, build_site(database, out, today=date(2022, 12, 3))


def page(site: Path, relative_path: str) -> str:
    return (site / relative_path).read_text(encoding="utf-8")


def test_the_site_has_every_months_pages_and_opens_the_latest(tiny_site) -> None:
    out, written = tiny_site
    assert written[0] == out / "index.html"
    assert 'content="0; url=2022-12/index.html"' in page(out, "index.html")
    expected = {"index.html", "status.html", "2022-11/index.html", "2022-12/index.html", "2022-11/warnings.html",
                "2022-12/warnings.html", "2022-11/town/500112001.html", "2022-12/town/500112002.html",
                "2022-12/town/500112001/K10_village_coverage.html", "2022-12/town/500112001/K14_one_to_one_pairing.html"}
    assert expected <= {p.relative_to(out).as_posix() for p in written}
    assert not (out / "2022-11" / "town" / "500112001").exists()  # no members that month: no members pages


def test_every_relative_link_of_the_site_leads_to_a_page(tiny_site) -> None:
    out, written = tiny_site
    for path in written:
        for href in re.findall(r'(?:href|value)="([^"#]+\.html)"', path.read_text(encoding="utf-8")):
            assert not href.startswith(("/", "http")), f"{path}: {href} is not relative"
            assert (path.parent / href).resolve().is_file(), f"{path}: broken link {href}"


def test_a_town_page_links_each_kpi_to_its_members_with_the_number_not_counted(tiny_site) -> None:
    html = page(tiny_site[0], "2022-12/town/500112001.html")
    assert 'href="../../2022-12/town/500112001/K10_village_coverage.html">查看（未计入 1）' in html
    assert 'href="../../2022-12/town/500112001/K14_one_to_one_pairing.html">查看（未计入 2）' in html
    assert "75.0%" in html and "预计逾期" in html
    assert re.search(r'id="town-rank">综合排名：<strong>2</strong> / 2\n', html)
    other = page(tiny_site[0], "2022-12/town/500112002.html")  # its own forecast only
    assert "预计按期" in other and "预计逾期" not in other
    assert re.search(r'id="town-rank">综合排名：<strong>1</strong> / 2\n', other)


def test_members_page_names_villages_with_their_row_and_counts_persons_by_village(tiny_site) -> None:
    out = tiny_site[0]
    villages = page(out, "2022-12/town/500112001/K10_village_coverage.html")
    assert "东村" in villages and "点位未建成" in villages and "甲镇_2022年12月_进度表.xlsx · 互助养老点 · 第7行" in villages
    assert villages.index("未计入</td>") < villages.index("计入</td>")
    persons = page(out, "2022-12/town/500112001/K14_one_to_one_pairing.html")
    assert re.search(r'<td class="text">特困</td><td class="num">2</td>', persons)
    assert "pk-secret" not in "".join(p.read_text(encoding="utf-8") for p in tiny_site[1])


def test_warnings_page_lists_only_the_late_forecasts(tiny_site) -> None:
    html = page(tiny_site[0], "2022-12/warnings.html")
    assert 'data-town="500112001" data-kpi="K10_village_coverage"' in html
    assert 'data-town="500112002"' not in html
    assert "2024年1月" in html  # expected completion month


def test_status_page_from_the_published_database(tiny_site) -> None:
    html = page(tiny_site[0], "status.html")
    assert "文件已损坏" in html and "坏文件.xlsx" in html
    assert "2022年11月" in html and "还剩 <strong>2</strong> 天" in html  # due 2022-12-05, today the 3rd
    assert re.search(r"尚未报送的镇街（1 个）.*乙镇", html)
    assert "以下为已发布分析库中最近一次发布的刷新" in html  # no refresh record beside this database


def test_status_page_names_the_inbox_files_not_read(tmp_path: Path) -> None:
    from dataclasses import replace

    from pipelines.settings import Settings
    from pipelines.status import collect_status

    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    settings = Settings.from_env(warehouse_dir=tmp_path, published_db=database, sources_dir=tmp_path / "inbox")
    status = collect_status(settings, today=date(2022, 12, 3))
    assert status.not_read == []
    build_site(database, tmp_path / "site", status=replace(status, not_read=["12月/甲镇_2022年11月.xlsx"]))
    html = page(tmp_path / "site", "status.html")
    assert re.search(r'id="not-read">收件箱中未读取的文件（1 个.*12月/甲镇_2022年11月.xlsx', html)
    build_site(database, tmp_path / "site", status=status)
    assert 'id="not-read"' not in page(tmp_path / "site", "status.html")


def test_status_page_shows_a_failed_refresh_from_its_record_beside_the_database(tmp_path: Path) -> None:
    import json

    from pipelines.publish.refresh_log import status_record_path

    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    record = status_record_path(tmp_path / "work.duckdb")
    record.parent.mkdir()
    record.write_text(json.dumps({
        "refresh_id": "r2", "started": "2022-12-03T01:00:00+00:00", "finished": "2022-12-03T01:02:00+00:00",
        "status": "failed", "stage_seconds": {"ingest": 12.5, "transform+quality": 40.25},
        "error": "transform: dbt model int_x failed", "files": 3, "rows": 100}), encoding="utf-8")
    build_site(database, tmp_path / "site", today=date(2022, 12, 3))
    html = page(tmp_path / "site", "status.html")
    assert 'class="status st-red">失败</td>' in html and "transform: dbt model int_x failed" in html
    assert "阶段 ingest</th><td class=\"num\">12.5 秒" in html and "阶段 transform+quality</th><td class=\"num\">40.2 秒" in html


def test_before_any_town_reported_the_site_is_its_status_page(tmp_path: Path) -> None:
    """An empty inbox publishes no KPI yet: the refresh must still build a site (no failed publish)."""
    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    con = duckdb.connect(str(database))
    for table in ("kpi_town_monthly", "kpi_district_monthly", "town_rank_monthly", "kpi_members",
                  "kpi_forecast_monthly"):
        con.execute(f"delete from marts.{table}")
    con.close()
    written = build_site(database, tmp_path / "site", today=date(2022, 12, 3))
    assert {p.relative_to(tmp_path / "site").as_posix() for p in written} == {"index.html", "status.html"}
    index = page(tmp_path / "site", "index.html")
    assert "暂无指标数据" in index and 'url=status.html' in index
    assert "坏文件.xlsx" in page(tmp_path / "site", "status.html")


def test_a_city_sites_overview_is_the_city_as_a_whole(tmp_path: Path) -> None:
    """Several districts: the overview shows marts.kpi_city_monthly (the site lists every town)."""
    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    con = duckdb.connect(str(database))
    con.execute("""insert into marts.kpi_district_monthly select '509902', '第2区', month, kpi_id, 1, 10, 0.1, 1,
                   due_date, expected, 'red', false from marts.kpi_district_monthly""")
    con.execute("""insert into marts.kpi_city_monthly select month, kpi_id, 7, 18, 0.625, null, null, null, 'info', false,
                   2 from marts.kpi_district_monthly where district_code = '500112'""")
    con.close()
    build_site(database, tmp_path / "site", today=date(2022, 12, 3))
    html = page(tmp_path / "site", "2022-12/index.html")
    coverage = re.search(r'<tr data-kpi="K10_village_coverage">.*?</tr>', html, re.S).group(0)
    assert '<td class="num value">62.5%</td>' in coverage
    assert "77.5%" not in html and "10.0%" not in html


# ---------------------------------------------------------------- a new build keeps unchanged months

def _without_month(database: Path, month: date) -> Path:
    con = duckdb.connect(str(database))
    for schema, table in con.execute("select schema_name, table_name from duckdb_columns() "
                                     "where column_name = 'month'").fetchall():
        con.execute(f"delete from {schema}.{table} where month = ?", [month])
    con.close()
    return database


def _refreshed_again(database: Path) -> Path:
    """A later refresh in meta.refresh: the footer's time changes on every page."""
    con = duckdb.connect(str(database))
    con.execute("insert into meta.refresh values ('r2', now() + interval 1 day, now() + interval 1 day, 'success', "
                "3, 12, null)")
    con.close()
    return database


def _drawn_months(monkeypatch: pytest.MonkeyPatch) -> list:
    """The months of the pages drawn in full from now on (index and status pages excluded)."""
    from pipelines.site.build import SiteWriter

    drawn, write = [], SiteWriter.write

    def recording(self, page: str, template: str, month, **context) -> None:
        if template not in ("index.html.j2", "status.html.j2"):
            drawn.append(month)
        write(self, page, template, month, **context)

    monkeypatch.setattr(SiteWriter, "write", recording)
    return drawn


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_new_month_draws_its_own_pages_and_the_site_is_what_a_full_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """November's pages are kept from the build before December arrived (linked, not written
    again); the picker's months and the refresh time, in site-nav.js, gain December, and every
    byte equals a fresh build (pages kept and drawn by worker processes too, as for a city)."""
    from pipelines.site import build

    site = tmp_path / "site"
    build_site(_without_month(tiny_published_db(tmp_path / "nov.duckdb"), DEC), site, today=date(2022, 12, 3))
    both = _refreshed_again(tiny_published_db(tmp_path / "both.duckdb"))
    drawn = _drawn_months(monkeypatch)
    monkeypatch.setattr(build, "site_workers", lambda pages: workers)
    messages: list[str] = []

    build_site(both, site, today=date(2022, 12, 3), log=messages.append)

    if workers == 1:  # the workers' drawing is not seen here
        assert drawn and set(drawn) == {DEC}
    assert messages == ["4 of 12 pages kept from the last build (months with unchanged figures: 2022-11)"]
    monkeypatch.setattr(build, "site_workers", lambda pages: 1)
    build_site(both, tmp_path / "fresh", today=date(2022, 12, 3))
    assert _files(site) == _files(tmp_path / "fresh")
    nav = page(site, "site-nav.js")
    assert '"months": [["2022-12", "2022年12月"], ["2022-11", "2022年11月"]]' in nav
    assert "2022-12" not in page(site, "2022-11/index.html")  # a month's page knows nothing of later months


def _member_reads(monkeypatch: pytest.MonkeyPatch) -> list:
    """The months of every read of member rows (MEMBERS_SQL) from now on."""
    from pipelines.site import data as site_data

    reads, real = [], site_data.dict_rows

    def recording(con, sql: str, params=None) -> list[dict]:
        if sql == site_data.MEMBERS_SQL:
            reads.append(params["months"])
        return real(con, sql, params)

    monkeypatch.setattr(site_data, "dict_rows", recording)
    return reads


def test_a_new_month_reads_the_member_rows_of_its_own_month_only(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept months' pages need only which members pages exist, not the rows (a city's months
    of members are millions of rows)."""
    site = tmp_path / "site"
    build_site(_without_month(tiny_published_db(tmp_path / "nov.duckdb"), DEC), site, today=date(2022, 12, 3))
    reads = _member_reads(monkeypatch)
    build_site(tiny_published_db(tmp_path / "both.duckdb"), site, today=date(2022, 12, 3))
    assert reads == [[DEC]]
    reads.clear()
    build_site(tiny_published_db(tmp_path / "again.duckdb"), site, today=date(2022, 12, 3))
    assert reads == []  # every month kept


def test_a_kept_months_page_missing_from_the_last_build_is_drawn_with_its_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    build_site(database, site, today=date(2022, 12, 3))
    members_page = site / "2022-12" / "town" / "500112001" / "K10_village_coverage.html"
    members_page.unlink()
    reads = _member_reads(monkeypatch)

    build_site(database, site, today=date(2022, 12, 3))

    assert reads == [[DEC]]  # read when the page had to be drawn
    assert "西村" in members_page.read_text(encoding="utf-8")
    build_site(database, tmp_path / "fresh", today=date(2022, 12, 3))
    assert _files(site) == _files(tmp_path / "fresh")


def test_a_changed_old_month_is_drawn_again_with_every_later_month(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A late re-submission for November changes November's figures and December's change column."""
    site = tmp_path / "site"
    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    build_site(database, site, today=date(2022, 12, 3))
    con = duckdb.connect(str(database))
    con.execute("update marts.kpi_town_monthly set value = 0.55 where month = ? and town_code = '500112001'", [NOV])
    con.close()
    drawn = _drawn_months(monkeypatch)

    build_site(database, site, today=date(2022, 12, 3))

    assert set(drawn) == {NOV, DEC}
    build_site(database, tmp_path / "fresh", today=date(2022, 12, 3))
    assert _files(site) == _files(tmp_path / "fresh")
    assert "55.0%" in page(site, "2022-11/town/500112001.html")


def test_changed_drawing_code_draws_every_month_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.site import reuse

    site = tmp_path / "site"
    database = tiny_published_db(tmp_path / "ruralcare.duckdb")
    build_site(database, site, today=date(2022, 12, 3))
    drawn = _drawn_months(monkeypatch)
    build_site(database, site, today=date(2022, 12, 3))
    assert drawn == []  # nothing changed: every month's pages kept
    monkeypatch.setattr(reuse, "drawing_fingerprint", lambda: "templates or code changed")
    build_site(database, site, today=date(2022, 12, 3))
    assert set(drawn) == {NOV, DEC}


def test_the_earlier_build_and_leftovers_of_cut_off_deletions_are_deleted_in_the_background(tmp_path: Path) -> None:
    """The new build takes the folder's name at once; the build it replaces, and an earlier one
    whose deletion was cut off (a refresh killed meanwhile), go in a process of their own."""
    from pipelines.site.build import delete_in_background, old_builds

    database = tiny_published_db(tmp_path / "published.duckdb")
    site = tmp_path / "site"
    build_site(database, site, today=date(2022, 12, 3))
    first_index = (site / "index.html").stat().st_ino
    cut_off = tmp_path / ".site.old-1-2"
    (cut_off / "2022-11").mkdir(parents=True)
    (cut_off / "2022-11" / "index.html").write_text("half deleted", encoding="utf-8")

    build_site(database, site, today=date(2022, 12, 3))

    assert (site / "index.html").stat().st_ino != first_index
    deadline = time.monotonic() + 30
    while old_builds(site) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert old_builds(site) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.duckdb", "site"]
    assert delete_in_background([]) is None


def test_site_nav_lists_the_months_newest_first_each_months_members_pages_and_the_refresh_time(tmp_path: Path) -> None:
    """What site-nav.js draws every month's picker and footer time from: the same page in another
    month is linked only where that month has it (members pages differ by month)."""
    import json

    site = tmp_path / "site"
    build_site(tiny_published_db(tmp_path / "ruralcare.duckdb"), site, today=date(2022, 12, 3))
    script = page(site, "site-nav.js")
    facts = json.loads(script[len("var RURALCARE_SITE = "):script.index(";\n")])

    assert facts["months"] == [["2022-12", "2022年12月"], ["2022-11", "2022年11月"]]
    on_disk = sorted(p.relative_to(site).as_posix() for p in site.glob("*/town/*/*.html"))
    assert on_disk and sorted(f"{month}/town/{town}/{facts['kpis'][int(kpi)]}.html"
                              for month, towns in facts["members"].items()
                              for town, kpis in towns.items() for kpi in kpis.split(" ")) == on_disk
    refreshed = re.search(r"数据更新于 ([0-9-]+ [0-9:]+)。", page(site, "status.html")).group(1)
    assert facts["refreshedAt"] == refreshed
    town_page = page(site, "2022-11/town/500112001.html")
    assert 'data-page="2022-11/town/500112001.html" data-root="../../"' in town_page
    assert '<script src="../../site-nav.js"></script>' in town_page and 'class="refreshed-at"' in town_page


def test_a_large_site_is_drawn_in_rounds_of_whole_months_within_the_members_pages_per_round():
    """member_rounds: the status page goes with the first round; a month's pages stay together; a
    month's members pages kept from the last build cost nothing; a month alone over the limit is a
    round of its own."""
    jan, feb, mar, apr, may = (date(2022, m, 1) for m in range(1, 6))
    kept = Path("earlier")

    def month_tasks(month: date, members: int, earlier: Path | None = None) -> list[tuple]:
        return [(f"{month}/index.html", "overview.html.j2", {"month": month}, earlier),
                *[(f"{month}/m{n}.html", "members.html.j2", {"month": month}, earlier) for n in range(members)]]

    status = ("status.html", "status.html.j2", {"month": None}, None)
    tasks = [status, *month_tasks(jan, 3), *month_tasks(feb, 2), *month_tasks(mar, 7), *month_tasks(apr, 4, kept),
             *month_tasks(may, 1)]

    rounds = member_rounds(tasks, 5)

    assert [sorted({t[2]["month"] for t in r}, key=str) for r in rounds] == [[jan, feb, None], [mar], [apr, may]]
    assert [task for r in rounds for task in r] == tasks
    assert member_rounds(tasks, 100) == [tasks]
    tight = member_rounds(tasks, 1)  # the status page still goes with the first month
    assert [sorted({t[2]["month"] for t in r}, key=str) for r in tight] == [[jan, None], [feb], [mar], [apr, may]]
