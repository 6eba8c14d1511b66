"""`ruralcare templates`: the town workbooks read back with openpyxl, then filled and loaded.

The round trip fills every data sheet of a template the way a clerk would (values from the
drop-down lists, numbers, dates), runs the real loader on a temporary inbox, and checks that
nothing is a finding and every value lands in `raw.town_*` unchanged.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.contract import load_contract
from pipelines.ingest.idnumber import check_char
from pipelines.templates import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    LISTS_SHEET,
    template_file_name,
    towns_in_scope,
    write_templates,
)

MONTH = date(2022, 6, 1)
TOWN = "统景镇"
TOWN_CODE = "500112133"
CONTRACT = load_contract()
SHEET_NAMES = [s.name for s in CONTRACT.sheets.values()]
HEADER_EXCEL_ROW = HEADER_ROW + 1
FIRST_DATA_EXCEL_ROW = FIRST_DATA_ROW + 1


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_templates(tmp_path_factory.mktemp("templates"), MONTH)


@pytest.fixture(scope="module")
def town_book(templates: list[Path]) -> openpyxl.Workbook:
    path = next(p for p in templates if p.name.startswith(TOWN))
    return openpyxl.load_workbook(path)


def headers(ws) -> dict[str, str]:
    """Canonical header -> column letter, from the header row."""
    return {cell.value: cell.column_letter for cell in ws[HEADER_EXCEL_ROW] if cell.value}


def validations(ws) -> dict[str, object]:
    """Column letter -> the data validation covering that column's data cells."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            if cell_range.min_row == FIRST_DATA_EXCEL_ROW:
                found[openpyxl.utils.get_column_letter(cell_range.min_col)] = dv
    return found


def list_items(book, formula: str) -> list[str]:
    if not formula.startswith("'"):  # an inline list: "是,否"
        return formula.strip('"').split(",")
    sheet, cells = formula.split("!")
    ws = book[sheet.strip("'")]
    return [row[0].value for row in ws[cells.replace("$", "")]]


def column_dimension(ws, letter: str):
    """The column's dimension record (openpyxl keeps adjacent alike columns as one min..max span)."""
    index = openpyxl.utils.column_index_from_string(letter)
    return next(d for d in ws.column_dimensions.values() if d.min <= index <= d.max)


def column_values(ws, letter: str) -> list:
    return [c.value for c in ws[letter][FIRST_DATA_EXCEL_ROW - 1:] if c.value is not None]


# --- the templates as written ----------------------------------------------------------


def test_one_workbook_per_town_in_scope_named_by_the_convention(templates):
    towns = towns_in_scope()
    assert len(towns) == 11
    assert [p.name for p in templates] == [template_file_name(t.name, MONTH) for t in towns]
    assert "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx" in {p.name for p in templates}


def test_sheets_instructions_first_data_sheets_then_hidden_lists(town_book):
    assert town_book.sheetnames == ["填报说明", *SHEET_NAMES, LISTS_SHEET]
    states = {ws.title: ws.sheet_state for ws in town_book.worksheets}
    assert states.pop(LISTS_SHEET) == "hidden"
    assert set(states.values()) == {"visible"}


@pytest.mark.parametrize("kind", list(CONTRACT.sheets))
def test_every_data_sheet_has_cover_fields_and_canonical_headers(town_book, kind):
    source = CONTRACT.sheets[kind]
    ws = town_book[source.name]
    cover = [c.value for c in ws[2] if c.value]
    assert "填报单位：统景镇" in cover and "报表月份：2022年06月" in cover
    assert list(headers(ws)) == [c.header for c in source.columns]


def test_submission_date_is_asked_once_on_the_first_data_sheet(town_book):
    asked = [ws.title for ws in town_book.worksheets if any(c.value == "填报日期：" for c in ws[2])]
    assert asked == ["机构设施"]
    ws = town_book["机构设施"]
    label = next(c for c in ws[2] if c.value == "填报日期：")
    value_cell = ws.cell(row=2, column=label.column + 1)
    assert value_cell.value is None and value_cell.protection.locked is False


