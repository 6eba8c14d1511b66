"""Blank town workbooks (`ruralcare templates`): the five ledgers with drop-down lists.

One workbook per town in scope, named as docs/inputs.md ("File names") recommends, with the cover fields
filled, canonical headers from `sources/contract/sheets.yaml`, a drop-down list on every
category and village column, number and date checks with input messages, locked header
rows and a short 填报说明 sheet. The 互助养老点 sheet starts with one row per village and
the 机构设施 sheet with the town's plan projects; with `from_month`, every sheet starts
from the town's last loaded version instead, so the clerk only edits what changed.

Deciding what goes where is pure (`column_validation`, `input_message`, `column_width`,
`template_rows`, ...); `write_template` and the readers are the I/O edges.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name as column_letter

from pipelines.contract import Column, Contract, SourceSpec, load_contract
from pipelines.settings import BUILTIN_DIVISIONS, SEEDS_DIR

PLAN_PROJECTS = SEEDS_DIR / "plan_projects.csv"
WORKBOOK_TITLE = "渝北区农村养老服务全覆盖进度表"
INSTRUCTIONS_SHEET = "填报说明"
LISTS_SHEET = "_lists"  # hidden; the loader ignores hidden and unknown sheets

# Layout of every data sheet (0-based rows): title, cover fields, header, then data.
TITLE_ROW, COVER_ROW, HEADER_ROW, FIRST_DATA_ROW = 0, 1, 2, 3
DATA_ROWS = 10_000  # validations and unlocked cells reach this far below the header
EARLIEST_DATE = date(2000, 1, 1)  # a workbook date before 2000 is a finding (docs/inputs.md)
DATE_FORMAT = "yyyy-mm-dd"
YES, NO = "是", "否"

_COMMITTEE_SUFFIXES = ("村民委员会", "居民委员会")
_FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    villages: tuple[str, ...]  # short names (洛碛村), in code order
    communities: tuple[str, ...]  # short names (王家社区), in code order

    @property
    def places(self) -> tuple[str, ...]:
        return self.villages + self.communities


@dataclass(frozen=True)
class PlanProject:
    project_id: str
    town_code: str
    facility_name: str
    facility_type: str
    build_mode: str
    host_facility: str


# --- names, months, widths -------------------------------------------------------------


def short_place_name(name: str) -> str:
    """洛碛村村民委员会 -> 洛碛村; 王家社区居民委员会 -> 王家社区."""
    name = name.strip()
    for suffix in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def first_of_month(day: date) -> date:
    return date(day.year, day.month, 1)


def default_month(today: date | None = None) -> date:
    """The report month a template is for by default: the month before today's."""
    today = today or date.today()
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def month_label(month: date) -> str:
    return f"{month.year}年{month.month:02d}月"


def template_file_name(town_name: str, month: date) -> str:
    return f"{town_name}_{month_label(month)}_农村养老服务全覆盖进度表.xlsx"


def month_end(month: date) -> date:
    next_month = date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)
    return date.fromordinal(next_month.toordinal() - 1)


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


_MIN_WIDTH = {"date": 12, "id": 21, "phone": 14, "text": 10, "village": 10, "categories": 14}
_MAX_WIDTH = 40


def column_width(column: Column, values: list[Any] = ()) -> int:
    """Fits the Chinese header, the pre-filled values (capped) and the type's usual content."""
    widest = max([display_width(column.header)] + [display_width(str(v)) for v in values if v is not None])
    return min(max(widest + 3, _MIN_WIDTH.get(column.type, 8)), _MAX_WIDTH)


def needs_quote_prefix(text: str) -> bool:
    """Text Excel would take as a formula when re-entered: written with the `'` prefix."""
    return text.startswith(_FORMULA_STARTS)


# --- drop-down lists and checks ----------------------------------------------------------


def list_values(column: Column, town: Town) -> tuple[str, ...] | None:
    """The drop-down values of a column, or None when it has no list."""
    if column.type in ("category", "categories"):
        return tuple(column.values)
    if column.type == "yesno":
        return (YES, NO)
    if column.type == "village":
        # 合并至 names the village a point merges into; the others may name a 社区 too.
        return town.villages if column.field == "merge_into" else town.places
    return None


def list_title(column: Column) -> str:
    """The heading of a list's column on the hidden `_lists` sheet."""
    if column.type == "yesno":
        return "是否"
    if column.type == "village":
        return "村" if column.field == "merge_into" else "村（社区）"
    return column.header


