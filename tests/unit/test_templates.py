"""The pure parts of the town templates: names, months, widths, lists, checks, pre-fill."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.contract import load_contract
from pipelines.templates import (
    PlanProject,
    Town,
    cell_value,
    column_letter,
    column_validation,
    column_width,
    default_month,
    display_width,
    input_message,
    instruction_lines,
    list_values,
    month_label,
    needs_quote_prefix,
    short_place_name,
    template_file_name,
    template_rows,
    towns_in_scope,
    with_missing_villages,
)

CONTRACT = load_contract()
TOWN = Town(code="500112133", name="统景镇", villages=("前锋村", "合理村"), communities=("温泉社区",))
JUNE = date(2022, 6, 1)


def column(kind: str, field: str):
    return CONTRACT.sheets[kind].column(field)


@pytest.mark.parametrize(("official", "short"), [
    ("洛碛村村民委员会", "洛碛村"),
    ("王家社区居民委员会", "王家社区"),
    ("前锋村", "前锋村"),
    (" 温泉社区居民委员会 ", "温泉社区"),
    ("村民委员会", "村民委员会"),  # nothing would be left: keep it
])
def test_short_place_name(official, short):
    assert short_place_name(official) == short


@pytest.mark.parametrize(("today", "month"), [
    (date(2022, 7, 3), date(2022, 6, 1)),
    (date(2022, 7, 31), date(2022, 6, 1)),
    (date(2023, 1, 5), date(2022, 12, 1)),
    (date(2022, 3, 1), date(2022, 2, 1)),
])
def test_default_month_is_the_month_before(today, month):
    assert default_month(today) == month


def test_default_month_reads_the_clock_at_call_time(monkeypatch):
    import pipelines.templates as templates

    class FrozenDate(date):
        @classmethod
        def today(cls):
            return cls(2023, 1, 10)

    monkeypatch.setattr(templates, "date", FrozenDate)
    assert default_month() == date(2022, 12, 1)


def test_file_name_follows_the_spec_convention():
    assert month_label(date(2022, 6, 1)) == "2022年06月"
    assert template_file_name("统景镇", JUNE) == "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx"
    assert template_file_name("王家街道", date(2022, 12, 1)) == "王家街道_2022年12月_农村养老服务全覆盖进度表.xlsx"


@pytest.mark.parametrize(("text", "width"), [("村名", 4), ("abc", 3), ("１２", 4), ("不设立（拟撤并）", 16), ("", 0)])
def test_display_width_counts_wide_characters_twice(text, width):
    assert display_width(text) == width


def test_column_width_fits_header_values_and_type():
    assert column_width(column("village_points", "assistants")) == 19  # 8 CJK + padding
    assert column_width(column("pairings", "id_number")) == 21  # an 18-digit ID
    assert column_width(column("facilities", "facility_name"), ["王家街道失能特困人员集中照护中心"]) == 35
    assert column_width(column("facilities", "remarks"), ["很长" * 50]) == 40  # capped


@pytest.mark.parametrize(("text", "prefixed"), [
    ("=SUM(A1)", True), ("+86 138", True), ("-年内完成", True), ("@李四", True),
    ("前锋村", False), ("2022-06-30", False), ("", False), (" =x", False),
])
def test_needs_quote_prefix(text, prefixed):
    assert needs_quote_prefix(text) is prefixed


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")])
def test_column_letter(index, letter):
    assert column_letter(index) == letter


def test_list_values_come_from_the_contract_and_the_town():
    assert list_values(column("facilities", "build_status"), TOWN) == ("未开工", "在建", "已建成", "已运营", "已撤并")
    assert list_values(column("village_points", "build_status"), TOWN) == ("未开工", "在建", "已建成", "已运营")
    assert list_values(column("trainings", "training_category"), TOWN) == ("院长/主管", "养老护理员")
    assert list_values(column("village_points", "meal_service"), TOWN) == ("是", "否")
    assert list_values(column("village_points", "village_name"), TOWN) == ("前锋村", "合理村", "温泉社区")
    assert list_values(column("village_points", "merge_into"), TOWN) == ("前锋村", "合理村")
    assert list_values(column("pairings", "village_name"), TOWN) == ("前锋村", "合理村", "温泉社区")
    assert list_values(column("village_points", "volunteer_teams"), TOWN) is None  # teams: a count
    assert list_values(column("facilities", "operator"), TOWN) is None


def test_every_category_column_of_every_sheet_gets_a_list():
    listed = {(kind, c.header) for kind, s in CONTRACT.sheets.items() for c in s.columns
              if list_values(c, TOWN) is not None}
    for header in ("设施类型", "建设方式", "建设状态", "运营方式", "法人登记", "备案", "内设卫生室"):
        assert ("facilities", header) in listed
    for header in ("村名", "设置方式", "合并至", "是否分点", "建设状态", "老年协会", "开展助餐"):
        assert ("village_points", header) in listed
    assert {("pairings", "所在村"), ("pairings", "对象类别"), ("pairings", "结对方式"),
            ("trainings", "培训类别"), ("trainings", "是否取证"), ("funds", "资金类型")} <= listed


@pytest.mark.parametrize(("kind", "field", "message"), [
    ("facilities", "area_m2", "面积填数字，单位平方米"),
    ("village_points", "equipment_subsidy_yuan", "金额填数字，单位元"),
    ("funds", "amount_yuan", "金额填数字，单位万元"),
    ("village_points", "volunteer_teams", "填志愿服务队的支数（整数），没有填0"),
    ("pairings", "pairing_date", "填日期，如2022-06-30，不晚于报表月末"),
    ("facilities", "start_date", "填日期，如2022-06-30"),
    ("facilities", "facility_name", "必填。"),
    ("pairings", "id_number", "必填。填18位身份证号，末位X大写"),
    ("village_points", "merge_into", "请从下拉列表中选择合并到的村"),
    ("facilities", "operator", None),
])
def test_input_messages(kind, field, message):
    assert input_message(column(kind, field)) == message


def test_validation_of_a_list_column_blocks_other_text():
    options = column_validation(column("funds", "fund_type"), "='_lists'!$A$2:$A$8", JUNE, "B4")
    assert options["validate"] == "list" and options["source"] == "='_lists'!$A$2:$A$8"
    assert "error_type" not in options  # xlsxwriter's default: stop
    assert options["input_message"] == "请从下拉列表中选择"


def test_validation_of_categories_allows_combinations():
    options = column_validation(column("pairings", "categories"), "='_lists'!$J$2:$J$10", JUNE, "D4")
    assert options["error_type"] == "information"


@pytest.mark.parametrize(("kind", "field", "expected"), [
    ("facilities", "beds", {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 10000}),
    ("village_points", "volunteer_teams", {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 10000}),
    ("facilities", "area_m2", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100000}),
    ("village_points", "equipment_subsidy_yuan",
     {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100_000_000}),
    ("funds", "amount_yuan", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 10_000}),
    ("trainings", "hours", {"validate": "decimal", "criteria": ">=", "value": 0}),
    ("funds", "paid_date",
     {"validate": "date", "criteria": "between", "minimum": date(2000, 1, 1), "maximum": date(2022, 6, 30)}),
    ("facilities", "completion_date",
     {"validate": "date", "criteria": "between", "minimum": date(2000, 1, 1), "maximum": date(2099, 12, 31)}),
    ("trainings", "id_number", {"validate": "custom", "value": "=OR(LEN(B4)=18,LEN(B4)=15)"}),
])
def test_number_date_and_id_checks(kind, field, expected):
    options = column_validation(column(kind, field), None, JUNE, "B4")
    assert {k: options[k] for k in expected} == expected
    assert options["error_message"]


def test_free_text_columns_have_no_check_but_required_ones_a_message():
    assert column_validation(column("facilities", "operator"), None, JUNE, "L4") is None
    required = column_validation(column("facilities", "facility_name"), None, JUNE, "A4")
    assert required == {"validate": "any", "input_title": "设施名称", "input_message": "必填。"}


def test_month_end_date_check_follows_the_report_month():
    options = column_validation(column("pairings", "pairing_date"), None, date(2024, 2, 1), "H4")
    assert options["maximum"] == date(2024, 2, 29)


PROJECTS = [
    PlanProject("C03", "500112133", "统景镇养老服务中心", "镇养老服务中心", "新建", "统景镇敬老院"),
    PlanProject("M03", "500112133", "黄印敬老院", "敬老院", "撤并", ""),
    PlanProject("C06", "500112144", "洛碛镇养老服务中心", "镇养老服务中心", "改建", "洛碛敬老院"),
]


def test_blank_template_rows_are_the_towns_projects_and_villages():
    assert template_rows(TOWN, PROJECTS) == {
        "facilities": [
            {"facility_name": "统景镇养老服务中心", "facility_type": "镇养老服务中心", "build_mode": "新建",
             "host_facility": "统景镇敬老院"},
            {"facility_name": "黄印敬老院", "facility_type": "敬老院", "build_mode": "撤并", "host_facility": None},
        ],
        "village_points": [{"village_name": "前锋村"}, {"village_name": "合理村"}],
    }


def test_template_rows_from_last_month_keep_the_plan_where_a_sheet_never_loaded():
    previous = {"village_points": [{"village_name": "合理村", "build_status": "在建"}],
                "pairings": [{"id_number": "500112194001020113", "visits_this_month": 2}]}
    rows = template_rows(TOWN, PROJECTS, previous)
    assert rows["village_points"] == [{"village_name": "合理村", "build_status": "在建"}, {"village_name": "前锋村"}]
    assert rows["pairings"] == previous["pairings"]
    assert [r["facility_name"] for r in rows["facilities"]] == ["统景镇养老服务中心", "黄印敬老院"]


def test_last_months_points_get_rows_for_villages_they_missed():
    rows = [{"village_name": "前锋村", "build_status": "已运营"}, {"village_name": "前锋村", "is_sub_point": True},
            {"village_name": "温泉社区"}]
    assert with_missing_villages(rows, TOWN) == rows + [{"village_name": "合理村"}]
    assert with_missing_villages([{"village_name": "合理村村民委员会"}], TOWN)[1:] == [{"village_name": "前锋村"}]


@pytest.mark.parametrize(("kind", "field", "parsed", "raw", "shown"), [
    ("facilities", "beds", 120, "120", 120),
    ("facilities", "area_m2", None, "约1200", "约1200"),  # unreadable: shown for the clerk to fix
    ("facilities", "area_m2", None, None, None),
    ("facilities", "filed", True, "√", True),
    ("funds", "amount_yuan", 125000.0, "12.5", 12.5),  # yuan back to the header's 万元
    ("funds", "amount_yuan", 3500.0, "0.35", 0.35),
    ("village_points", "equipment_subsidy_yuan", 8000.5, "8000.5", 8000.5),
    ("pairings", "categories", ["特困", "高龄"], "特困,高龄", ["特困", "高龄"]),
    ("pairings", "categories", [], "", None),
])
def test_cell_value_for_a_loaded_value(kind, field, parsed, raw, shown):
    assert cell_value(column(kind, field), parsed, raw) == shown


def test_towns_in_scope_from_the_builtin_divisions():
    towns = towns_in_scope()
    assert [t.name for t in towns] == ["王家街道", "玉峰山镇", "统景镇", "大湾镇", "兴隆镇", "木耳镇",
                                       "茨竹镇", "古路镇", "石船镇", "大盛镇", "洛碛镇"]
    tongjing = next(t for t in towns if t.name == "统景镇")
    assert tongjing.villages[:2] == ("前锋村", "合理村") and len(tongjing.villages) == 21
    assert tongjing.communities == ("温泉社区", "滨河社区")
    assert not any(name.endswith("委员会") for t in towns for name in t.places)


def test_towns_in_scope_from_another_division_list(tmp_path):
    divisions = tmp_path / "divisions.csv"
    divisions.write_text(
        "code,name,level,parent_code,urban_rural_code,is_rural_scope\n"
        "900001001,甲镇,town,900001,,TRUE\n"
        "900001002,乙街道,town,900001,,false\n"
        "900001001201,丙村村民委员会,village,900001001,,true\n"
        "900001002201,丁村村民委员会,village,900001002,,false\n",
        encoding="utf-8",
    )
    assert towns_in_scope(divisions) == [Town("900001001", "甲镇", ("丙村",), ())]


def test_instruction_lines_never_look_like_cover_fields():
    # The loader takes 填报单位/报表月份/填报日期 from the first rows of any visible sheet.
    labels = [*CONTRACT.words["cover_town"], *CONTRACT.words["cover_month"], *CONTRACT.words["cover_date"]]
    lines = instruction_lines(TOWN, JUNE)
    assert not any(line.startswith(label) for line in lines for label in labels)
    assert "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx" in lines[1]
