"""Table-driven tests of the ingest parsers with the forms clerks really type."""

import re
from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.contract import load_contract
from pipelines.ingest import values
from pipelines.ingest.divisions import Divisions
from pipelines.ingest.findings import mask, mask_id, mask_name, mask_phone, masked_in_text, masked_in_text_expr
from pipelines.ingest.idnumber import check_char, clean_id, cleaned_ids, with_id_columns
from pipelines.ingest.registry import detect_encoding, parse_registry_name, split_fields
from pipelines.ingest.suites import build_suites, load_suite, presence_only_columns
from pipelines.ingest.text import (
    cover_value, find_month, find_town_in_name, normalize_header, parse_cover_date, resolve_town,
)
from pipelines.ingest.person_key import _hashing_database, person_key, person_keys, release_hashing_database
from pipelines.ingest.workbook import SheetCells, data_rows, find_header, sheet_kind
from pipelines.publish.database import FULL_ID_OR_PHONE
from pipelines.settings import BUILTIN_DIVISIONS

CONTRACT = load_contract()
TOWNS = Divisions.load(BUILTIN_DIVISIONS).in_scope_towns


def parse(expr_builder, cells):
    frame = pl.DataFrame({"raw": cells}, schema={"raw": pl.String})
    return frame.select(expr_builder(pl.col("raw")).alias("out"))["out"].to_list()


@pytest.mark.parametrize("text, expected", [
    ("统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx", date(2022, 6, 1)),
    ("统景镇2022年6月进度表.xlsx", date(2022, 6, 1)),
    ("统景_202206.xlsx", date(2022, 6, 1)),
    ("2022-06 统景镇.xls", date(2022, 6, 1)),
    ("统景镇 2022.6.xlsx", date(2022, 6, 1)),
    ("统景镇_2022_06.xlsm", date(2022, 6, 1)),
    ("2022年12月", date(2022, 12, 1)),
    ("统景镇进度表.xlsx", None),
    ("统景镇20220630.xlsx", None),
])
def test_find_month(text, expected):
    assert find_month(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("统景镇", "500112133"), ("统景", "500112133"), ("统景镇人民政府", "500112133"),
    ("王家街道办事处", "500112018"), ("王家", "500112018"), ("王家街道", "500112018"),
    (" 洛碛镇 ", "500112144"), ("双龙湖街道", None), ("某某镇", None),
])
def test_resolve_town(text, expected):
    assert resolve_town(text, TOWNS) == expected


@pytest.mark.parametrize("name, expected", [
    ("统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx", "500112133"),
    ("玉峰山2022年6月.xlsx", "500112129"),
    ("王家街道办事处202206.xls", "500112018"),
    ("2022年6月进度表.xlsx", None),
])
def test_find_town_in_name(name, expected):
    assert find_town_in_name(name, TOWNS) == expected


@pytest.mark.parametrize("cells, labels, expected", [
    (["填报单位：统景镇"], ["填报单位"], "统景镇"),
    (["填报单位:", None, "统景镇人民政府"], ["填报单位"], "统景镇人民政府"),
    (["报表月份： 2022年6月"], ["报表月份", "月份"], "2022年6月"),
    (["填报单位 ：统景镇"], ["填报单位"], "统景镇"),  # a space before the colon
    (["填报单位说明"], ["填报单位"], None),
    (["设施名称"], ["填报单位"], None),
])
def test_cover_value(cells, labels, expected):
    assert cover_value(cells, 0, labels) == expected


@pytest.mark.parametrize("text, expected", [
    ("2022年7月3日", date(2022, 7, 3)), ("2022-07-03", date(2022, 7, 3)), ("2022/7/3", date(2022, 7, 3)),
    ("20220703", date(2022, 7, 3)), ("2022-07-03 00:00:00", date(2022, 7, 3)), ("2022.13.1", None), ("七月", None),
    # any date form of docs/inputs.md: a month alone is its last day; a date-time serial keeps its day
    ("2022年7月", date(2022, 7, 31)), ("2022-07", date(2022, 7, 31)), ("202207", date(2022, 7, 31)),
    ("44745", date(2022, 7, 3)), ("44745.375", date(2022, 7, 3)), ("2022-13", None),
])
def test_parse_cover_date(text, expected):
    assert parse_cover_date(text) == expected