def input_message(column: Column) -> str | None:
    """The hint Excel shows when the clerk selects a cell of the column."""
    unit = column.default_unit or "元"
    hints = {
        "category": "请从下拉列表中选择",
        "categories": "可从下拉列表中选择；属于多个类别时用顿号分隔，如：特困、高龄",
        "village": "请从下拉列表中选择本镇街的村（社区）" if column.field != "merge_into" else "请从下拉列表中选择合并到的村",
        "yesno": "请选择“是”或“否”",
        "area": "面积填数字，单位平方米",
        "integer": "填整数（0或正整数），不带单位",
        "teams": "填志愿服务队的支数（整数），没有填0",
        "money": f"金额填数字，单位{unit}",
        "number": "填数字，可带小数",
        "date": "填日期，如2022-06-30",
        "id": "填18位身份证号，末位X大写",
        "phone": "填手机号或固定电话",
        "text": None,
    }
    message = hints[column.type]
    if column.type == "date" and column.not_after_month_end:
        message += "，不晚于报表月末"
    if column.required:
        message = "必填。" + (message or "")
    return message or None


def _number_check(column: Column) -> dict | None:
    if column.type in ("integer", "teams"):
        return {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": int(column.max or 10_000)}
    if column.type == "area":
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100_000}
    if column.type == "money":
        # 1亿元 is the ceiling of any amount (docs/inputs.md); expressed in the column's unit.
        ceiling = 10_000 if column.default_unit == "万元" else 100_000_000
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": ceiling}
    if column.type == "number":
        return {"validate": "decimal", "criteria": ">=", "value": 0}
    return None


_ERROR_MESSAGES = {
    "integer": "请填整数（0或正整数），不要带单位或文字。",
    "teams": "请填整数（支数），没有填0。",
    "area": "请填0到100000之间的数字（平方米），不要写“约”或范围。",
    "money": "请填不为负的数字，不要带单位或文字。",
    "number": "请填不为负的数字。",
    "date": "请填正确的日期，如2022-06-30。",
    "id": "身份证号应为18位（老证15位）。",
}


def column_validation(column: Column, list_source: str | None, month: date, cell: str) -> dict | None:
    """xlsxwriter data-validation options for a column, or None when it takes free text.

    `list_source` is the range of the column's drop-down values; `cell` is the first data
    cell (relative references in a custom formula start there).
    """
    options: dict[str, Any]
    if list_source is not None:
        options = {"validate": "list", "source": list_source}
        if column.type == "categories":
            # A combination (特困、高龄) is valid: warn with an information box, never block.
            options |= {"error_type": "information", "error_title": "对象类别",
                        "error_message": "多个类别请用顿号分隔，如：特困、高龄。"}
        else:
            options |= {"error_title": "请从列表中选择", "error_message": f"“{column.header}”只能从下拉列表中选择。"}
    elif column.type == "date":
        latest = month_end(month) if column.not_after_month_end else date(2099, 12, 31)
        options = {"validate": "date", "criteria": "between", "minimum": EARLIEST_DATE, "maximum": latest,
                   "error_title": "日期有误", "error_message": _ERROR_MESSAGES["date"]
                   + (f"不晚于{latest.isoformat()}。" if column.not_after_month_end else "")}
    elif column.type == "id":
        options = {"validate": "custom", "value": f"=OR(LEN({cell})=18,LEN({cell})=15)",
                   "error_title": "身份证号有误", "error_message": _ERROR_MESSAGES["id"]}
    else:
        number = _number_check(column)
        if number is None:
            options = {}
        else:
            options = number | {"error_title": "请填数字", "error_message": _ERROR_MESSAGES[column.type]}
    message = input_message(column)
    if message:
        options = (options or {"validate": "any"}) | {"input_title": column.header[:32],
                                                       "input_message": message[:255]}
    return options or None


# --- pre-filled rows ---------------------------------------------------------------------


def facility_rows(projects: list[PlanProject]) -> list[dict[str, Any]]:
    """机构设施: one row per plan project of the town, in plan order."""
    return [
        {"facility_name": p.facility_name, "facility_type": p.facility_type,
         "build_mode": p.build_mode, "host_facility": p.host_facility or None}
        for p in projects
    ]


def with_missing_villages(rows: list[dict[str, Any]], town: Town) -> list[dict[str, Any]]:
    """互助养老点 rows plus a row for every village they do not name yet."""
    named = {short_place_name(str(r.get("village_name") or "")) for r in rows}
    return rows + [{"village_name": v} for v in town.villages if v not in named]