@pytest.mark.parametrize("kind", list(CONTRACT.sheets))
def test_every_category_and_yes_no_column_has_its_drop_down(town_book, kind):
    source = CONTRACT.sheets[kind]
    ws = town_book[source.name]
    letters, checks = headers(ws), validations(ws)
    for column in source.columns:
        if column.type not in ("category", "categories", "yesno"):
            continue
        dv = checks[letters[column.header]]
        assert dv.type == "list", column.header
        expected = list(column.values) if column.values else ["是", "否"]
        assert list_items(town_book, dv.formula1) == expected, column.header
        assert min(r.max_row for r in dv.sqref.ranges) >= FIRST_DATA_EXCEL_ROW + 5000
        # A combination of 对象类别 must stay possible; every other list blocks free text.
        assert dv.errorStyle == ("information" if column.type == "categories" else None), column.header


def test_village_drop_downs_list_the_towns_real_villages(town_book):
    town = next(t for t in towns_in_scope() if t.name == TOWN)
    assert len(town.villages) == 21 and "前锋村" in town.villages and "温泉社区" in town.communities
    points = town_book["互助养老点"]
    letters, checks = headers(points), validations(points)
    assert list_items(town_book, checks[letters["村名"]].formula1) == [*town.villages, *town.communities]
    assert list_items(town_book, checks[letters["合并至"]].formula1) == list(town.villages)
    pairings = town_book["结对扶老"]
    assert list_items(town_book, validations(pairings)[headers(pairings)["所在村"]].formula1) == [
        *town.villages, *town.communities]


def test_numbers_dates_and_ids_are_checked_with_input_messages(town_book):
    points = town_book["互助养老点"]
    letters, checks = headers(points), validations(points)
    area = checks[letters["建筑面积"]]
    assert (area.type, area.operator or "between", area.formula1, area.formula2) == ("decimal", "between", "0", "100000")
    assert area.prompt == "面积填数字，单位平方米" and area.showInputMessage
    assert checks[letters["兼职养老助理人数"]].type == "whole"
    assert checks[letters["志愿服务队"]].type == "whole"
    assert checks[letters["设备购置补助"]].prompt == "金额填数字，单位元"
    assert checks[letters["建成日期"]].type == "date"

    funds = town_book["资金情况"]
    letters, checks = headers(funds), validations(funds)
    assert checks[letters["金额"]].prompt == "金额填数字，单位万元"
    assert checks[letters["金额"]].formula2 == "10000"  # 1亿元 in 万元
    paid = checks[letters["到位日期"]]
    # Not after the report month's end (2022-06-30 is Excel serial 44742).
    assert (paid.type, paid.formula1, paid.formula2) == ("date", "36526", "44742")

    pairings = town_book["结对扶老"]
    letters, checks = headers(pairings), validations(pairings)
    assert checks[letters["身份证号"]].type == "custom"
    assert checks[letters["身份证号"]].formula1 == "OR(LEN(B4)=18,LEN(B4)=15)"
    assert checks[letters["身份证号"]].prompt.startswith("必填")


@pytest.mark.parametrize("sheet_name", SHEET_NAMES)
def test_header_rows_frozen_and_protected_data_cells_open(town_book, sheet_name):
    ws = town_book[sheet_name]
    assert ws.freeze_panes == f"B{FIRST_DATA_EXCEL_ROW}"
    assert ws.protection.sheet is True
    assert ws.protection.password is None
    # openpyxl flags are True when the action is *forbidden*.
    assert ws.protection.insertRows is False and ws.protection.sort is False
    assert ws.protection.autoFilter is False and ws.protection.deleteRows is False
    for cell in (*ws[1], *ws[2], *ws[HEADER_EXCEL_ROW]):
        if cell.value is not None:
            assert cell.protection.locked is True, cell.coordinate
    for letter in headers(ws).values():
        assert column_dimension(ws, letter).protection.locked is False, letter
    assert ws.auto_filter.ref.startswith(f"A{HEADER_EXCEL_ROW}:")


def test_column_widths_fit_the_chinese_headers_and_list_values(town_book):
    points = town_book["互助养老点"]
    letters = headers(points)
    # 兼职养老助理人数: 8 CJK characters = 16 character units.
    assert column_dimension(points, letters["兼职养老助理人数"]).width >= 16
    # 设置方式 offers 不设立（镇中心所在村）: 11 wide characters.
    assert column_dimension(points, letters["设置方式"]).width >= 22
    pairings = town_book["结对扶老"]
    assert column_dimension(pairings, headers(pairings)["身份证号"]).width >= 18


def test_id_and_text_columns_are_text_formatted(town_book):
    pairings = town_book["结对扶老"]
    letters = headers(pairings)
    assert column_dimension(pairings, letters["身份证号"]).number_format == "@"
    assert column_dimension(pairings, letters["帮扶人电话"]).number_format == "@"
    assert column_dimension(pairings, letters["结对日期"]).number_format == "yyyy-mm-dd"