@pytest.mark.parametrize("cells", [
    ["填报日期：", "2022-07-03 00:00:00"],  # an Excel date cell as calamine gives it, in the next cell
    ["填报日期：2022-07-03 00:00:00"],
    ["填 报 日 期: 2022-07-03 09:15:00"],
    ["填报日期", None, "2022年7月3日"],
])
def test_a_cover_date_cell_gives_the_submission_date(cells):
    assert parse_cover_date(cover_value(cells, 0, ["填报日期"])) == date(2022, 7, 3)


@pytest.mark.parametrize("header, expected", [
    ("建筑面积（㎡）", ("建筑面积", "m2")), ("建筑面积\n(m²)", ("建筑面积", "m2")), ("建筑 面积(平方米)", ("建筑面积", "m2")),
    ("金额（万元）", ("金额", "万元")), ("金额(元)", ("金额", "元")), ("村（社区）", ("村(社区)", None)),
    ("床位数（张）", ("床位数", "count")), ("设施名称", ("设施名称", None)),
])
def test_normalize_header(header, expected):
    assert normalize_header(header, CONTRACT.words["units"]) == expected


@pytest.mark.parametrize("cell, expected", [
    ("1,200", 1200.0), ("1200㎡", 1200.0), ("1200平方米", 1200.0), ("１２００", 1200.0), ("1200.0", 1200.0),
    (" 85.5 ", 85.5), ("约1200", None), ("1200-1500", None), ("待定", None), ("—", None), (None, None), ("-5", -5.0),
    ("1,200,000", 1200000.0), ("1,200.5", 1200.5), ("1,200㎡", 1200.0),
    # a comma anywhere else is not a thousands separator: the cell is unreadable
    ("12,5", None), ("1.200,5", None), ("1,2,3", None), (",5", None), ("1200,", None),
])
def test_number(cell, expected):
    assert parse(values.number, [cell]) == [expected]