def template_rows(town: Town, projects: list[PlanProject],
                  previous: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Pre-filled rows per sheet kind: last loaded rows where there are some, else the plan
    projects (机构设施) and the town's villages (互助养老点); every village keeps a row."""
    rows = {"facilities": facility_rows([p for p in projects if p.town_code == town.code]),
            "village_points": []} | (previous or {})
    rows["village_points"] = with_missing_villages(rows["village_points"], town)
    return rows


# --- reading the reference files ---------------------------------------------------------


def towns_in_scope(divisions_file: Path = BUILTIN_DIVISIONS) -> list[Town]:
    """The programme's towns (is_rural_scope) with their villages and communities."""
    with Path(divisions_file).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    towns = [r for r in rows if r["level"] == "town" and r["is_rural_scope"].strip().lower() == "true"]
    places: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for row in rows:
        if row["level"] in ("village", "community"):
            places.setdefault(row["parent_code"], {}).setdefault(row["level"], []).append(
                (row["code"], short_place_name(row["name"])))
    result = []
    for town in sorted(towns, key=lambda r: r["code"]):
        own = places.get(town["code"], {})
        result.append(Town(
            code=town["code"], name=town["name"],
            villages=tuple(name for _, name in sorted(own.get("village", []))),
            communities=tuple(name for _, name in sorted(own.get("community", []))),
        ))
    return result


def read_plan_projects(plan_file: Path = PLAN_PROJECTS) -> list[PlanProject]:
    with Path(plan_file).open(encoding="utf-8-sig", newline="") as handle:
        return [
            PlanProject(r["project_id"], r["town_code"], r["facility_name"], r["facility_type"],
                        r["build_mode"], r["host_facility"])
            for r in csv.DictReader(handle)
        ]


# --- writing -----------------------------------------------------------------------------


class _Lists:
    """Every drop-down's values, one column per distinct list, for the hidden `_lists` sheet."""

    def __init__(self) -> None:
        self.columns: dict[tuple[str, ...], tuple[str, str]] = {}  # values -> (title, range)

    def source(self, title: str, values: tuple[str, ...]) -> str:
        if values not in self.columns:
            letter = column_letter(len(self.columns))
            last = max(len(values), 1) + 1
            self.columns[values] = (title, f"='{LISTS_SHEET}'!${letter}$2:${letter}${last}")
        return self.columns[values][1]

    def write(self, worksheet) -> None:
        for col, (values, (title, _)) in enumerate(self.columns.items()):
            worksheet.write_string(0, col, title)
            for row, value in enumerate(values, start=1):
                worksheet.write_string(row, col, value)


@dataclass
class _Formats:
    title: Any
    cover: Any
    cover_input: Any
    header: Any
    header_required: Any
    data: dict[str, Any]  # column type -> unlocked format
    data_quoted: Any
    instructions: Any
    instructions_title: Any


def _formats(workbook) -> _Formats:
    base = {"font_name": "宋体", "font_size": 11}
    header = base | {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
                     "bg_color": "#DDEBF7", "locked": True}
    unlocked = base | {"locked": False}
    data = {
        "text": workbook.add_format(unlocked | {"num_format": "@"}),
        "date": workbook.add_format(unlocked | {"num_format": DATE_FORMAT}),
        "integer": workbook.add_format(unlocked | {"num_format": "0"}),
        "number": workbook.add_format(unlocked | {"num_format": "General"}),
    }
    return _Formats(
        title=workbook.add_format(base | {"bold": True, "font_size": 16, "align": "center", "locked": True}),
        cover=workbook.add_format(base | {"locked": True}),
        cover_input=workbook.add_format(unlocked | {"num_format": "@", "bottom": 1}),
        header=workbook.add_format(header),
        header_required=workbook.add_format(header | {"font_color": "#C00000"}),
        data=data,
        data_quoted=workbook.add_format(unlocked | {"num_format": "@", "quote_prefix": True}),
        instructions=workbook.add_format(base | {"text_wrap": True, "valign": "top"}),
        instructions_title=workbook.add_format(base | {"bold": True, "font_size": 14}),
    )


def _data_format_key(column: Column) -> str:
    if column.type == "date":
        return "date"
    if column.type in ("integer", "teams"):
        return "integer"
    if column.type in ("area", "money", "number"):
        return "number"
    return "text"  # IDs and phone numbers stay text: Excel would round an 18-digit number


_PROTECTION = {
    "insert_rows": True, "delete_rows": True, "sort": True, "autofilter": True,
    "format_columns": True, "format_rows": True,
    "select_locked_cells": True, "select_unlocked_cells": True,
}


def _write_value(worksheet, row: int, col: int, value: Any, formats: _Formats, key: str) -> None:
    if value is None:
        return
    fmt = formats.data[key]
    if isinstance(value, bool):
        worksheet.write_string(row, col, YES if value else NO, fmt)
    elif isinstance(value, date):
        worksheet.write_datetime(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        worksheet.write_number(row, col, value, fmt)
    elif isinstance(value, (list, tuple)):
        worksheet.write_string(row, col, "、".join(value), fmt)
    else:
        text = str(value)
        worksheet.write_string(row, col, text, formats.data_quoted if needs_quote_prefix(text) else fmt)


def _write_data_sheet(workbook, source: SourceSpec, town: Town, month: date, rows: list[dict[str, Any]],
                      formats: _Formats, lists: _Lists, with_submission_date: bool) -> None:
    ws = workbook.add_worksheet(source.name)
    columns = source.columns
    last_col = len(columns) - 1
    last_row = FIRST_DATA_ROW + DATA_ROWS - 1

    for col, column in enumerate(columns):
        values = [r.get(column.field) for r in rows]
        key = _data_format_key(column)
        choices = list_values(column, town)
        ws.set_column(col, col, column_width(column, [*values, *(choices or ())]), formats.data[key])
        ws.write_string(HEADER_ROW, col, column.header,
                        formats.header_required if column.required else formats.header)
        letter = column_letter(col)
        source_range = lists.source(list_title(column), choices) if choices is not None else None
        validation = column_validation(column, source_range, month, f"{letter}{FIRST_DATA_ROW + 1}")
        if validation:
            ws.data_validation(FIRST_DATA_ROW, col, last_row, col, validation)
        for offset, value in enumerate(values):
            _write_value(ws, FIRST_DATA_ROW + offset, col, value, formats, key)

    # Title and cover rows are locked like the header (blank cells too, the column format
    # would unlock them); only the 填报日期 value cell is left for the clerk.
    for col in range(last_col + 1):
        ws.write_blank(TITLE_ROW, col, None, formats.title)
        ws.write_blank(COVER_ROW, col, None, formats.cover)
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, f"{WORKBOOK_TITLE}（{source.name}）", formats.title)
    ws.set_row(TITLE_ROW, 28)
    ws.set_row(HEADER_ROW, 32)
    ws.write_string(COVER_ROW, 0, f"填报单位：{town.name}", formats.cover)
    ws.write_string(COVER_ROW, 2, f"报表月份：{month_label(month)}", formats.cover)
    if with_submission_date:
        # The loader takes the next non-empty cell after an empty `填报日期：`.
        ws.write_string(COVER_ROW, 4, "填报日期：", formats.cover)
        # A text cell: the date stays as typed (2022-07-03, 2022年7月3日), which every reader parses.
        ws.write_blank(COVER_ROW, 5, None, formats.cover_input)
        ws.data_validation(COVER_ROW, 5, COVER_ROW, 5, {
            "validate": "any", "input_title": "填报日期", "input_message": "填报送日期，如2022-07-03"})

    ws.freeze_panes(FIRST_DATA_ROW, 1)
    ws.autofilter(HEADER_ROW, 0, last_row, last_col)
    ws.protect("", _PROTECTION)


def instruction_lines(town: Town, month: date) -> list[str]:
    """The 填报说明 sheet. No line starts with a cover label (填报单位/报表月份/填报日期):
    the loader reads cover fields from the first rows of every visible sheet."""
    name = template_file_name(town.name, month)
    return [
        f"本表适用于{town.name}报送{month_label(month)}农村养老服务全覆盖进度，请于次月5日前报区民政局。",
        f"一、报送本月末全部台账（不是本月新增），每个镇街每月一份；文件名请保持“{name}”。",
        "二、各表前三行（标题、填报单位、报表月份、表头）已锁定，请勿修改，也不要增删、调换列；"
        "请在“机构设施”表“填报日期：”右边的格子里填写报送日期。",
        "三、有下拉箭头的列请从列表中选择；数字列只填数字，不带单位，不写“约”“待定”或范围；"
        "日期按2022-06-30填写。红色表头为必填列。表格下方不需要合计行。",
        "四、互助养老点：已按本镇街行政村每村一行列好。一个村有多个分点时，在该村下方插入行，"
        "村名照填，“是否分点”选“是”。合并设置的村在“合并至”中选择合并到的村；"
        "不设点的村在“设置方式”中选择“不设立（拟撤并）”或“不设立（镇中心所在村）”。"
        "设备购置补助填在本表（单位：元）。",
        "五、机构设施：已列出本镇街规划项目，设施名称请勿改动；失能特困人员集中照护中心单独一行（含床位）。",
        "六、结对扶老每位老人一行，培训情况每人每次培训一行；身份证号按18位文本填写。",
        "七、资金情况每笔到位资金一行，金额单位为万元；项目名称与机构设施或互助养老点的名称一致。",
    ]


def _write_instructions(workbook, town: Town, month: date, formats: _Formats) -> None:
    ws = workbook.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 110, formats.instructions)
    ws.write_string(0, 0, INSTRUCTIONS_SHEET, formats.instructions_title)
    for row, line in enumerate(instruction_lines(town, month), start=1):
        ws.write_string(row, 0, line, formats.instructions)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