def test_village_points_pre_filled_one_row_per_village(town_book):
    town = next(t for t in towns_in_scope() if t.name == TOWN)
    points = town_book["互助养老点"]
    assert column_values(points, headers(points)["村名"]) == list(town.villages)


def test_facilities_pre_filled_with_the_towns_plan_projects(town_book):
    ws = town_book["机构设施"]
    letters = headers(ws)
    names = column_values(ws, letters["设施名称"])
    assert names == ["统景镇养老服务中心", "统景镇敬老院", "黄印敬老院", "龙安敬老院", "兴发敬老院", "统景敬老院"]
    assert column_values(ws, letters["设施类型"]) == ["镇养老服务中心"] + ["敬老院"] * 5
    assert column_values(ws, letters["建设方式"]) == ["新建", "新建", "撤并", "撤并", "撤并", "撤并"]
    assert column_values(ws, letters["依托设施"]) == ["统景镇敬老院"]


def test_instructions_sheet_does_not_disturb_the_cover(templates):
    from pipelines.ingest.workbook import read_cover, read_workbook

    path = next(p for p in templates if p.name.startswith(TOWN))
    cover = read_cover(read_workbook(path), CONTRACT)
    assert (cover.town, cover.month, cover.submitted) == (TOWN, "2022年06月", None)


# --- filled by a clerk, then loaded ------------------------------------------------------


def make_id(birth: date, sequence: int) -> str:
    first17 = f"500112{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


VILLAGE_FILL = {  # per village row: the clerk's entries (cell values)
    "setup_mode": "单独设立", "point_name": None, "is_sub_point": "否", "build_status": "已运营",
    "area_m2": 180.5, "assistants": 2, "has_elderly_association": "是", "volunteer_teams": 1,
    "meal_service": "否", "completion_date": date(2022, 3, 31), "equipment_subsidy_yuan": 50000,
    "remarks": "-年内完成适老化改造",  # starts like a formula: must stay text
}
FACILITY_FILL = {
    "build_status": "已运营", "area_m2": 2150.0, "beds": 120, "nursing_beds": 66, "residents": 80,
    "tekun_residents": 35, "operation_mode": "公建民营", "operator": "重庆市渝北区某某养老服务有限公司",
    "legal_person_registered": "是", "filed": "是", "has_clinic": "否",
    "start_date": date(2021, 3, 1), "completion_date": date(2022, 5, 20), "remarks": "含失能照护区",
}
PAIRINGS = [
    {"elder_name": "测试甲", "id_number": make_id(date(1940, 1, 2), 11), "village_name": "前锋村",
     "categories": "特困、高龄", "pairing_mode": "一对一", "helper_name": "测试乙", "helper_phone": "13800001234",
     "pairing_date": date(2022, 3, 15), "visits_this_month": 4},
    {"elder_name": "测试丙", "id_number": make_id(date(1951, 11, 30), 22),
     "village_name": "温泉社区", "categories": "独居", "pairing_mode": "网格化", "helper_name": "测试丁",
     "helper_phone": "023-67891234", "pairing_date": date(2022, 6, 30), "visits_this_month": 0},
]
TRAININGS = [
    {"trainee_name": "测试戊", "id_number": make_id(date(1975, 5, 5), 33), "training_category": "院长/主管",
     "training_date": date(2022, 4, 8), "training_institution": "重庆城市管理职业学院", "hours": 16.5,
     "certified": "是", "certificate_no": "0012345"},
    {"trainee_name": "测试己", "id_number": make_id(date(1980, 8, 8), 44), "training_category": "养老护理员",
     "training_date": date(2022, 6, 1), "training_institution": "区民政局", "hours": 40,
     "certified": "否", "certificate_no": None},
]
FUNDS = [
    {"project_name": "统景镇养老服务中心", "fund_type": "市级奖补", "amount_yuan": 200, "paid_date": date(2022, 1, 20)},
    {"project_name": "前锋村互助养老点", "fund_type": "设备购置补助", "amount_yuan": 12.5, "paid_date": date(2022, 6, 30)},
    {"project_name": "统景镇敬老院", "fund_type": "政府债券", "amount_yuan": 0.35, "paid_date": date(2022, 2, 28)},
]
SUBMITTED = date(2022, 7, 3)
PLANNED_FACILITIES = [  # 统景镇's rows of plan_projects.csv: name, type, build mode, host
    ("统景镇养老服务中心", "镇养老服务中心", "新建", "统景镇敬老院"),
    ("统景镇敬老院", "敬老院", "新建", None),
    *((name, "敬老院", "撤并", None) for name in ("黄印敬老院", "龙安敬老院", "兴发敬老院", "统景敬老院")),
]


