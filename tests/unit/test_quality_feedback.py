"""Feedback workbook rows and the quality asset checks' verdicts (pure functions)."""

from datetime import date

import dagster as dg
import pytest

from pipelines.quality.checks import check_result, counts_by_rule_and_town, sql_rules
from pipelines.quality.feedback import Town, finding_rows, neutralise, unpaired_rows, workbook_name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("约1200", "约1200"),
        ("500112********1234", "500112********1234"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_cells_that_excel_could_read_as_formulas_get_an_apostrophe(value, expected):
    assert neutralise(value) == expected


def test_workbook_name_names_town_and_month():
    assert workbook_name(Town("500112133", "统景镇"), date(2022, 6, 1)) == "统景镇_2022年06月_数据质量反馈表.xlsx"


def _finding(rule_id, severity, source_file="a.xlsx", sheet="机构设施", row=None, fix="改。"):
    return {"rule_id": rule_id, "severity": severity, "name_zh": "名", "source_file": source_file, "sheet": sheet,
            "row_number": row, "column_name": "列", "value": "v", "message_zh": f"文件「{source_file}」：问题。{fix}",
            "fix_zh": fix}


def test_findings_are_sorted_errors_first_then_by_rule_file_and_row():
    rows = finding_rows([
        _finding("DQ25_registry_count_mismatch", "info"),
        _finding("DQ13_area_below_standard", "warning", row=9),
        _finding("DQ18_bad_merge_target", "error", row=12),
        _finding("DQ13_area_below_standard", "warning", row=4),
        _finding("DQ04_id_two_towns", "error", source_file="b.csv", sheet=None, row=3),
    ])
    assert [(r[1], r[2], r[6]) for r in rows] == [
        ("错误", "DQ04_id_two_towns", 3),
        ("错误", "DQ18_bad_merge_target", 12),
        ("警告", "DQ13_area_below_standard", 4),
        ("警告", "DQ13_area_below_standard", 9),
        ("提示", "DQ25_registry_count_mismatch", None),
    ]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]


def test_the_message_column_leaves_the_fix_to_its_own_column():
    row = finding_rows([_finding("DQ13_area_below_standard", "warning", row=4, fix="核对面积。")])[0]
    assert row[9] == "文件「a.xlsx」：问题。"
    assert row[10] == "核对面积。"


def test_unpaired_persons_are_listed_by_village():
    rows = unpaired_rows([
        {"village_name": "龙安村", "name_masked": "张*", "id_masked": "500112********1234", "age": 81,
         "registry": "elderly", "source_file": "农村老年人信息库_20221230.csv", "row_number": 9},
        {"village_name": "黄印村", "name_masked": "欧阳**", "id_masked": "500112********2222", "age": 66,
         "registry": "dibao", "source_file": "低保对象名册_20221230.csv", "row_number": 3},
    ])
    assert rows == [
        [1, "黄印村", "欧阳**", "500112********2222", 66, "低保对象名册", "低保对象名册_20221230.csv", 3],
        [2, "龙安村", "张*", "500112********1234", 81, "农村老年人信息库", "农村老年人信息库_20221230.csv", 9],
    ]


@pytest.mark.parametrize(
    ("severity", "by_town", "passed", "check_severity"),
    [
        ("error", {"500112133 统景镇": 2}, False, dg.AssetCheckSeverity.ERROR),
        ("error", {}, True, dg.AssetCheckSeverity.ERROR),
        ("warning", {"500112133 统景镇": 1, "500112018 王家街道": 4}, False, dg.AssetCheckSeverity.WARN),
        ("warning", {}, True, dg.AssetCheckSeverity.WARN),
        ("info", {"500112133 统景镇": 7}, True, dg.AssetCheckSeverity.WARN),
    ],
)
def test_error_rules_fail_warnings_warn_info_passes(severity, by_town, passed, check_severity):
    result = check_result("DQ18_bad_merge_target", severity, by_town)
    assert result.passed is passed
    assert result.severity == check_severity
    assert result.metadata["findings"].value == sum(by_town.values())
    assert result.metadata["findings_by_town"].value == dict(sorted(by_town.items()))


def test_counts_by_town_cover_every_sql_rule_and_only_those():
    counts = counts_by_rule_and_town([
        ("DQ13_area_below_standard", "500112144", "洛碛镇", 2),
        ("DQ13_area_below_standard", "500112133", "统景镇", 1),
        ("DQ01_id_invalid", "500112144", "洛碛镇", 5),
        ("DQ23_submission_missing", None, None, 1),
    ])
    assert set(counts) == {rule.rule_id for rule in sql_rules()}
    assert counts["DQ13_area_below_standard"] == {"500112144 洛碛镇": 2, "500112133 统景镇": 1}
    assert counts["DQ23_submission_missing"] == {"未识别": 1}
    assert sum(counts["DQ03_not_older"].values()) == 0


def test_the_checks_cover_exactly_the_rules_the_catalogue_gives_the_sql_layer():
    assert sorted(r.rule_id[:4] for r in sql_rules()) == [
        "DQ03", "DQ04", "DQ05", "DQ06", "DQ07", "DQ13", "DQ15", "DQ16", "DQ17", "DQ18", "DQ20", "DQ22", "DQ23",
        "DQ24", "DQ25"]