def write_template(path: Path, town: Town, month: date, rows: dict[str, list[dict[str, Any]]],
                   contract: Contract | None = None) -> Path:
    """One town's workbook; `rows` maps a sheet kind to its pre-filled rows (field -> value)."""
    import xlsxwriter

    contract = contract or load_contract()
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                               "strings_to_urls": False})
    workbook.set_properties({"title": f"{town.name}{month_label(month)}{WORKBOOK_TITLE}", "author": "渝北区民政局"})
    formats = _formats(workbook)
    lists = _Lists()
    _write_instructions(workbook, town, month, formats)
    for index, source in enumerate(contract.sheets.values()):
        _write_data_sheet(workbook, source, town, month, rows.get(source.kind, []), formats, lists,
                          with_submission_date=index == 0)
    lists_sheet = workbook.add_worksheet(LISTS_SHEET)
    lists.write(lists_sheet)
    lists_sheet.hide()
    lists_sheet.protect()
    workbook.close()
    return path


def write_templates(out_dir: Path, month: date, *, divisions_file: Path = BUILTIN_DIVISIONS,
                    from_month: date | None = None, work_db: Path | None = None) -> list[Path]:
    """One workbook per town in scope under `out_dir`; returns their paths in town-code order.

    With `from_month` (and the working database `work_db`), each sheet is pre-filled with the
    town's latest loaded version of it as of that month.
    """
    if from_month is not None and (work_db is None or not Path(work_db).exists()):
        raise FileNotFoundError(
            f"--from-month needs the working database to read last month's rows from; not found: {work_db}. "
            "Run `ruralcare refresh` first or pass the right --warehouse.")
    month = first_of_month(month)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    contract = load_contract()
    projects = read_plan_projects()
    previous = _previous_rows(Path(work_db), first_of_month(from_month), contract) if from_month else {}
    paths = []
    for town in towns_in_scope(divisions_file):
        rows = template_rows(town, projects, previous.get(town.code))
        paths.append(write_template(out_dir / template_file_name(town.name, month), town, month, rows, contract))
    return paths