def filled_rows(town) -> dict[str, list[dict]]:
    """Every data sheet's rows as the clerk leaves them (field -> cell value)."""
    facilities = [{"facility_name": name, "facility_type": kind, "build_mode": mode, "host_facility": host,
                   **FACILITY_FILL} for name, kind, mode, host in PLANNED_FACILITIES]
    setups = ["单独设立", "依托公共资源", "合并设置", "不设立（拟撤并）"]
    points = []
    for index, village in enumerate(town.villages):
        row = {"village_name": village, **VILLAGE_FILL, "point_name": f"{village}互助养老点",
               "setup_mode": setups[index % len(setups)]}
        if row["setup_mode"] == "合并设置":
            row["merge_into"] = town.villages[index - 1]
        points.append(row)
    points.append({"village_name": town.villages[0], "point_name": f"{town.villages[0]}二组分点",
                   "is_sub_point": "是", "build_status": "在建", "assistants": 1, "volunteer_teams": 0,
                   "equipment_subsidy_yuan": 8000.5})
    points.append({"village_name": "温泉社区", "setup_mode": "依托公共资源", "point_name": "温泉社区养老服务站",
                   "build_status": "已运营", "area_m2": 300})
    return {"facilities": facilities, "village_points": points, "pairings": PAIRINGS,
            "trainings": TRAININGS, "funds": FUNDS}


def fill(path: Path, rows: dict[str, list[dict]]) -> None:
    book = openpyxl.load_workbook(path)
    facilities = book["机构设施"]
    label = next(c for c in facilities[2] if c.value == "填报日期：")
    facilities.cell(row=2, column=label.column + 1, value=SUBMITTED.isoformat())  # a text cell
    for ws, address, value in data_cells(book, rows):
        ws[address] = value
    book.save(path)


def data_cells(book, rows: dict[str, list[dict]]):
    """(sheet, cell address, value) of every value of `rows` (sheet kind -> data rows), where the
    template's headers put it."""
    for kind, sheet_rows in rows.items():
        source = CONTRACT.sheets[kind]
        ws = book[source.name]
        letters = {c.field: headers(ws)[c.header] for c in source.columns}
        for offset, row in enumerate(sheet_rows):
            for field_name, value in row.items():
                yield ws, f"{letters[field_name]}{FIRST_DATA_EXCEL_ROW + offset}", value


def parsed(kind: str, field_name: str, value):
    """What the loader must store for a cell value of the round trip."""
    column = CONTRACT.sheets[kind].column(field_name)
    if value is None:
        # An empty 是否分点 marks a main row (docs/contracts.md).
        return False if field_name == "is_sub_point" else None
    if column.type == "yesno":
        return value == "是"
    if column.type == "categories":
        return value.split("、")
    if column.type == "money" and column.default_unit == "万元":
        return pytest.approx(value * 10_000, abs=1e-6)
    if column.type in ("area", "money", "number"):
        return float(value)
    return value


@pytest.fixture(scope="module")
def loaded(templates: list[Path], tmp_path_factory: pytest.TempPathFactory):
    from pipelines.ingest.run import run_ingest
    from pipelines.settings import Settings

    root = tmp_path_factory.mktemp("template_roundtrip")
    (root / "inbox" / "towns").mkdir(parents=True)
    (root / "inbox" / "registries").mkdir()
    # 统景镇's template filled in, every other town's sent back blank.
    for template in templates:
        shutil.copy(template, root / "inbox" / "towns" / template.name)
    workbook = root / "inbox" / "towns" / template_file_name(TOWN, MONTH)
    town = next(t for t in towns_in_scope() if t.name == TOWN)
    rows = filled_rows(town)
    fill(workbook, rows)
    settings = Settings.from_env(sources_dir=root / "inbox", warehouse_dir=root / "warehouse",
                                 work_db=root / "warehouse" / "work.duckdb")
    settings.ensure_warehouse_dir()
    con = duckdb.connect(str(settings.work_db))
    try:
        run_ingest(settings, con, "template-roundtrip")
    finally:
        con.close()
    return settings.work_db, rows, workbook