@pytest.mark.parametrize("cell, multiplier, expected", [
    ("12", 10000.0, 120000.0), ("1.2", 10000.0, 12000.0), ("15000", 1.0, 15000.0), ("1.5万元", 1.0, 15000.0),
])
def test_money_units(cell, multiplier, expected):
    assert parse(lambda e: values.number(e, multiplier), [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [
    ("12", 12), ("12.0", 12), ("1,200", 1200), ("无", 0), ("12.5", None), ("约10", None), ("", None),
])
def test_integer(cell, expected):
    assert parse(lambda e: values.integer(e, CONTRACT), [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [
    ("是", True), ("否", False), ("有", True), ("无", False), ("√", True), ("×", False), ("✓", True), ("✗", False),
    ("Y", True), ("n", False), ("1", True), ("0", False), ("已", True), ("未", False), ("true", True),
    (" 是 ", True), ("可能", None), ("—", None), (None, None),
])
def test_yes_no(cell, expected):
    assert parse(lambda e: values.yes_no(e, CONTRACT), [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [("2", 2), ("有", 1), ("无", 0), ("否", 0), ("两支", None)])
def test_teams(cell, expected):
    assert parse(lambda e: values.teams(e, CONTRACT), [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [
    ("2022-06-30 00:00:00", date(2022, 6, 30)), ("44742", date(2022, 6, 30)), ("44742.0", date(2022, 6, 30)),
    ("2022-06-30", date(2022, 6, 30)), ("2022/6/30", date(2022, 6, 30)), ("2022.6.30", date(2022, 6, 30)),
    ("2022年6月30日", date(2022, 6, 30)), ("20220630", date(2022, 6, 30)), ("2022年6月", date(2022, 6, 30)),
    ("2022-06", date(2022, 6, 30)), ("2022年2月", date(2022, 2, 28)), ("2022.13.1", None), ("2022-02-30", None),
    ("待定", None), ("#REF!", None), ("—", None),
    ("44742.4375", date(2022, 6, 30)),  # a date-time cell shown as General
])
def test_date(cell, expected):
    assert parse(values.date, [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [
    ("养老服务中心", "镇养老服务中心"), ("镇（街道）养老服务中心", "镇养老服务中心"), ("农村敬老院", "敬老院"),
    ("集中照护中心", "失能特困人员集中照护中心"), (" 敬老院 ", "敬老院"), ("福利院", "福利院"), ("/", None),
])
def test_category(cell, expected):
    column = CONTRACT.sheets["facilities"].column("facility_type")
    assert parse(lambda e: values.category(e, column, CONTRACT), [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [
    ("特困、低保", ["特困", "低保"]), ("高龄,独居", ["高龄", "独居"]), ("高龄，留守", ["高龄", "留守"]),
    ("空巢/独居", ["空巢", "独居"]), ("计生特殊 高龄", ["计生特殊", "高龄"]), ("特困、外星人", None), ("", None),
])
def test_categories(cell, expected):
    column = CONTRACT.sheets["pairings"].column("categories")
    assert parse(lambda e: values.categories(e, column, CONTRACT), [cell]) == [expected]


@pytest.mark.parametrize("cell, expected", [("0", 0), ("3", 3), ("重度失能", 3), ("2级", 2), ("5", None)])
def test_ability(cell, expected):
    assert parse(lambda e: values.ability(e, CONTRACT), [cell]) == [expected]


def test_village_names_match_within_their_town():
    divisions = Divisions.load(BUILTIN_DIVISIONS)
    frame = pl.DataFrame({
        "town_code": ["500112133"] * 6 + ["500112144"],
        "v": ["前锋村", "前锋", "前锋村村民委员会", "前锋村委会", " 前 锋 村 ", "滨河社区", "前锋村"],
    })
    matched = divisions.match_villages(frame, "town_code", "v")
    assert matched["v__code"].to_list() == ["500112133201"] * 5 + ["500112133003", None]
    assert matched["v__level"].to_list()[:6] == ["village"] * 5 + ["community"]


@pytest.mark.parametrize("raw, number, valid, legacy", [
    ("11010519491231002X", "11010519491231002X", True, False),
    ("11010519491231002x", "11010519491231002X", True, False),
    ("'11010519491231002X", "11010519491231002X", True, False),
    ('="11010519491231002X"', "11010519491231002X", True, False),
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", True, False),
    ("110105 1949 1231 002X", "11010519491231002X", True, False),
    ("110105491231002", "11010519491231002X", True, True),
    ("110105194912310021", None, False, False),  # wrong check character
    ("110105194913310021", None, False, False),  # month 13
    ("5.00112E+17", None, False, False),  # scientific notation: digits lost
    ("11010519491231002", None, False, False),
    (None, None, None, False),
])
def test_id_numbers(raw, number, valid, legacy):
    frame = pl.DataFrame({"raw": [raw], "as_of": [date(2022, 6, 30)]}, schema={"raw": pl.String, "as_of": pl.Date})
    row = with_id_columns(frame, "raw", "as_of").row(0, named=True)
    assert (row["id_number"], row["id_valid"], row["id_legacy15"]) == (number, valid, legacy)


def test_the_quick_unwrapping_of_ids_cleans_as_the_full_cleaning():
    raw = pl.Series("raw", [
        "11010519491231002X", '="11010519491231002X"', "=11010519491231002X", '="11010519491231002X',
        '11010519491231002X"', "11010519491231002x", '="11010519491231002x"', "１１０１０５１９４９１２３１００２Ｘ", "１１０１０５１９４９１２３１００２X",
        " 110105 19491231 002X ", "'11010519491231002X", '= "11010519491231002X"', "1.10105E+17",
        "110105491231002", "", None,
    ])
    assert cleaned_ids(raw).to_list() == raw.to_frame().select(clean_id(pl.col("raw"))).to_series().to_list()


def test_check_character_of_the_standard_example():
    assert check_char("11010519491231002") == "X"


def test_facilities_header_with_title_rows_and_two_row_header():
    rows = [
        ["统景镇养老机构设施台账", None, None, None],
        ["填报单位：统景镇", None, "报表月份：2022年6月", None],
        ["设施名称", "床位情况", None, "建筑面积（㎡）"],
        [None, "床位数", "护理型\n床位数", None],
        ["统景镇养老服务中心", "50", "40", "2,000"],
        [None, None, None, None],
        ["合计", "50", "40", None],
        ["填表人：张*", None, None, None],
    ]
    source = CONTRACT.sheets["facilities"]
    header = find_header(rows, source, CONTRACT)
    assert (header.row_index, header.data_start) == (2, 4)
    assert header.columns == {"facility_name": 0, "beds": 1, "nursing_beds": 2, "area_m2": 3}
    assert header.units["area_m2"] == "m2"
    frame = data_rows(SheetCells.from_rows("机构设施", True, rows), header, source, CONTRACT)
    assert frame["row_number"].to_list() == [5]


def test_single_row_header_with_aliases_and_fill_down():
    rows = [["村（社区）", "建设方式", "分点", "设备补助（万元）"], ["洛碛村", "独立设置", "否", "1"], [None, "单独设立", "是", "0.5"]]
    source = CONTRACT.sheets["village_points"]
    header = find_header(rows, source, CONTRACT)
    assert header.columns == {"village_name": 0, "setup_mode": 1, "is_sub_point": 2, "equipment_subsidy_yuan": 3}
    assert header.units["equipment_subsidy_yuan"] == "万元"
    frame = data_rows(SheetCells.from_rows("互助养老点", True, rows), header, source, CONTRACT)
    assert frame["village_name_raw"].to_list() == ["洛碛村", "洛碛村"]


def test_no_header_in_a_sheet_of_notes():
    rows = [["填报说明"], ["1. 请按月报送"], ["2. 不要改列名"]]
    assert find_header(rows, CONTRACT.sheets["facilities"], CONTRACT) is None


@pytest.mark.parametrize("row, is_data", [
    (["合计", "10"], False), ([None, "总计"], False), (["填表人：李*"], False), (["联系电话：138****1234"], False),
    (["注：数据截至月末"], False), (["  小 计", "3"], False), (["红竹敬老院", "10"], True), ([None, None], False),
    # a totals row named by what it totals: the word ends the first cell
    (["全镇合计", "50"], False), (["统景镇 合 计 ", "50"], False), ([None, "全镇总计", "50"], False),
    (["前锋村小计", "5"], False), (["红竹合计敬老院", "5"], True),
])
def test_footer_and_blank_rows_are_not_data(row, is_data):
    rows = [["设施名称", "床位数"], ["统景镇敬老院", "20"], row]
    source = CONTRACT.sheets["facilities"]
    frame = data_rows(SheetCells.from_rows("机构设施", True, rows), find_header(rows, source, CONTRACT), source, CONTRACT)
    assert frame["row_number"].to_list() == ([2, 3] if is_data else [2])


def test_an_id_typed_into_a_number_cell_shows_as_excel_shows_it():
    rows = [["姓名", "身份证号"], ["张*", "500112194912310016"], ["李*", "11010519491231002X"], ["王*", "110105491231002"]]
    numbers = {1: pl.Series([None, 5.0011219491231002e17, None, 110105491231002.0])}
    sheet = SheetCells.from_rows("培训情况", True, rows)
    sheet.numbers = lambda col: numbers[col]
    source = CONTRACT.sheets["trainings"]
    frame = data_rows(sheet, find_header(rows, source, CONTRACT), source, CONTRACT)
    # 15 digits survive a number cell; 18 do not (Excel keeps 15 significant digits)
    assert frame["id_number_raw"].to_list() == ["5.00112E+17", "11010519491231002X", "110105491231002"]


@pytest.mark.parametrize("cell, expected", [
    ("洛碛村", "洛碛村"), (" 洛碛村\u3000", "洛碛村"), ("洛碛村村民委员会", "洛碛村村民委员会"), ("洛 碛", "洛碛"),
    ("—", None), ("无", None), (None, None),
])
def test_village_names_keep_what_was_typed_without_spaces(cell, expected):
    assert parse(lambda e: values.village(e, CONTRACT), [cell]) == [expected]


def test_person_keys_are_the_hmac_of_each_id():
    ids = pl.Series(["11010519491231002X", None, "500112194912310020"])
    for key in (b"short-key", b"k" * 100):  # keys longer than a SHA-256 block are hashed first
        assert person_keys(key, ids).to_list() == [person_key(key, ids[0]), None, person_key(key, ids[2])]


def test_released_hashing_database_is_closed_and_opened_again_when_needed():
    ids = pl.Series(["11010519491231002X"])
    person_keys(b"key", ids)
    used = _hashing_database()
    release_hashing_database()
    with pytest.raises(duckdb.ConnectionException):
        used.execute("SELECT 1")
    assert person_keys(b"key", ids).to_list() == [person_key(b"key", ids[0])]
    release_hashing_database()
    release_hashing_database()  # nothing open: nothing to do


@pytest.mark.parametrize("name, expected", [
    ("机构设施", "facilities"), ("1.机构设施", "facilities"), ("表2 互助养老点", "village_points"),
    ("村级互助养老点", "village_points"), ("互助养老点（4月备份）", "village_points"), ("结对帮扶", "pairings"),
    ("培训台账", "trainings"), ("资金到位", "funds"), ("说明", None), ("Sheet1", None),
])
def test_sheet_kind(name, expected):
    assert sheet_kind(name, CONTRACT) == expected


@pytest.mark.parametrize("name, expected", [
    ("特困人员名册_20220630.csv", ("tekun", date(2022, 6, 30))),
    ("农村老年人信息库_20221231.xlsx", ("elderly", date(2022, 12, 31))),
    ("家庭医生签约_20220101.csv", ("family_doctor", date(2022, 1, 1))),
    ("低保对象名册.csv", ("dibao", None)),
    ("名单_20220630.csv", (None, date(2022, 6, 30))),
])
def test_registry_names(name, expected):
    assert parse_registry_name(name, CONTRACT) == expected


@pytest.mark.parametrize("head, codec, separator", [
    ("姓名,公民身份号码\n".encode("gb18030"), "gb18030", ","),
    ("姓名,公民身份号码\n".encode("utf-8"), "utf-8", ","),
    (b"\xef\xbb\xbf" + "姓名,公民身份号码\n".encode("utf-8"), "utf-8", ","),
    ("\ufeff姓名\t公民身份号码\n".encode("utf-16-le"), "utf-16-le", "\t"),
    # a UTF-8 export with a row pasted in from a GB18030 one: the header line decides
    ("姓名,公民身份号码\n张三,1\n".encode("utf-8") + "李四,2\n".encode("gb18030"), "utf-8", ","),
    ("姓名\t公民身份号码\n".encode("utf-8") + "李四\t2\n".encode("gb18030"), "utf-8", "\t"),
    # GB18030 throughout, a UTF-8 row pasted in: still GB18030
    ("姓名,公民身份号码\n".encode("gb18030") + "张三,1\n".encode("utf-8"), "gb18030", ","),
])
def test_detect_encoding(head, codec, separator):
    encoding = detect_encoding(head)
    assert (encoding.codec, encoding.separator, encoding.lines_end_in_cr) == (codec, separator, False)


@pytest.mark.parametrize("head, lines_end_in_cr", [
    ("姓名,地址\r张三,前锋村\r".encode("gb18030"), True),  # Excel for Mac's CSV
    ('姓名,地址\r张三,"前锋村\n4组"\r李四,x\r'.encode("utf-8"), True),  # an LF inside a cell
    ("\ufeff姓名\t地址\r张三\t前锋村\r".encode("utf-16-le"), True),
    ('姓名,地址\r\n张三,"前锋村\r4组"\r\n'.encode("utf-8"), False),  # a CR inside a cell of a CRLF file
    ("姓名,地址".encode("utf-8"), False),
])
def test_lines_ending_in_a_carriage_return_alone(head, lines_end_in_cr):
    encoding = detect_encoding(head)
    assert (encoding.separator, encoding.lines_end_in_cr) == ("\t" if b"\t" in head else ",", lines_end_in_cr)


def test_split_fields_honours_quotes_and_excel_text_wrappers():
    lines = pl.Series(['张*,="500112",统景镇', '"李,*","a""b",x', "a,b", "a,b,c,d"])
    assert split_fields(lines, ",").to_list() == [
        ["张*", '="500112"', "统景镇"], ["李,*", 'a"b', "x"], ["a", "b"], ["a", "b", "c", "d"],
    ]


@pytest.mark.parametrize("fn, value, expected", [
    (mask_id, "11010519491231002X", "110105********002X"), (mask_id, "'11010519491231002X", "110105********002X"),
    (mask_name, "张三", "张*"), (mask_name, "欧阳娜娜", "欧阳**"), (mask_name, "欧阳修", "欧阳*"),
    (mask_phone, "13812341234", "138****1234"),
])
def test_masking(fn, value, expected):
    assert fn(value) == expected


@pytest.mark.parametrize("text, expected", [
    ("统景镇_2022年06月_进度表_联系人13812345678.xlsx", "统景镇_2022年06月_进度表_联系人138****5678.xlsx"),
    ("红竹敬老院（院长 13812345678）", "红竹敬老院（院长 138****5678）"),
    ("11010519491231002X张三.xlsx", "110105********002X张三.xlsx"),
    ("500112194901011234", "500112********1234"),
    ("13812345678,13912345678", "138****5678,139****5678"),  # one character apart
    ("13812345678,13912345678;13712345678/13612345678", "138****5678,139****5678;137****5678/136****5678"),
    ("联系人11010519491231002X/13812345678", "联系人110105********002X/138****5678"),
    # not an ID or phone standing alone: as the publish check reads them
    ("低保对象名册_20220630.csv", "低保对象名册_20220630.csv"),
    ("证书4150000300400123", "证书4150000300400123"),  # 16 digits
    ("1381234567890", "1381234567890"), ("a13812345678", "a13812345678"), ("12812345678", "12812345678"),
    ("138 1234 5678", "138 1234 5678"), ("", ""),
])
def test_ids_and_phones_in_free_text_are_masked_as_the_publish_check_reads_them(text, expected):
    assert masked_in_text(text) == expected
    assert pl.select(masked_in_text_expr(pl.lit(text, pl.String))).item() == expected  # the column's way
    assert bool(re.search(FULL_ID_OR_PHONE, text)) == (expected != text)
    assert not re.search(FULL_ID_OR_PHONE, expected)
    assert mask(text, None) == expected  # a finding's value of a column that is no personal field


def test_suite_files_are_in_step_with_the_contract():
    for table, suite in build_suites(CONTRACT).items():
        assert load_suite(table) == suite, f"regenerate suites: python -m pipelines.ingest.suites ({table})"


@pytest.mark.parametrize("kind, cells, columns, units", [
    # "drop any bracketed unit": units the contract does not list are dropped too, 万/元 kept
    ("facilities", ["设施名称", "建筑面积（平米）", "床位数【张】"], {"facility_name": 0, "area_m2": 1, "beds": 2}, {}),
    ("funds", ["项目名称", "资金类型", "金额(万)", "到位日期"], {"amount_yuan": 2}, {"amount_yuan": "万元"}),
    ("funds", ["项目名称", "资金类型", "到位金额（元/笔）", "到位日期"], {"amount_yuan": 2}, {"amount_yuan": "元"}),
    ("trainings", ["姓名", "身份证号", "培训类别", "培训日期", "学时（小时）"], {"hours": 4}, {"hours": None}),
    # a bracketed part of a real header stays: 村（社区） is the header itself
    ("village_points", ["村（社区）", "设置方式"], {"village_name": 0, "setup_mode": 1}, {}),
])
def test_headers_with_any_bracketed_unit(kind, cells, columns, units):
    header = find_header([cells, [None] * len(cells)], CONTRACT.sheets[kind], CONTRACT)
    assert header is not None
    assert {f: header.columns[f] for f in columns} == columns
    assert {f: header.units.get(f) for f in units} == units


def test_columns_tested_only_for_being_filled_reach_gx_as_marks():
    presence_only = presence_only_columns(load_suite("registry_elderly"))
    assert {"person_name", "phone", "village_name_code"} <= presence_only
    # a value set, a comparison or a row condition reads the value itself
    assert presence_only.isdisjoint({"living_situation", "birth_date", "id_valid", "_given_phone", "_field_count_ok"})