# --- pre-fill from the working database ------------------------------------------------------


def cell_value(column: Column, parsed: Any, raw: Any) -> Any:
    """What a template cell shows for a loaded value: the parsed value in the column's unit,
    else the text as typed (an unreadable cell stays visible so the clerk can correct it)."""
    if parsed is None or (isinstance(parsed, (list, tuple)) and not parsed):
        return raw if raw not in (None, "") else None
    if column.type == "money" and column.default_unit == "万元":
        return round(parsed / 10_000, 6)  # the raw layer holds yuan; the header has no unit
    return parsed


def _previous_rows(work_db: Path, as_of: date, contract: Contract) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """town_code -> sheet kind -> rows of the town's latest loaded sheet of that kind at or
    before `as_of` (raw.town_*, docs/contracts.md §1)."""
    import duckdb

    result: dict[str, dict[str, list[dict[str, Any]]]] = {}
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        for kind, source in contract.sheets.items():
            latest = con.execute(
                """
                select town_code, file_id from (
                    select f.town_code, f.file_id,
                           row_number() over (partition by f.town_code
                                              order by f.month desc, f.submission_date desc) as pick
                    from raw.files f join raw.sheets s using (file_id)
                    where f.status = 'loaded' and s.status = 'loaded' and s.sheet_kind = ? and f.month <= ?
                ) where pick = 1
                """,
                [kind, as_of],
            ).fetchall()
            for town_code, file_id in latest:
                result.setdefault(town_code, {})[kind] = _sheet_rows(con, source, file_id)
    finally:
        con.close()
    return result


def _sheet_rows(con, source: SourceSpec, file_id: str) -> list[dict[str, Any]]:
    table = con.execute(f"select * from raw.{source.table} where file_id = ? order by row_number", [file_id])
    names = [d[0] for d in table.description]
    rows = []
    for record in table.fetchall():
        values = dict(zip(names, record))
        rows.append({c.field: cell_value(c, values.get(c.field), values.get(f"{c.field}_raw"))
                     for c in source.columns})
    return rows