def test_filled_template_loads_with_zero_findings(loaded):
    work_db, _, _ = loaded
    with duckdb.connect(str(work_db), read_only=True) as con:
        findings = con.sql("select rule_id, sheet, row_number, column_name from raw.ingest_findings").fetchall()
        files = con.sql("select town_code, status, month, submission_date from raw.files order by town_code").fetchall()
        sheets = con.sql("select sheet_kind, status, count(*) from raw.sheets group by all order by 1").fetchall()
    assert findings == []
    assert [f[:3] for f in files] == [(t.code, "loaded", MONTH) for t in towns_in_scope()]
    assert dict((f[0], f[3]) for f in files)[TOWN_CODE] == SUBMITTED
    assert sheets == sorted((kind, "loaded", 11) for kind in CONTRACT.sheets)


@pytest.mark.parametrize("kind", list(CONTRACT.sheets))
def test_filled_values_land_in_the_raw_layer_unchanged(loaded, kind):
    work_db, rows, _ = loaded
    source = CONTRACT.sheets[kind]
    fields = [c.field for c in source.columns]
    with duckdb.connect(str(work_db), read_only=True) as con:
        stored = con.execute(
            f"select row_number, {', '.join(fields)} from raw.{source.table} where town_code = ? order by row_number",
            [TOWN_CODE],
        ).fetchall()
    assert [r[0] for r in stored] == list(range(FIRST_DATA_EXCEL_ROW, FIRST_DATA_EXCEL_ROW + len(rows[kind])))
    for (row_number, *values), row in zip(stored, rows[kind]):
        expected = {f: parsed(kind, f, row.get(f)) for f in fields}
        assert dict(zip(fields, values)) == expected, f"{source.name} row {row_number}"


def test_village_rows_resolve_to_the_towns_divisions(loaded):
    work_db, rows, _ = loaded
    with duckdb.connect(str(work_db), read_only=True) as con:
        levels = con.execute("select village_level, count(*), count(village_name_code) from raw.town_village_points "
                             "where town_code = ? group by 1 order by 1", [TOWN_CODE]).fetchall()
        merges = con.execute("select count(*) from raw.town_village_points "
                             "where merge_into is not null and merge_into_code is null").fetchone()[0]
        per_town = dict(con.execute("select town_code, count(village_name_code) from raw.town_village_points "
                                    "where village_level = 'village' group by 1").fetchall())
    villages = len(rows["village_points"]) - 1
    assert levels == [("community", 1, 1), ("village", villages, villages)]
    assert merges == 0
    # Every town's blank template names each of its villages once, and each resolves.
    assert per_town == {t.code: len(t.villages) + (1 if t.code == TOWN_CODE else 0) for t in towns_in_scope()}


def test_blank_templates_load_the_plan_projects(loaded):
    work_db, _, _ = loaded
    with duckdb.connect(str(work_db), read_only=True) as con:
        loaded_projects = set(con.sql("select town_code, facility_name from raw.town_facilities").fetchall())
    planned = set(read_plan_projects_pairs())
    assert loaded_projects == planned


def read_plan_projects_pairs() -> list[tuple[str, str]]:
    from pipelines.templates import read_plan_projects

    return [(p.town_code, p.facility_name) for p in read_plan_projects()]


def test_next_months_template_starts_from_the_loaded_month(loaded, tmp_path):
    work_db, rows, _ = loaded
    july = date(2022, 7, 1)
    paths = write_templates(tmp_path, july, from_month=MONTH, work_db=work_db)
    path = next(p for p in paths if p.name == template_file_name(TOWN, july))
    book = openpyxl.load_workbook(path)
    assert "报表月份：2022年07月" in [c.value for c in book["机构设施"][2]]
    for ws, address, typed in data_cells(book, rows):
        cell = ws[address]
        shown = cell.value.date() if isinstance(cell.value, datetime) else cell.value
        assert shown == typed, f"{ws.title}!{cell.coordinate}"
    remark = book["互助养老点"][f"{headers(book['互助养老点'])['备注']}{FIRST_DATA_EXCEL_ROW}"]
    assert remark.value == "-年内完成适老化改造" and remark.quotePrefix  # text, never a formula
    # A town without a loaded workbook keeps the blank pre-fill.
    luoqi = next(t for t in towns_in_scope() if t.name == "洛碛镇")
    other = openpyxl.load_workbook(next(p for p in paths if p.name.startswith(luoqi.name)))
    assert column_values(other["互助养老点"], "A") == list(luoqi.villages)
