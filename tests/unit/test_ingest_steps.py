"""Table-driven tests of the ingest steps that decide without I/O: classify (duplicate, registry
export, town workbook's town and month), read a classified workbook's sheets, supersession,
and the findings for rejected files and sheets."""

from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.contract import load_contract
from pipelines.ingest.classify import (
    RegistryExport, TownMonth, TownWorkbook, classify_registry, classify_workbook, duplicate_of, town_and_month,
)
from pipelines.ingest.divisions import Divisions
from pipelines.ingest.inbox import InboxFile
from pipelines.ingest.read import read_sheets
from pipelines.ingest.results import FileResult, Original, Rejection, SheetResult
from pipelines.ingest.run import FILE_REJECTED, SHEET_REJECTED, rejection_findings
from pipelines.ingest.supersede import Submission, superseded
from pipelines.ingest.workbook import Cover, SheetCells
from pipelines.settings import BUILTIN_DIVISIONS

CONTRACT = load_contract()
TOWNS = Divisions.load(BUILTIN_DIVISIONS).in_scope_towns
TONGJING, DAWAN = "500112133", "500112135"
JUNE = date(2022, 6, 1)
FILE_DATE = date(2022, 7, 10)
TOWN_FILE = "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx"


def inbox_file(name: str = TOWN_FILE, sha: str = "a" * 64, size: int = 100, kind: str = "town_workbook",
               modified: datetime = datetime(2022, 7, 10, 2)) -> InboxFile:
    return InboxFile(Path("/inbox") / name, f"towns/{name}", name, kind, sha, f"id-{name}", size, modified)


@pytest.mark.parametrize("file_name, cover, expected", [
    # the file name alone
    (TOWN_FILE, Cover(), TownMonth(TONGJING, JUNE, FILE_DATE)),
    ("王家街道办事处202206.xls", Cover(), TownMonth("500112018", JUNE, FILE_DATE)),
    # the cover alone, or agreeing with the name; a cover town with more words still names it
    ("进度表.xlsx", Cover(town="统景镇", month="2022年6月"), TownMonth(TONGJING, JUNE, FILE_DATE)),
    (TOWN_FILE, Cover(town="统景镇人民政府", month="2022年06月"), TownMonth(TONGJING, JUNE, FILE_DATE)),
    ("2022年06月_进度表.xlsx", Cover(town="渝北区统景镇（盖章）"), TownMonth(TONGJING, JUNE, FILE_DATE)),
    ("统景镇_进度表.xlsx", Cover(month="2022年6月"), TownMonth(TONGJING, JUNE, FILE_DATE)),
    # the cover's 填报日期 is the submission date; an unreadable one leaves the file's date
    (TOWN_FILE, Cover(submitted="2022年7月3日"), TownMonth(TONGJING, JUNE, date(2022, 7, 3))),
    (TOWN_FILE, Cover(submitted="七月"), TownMonth(TONGJING, JUNE, FILE_DATE)),
    # a filled cover field decides: naming no town or month rejects, whatever the name says
    (TOWN_FILE, Cover(town="某某镇"), Rejection("town_unresolved")),
    (TOWN_FILE, Cover(month="上半年"), Rejection("month_unresolved")),
    (TOWN_FILE, Cover(town="某某镇", month="上半年"), Rejection("town_unresolved")),
    # cover and name disagree
    (TOWN_FILE, Cover(town="大湾镇"), Rejection("cover_conflict")),
    (TOWN_FILE, Cover(month="2022年7月"), Rejection("cover_conflict")),
    # neither names it (a town outside the rural scope names none)
    ("2022年06月_进度表.xlsx", Cover(), Rejection("town_unresolved")),
    ("双龙湖街道_2022年06月.xlsx", Cover(), Rejection("town_unresolved")),
    ("统景镇_进度表.xlsx", Cover(), Rejection("month_unresolved")),
    ("进度表.xlsx", Cover(town="统景镇"), Rejection("month_unresolved")),
])
def test_town_and_month(file_name, cover, expected):
    assert town_and_month(file_name, cover, TOWNS, FILE_DATE) == expected


FACILITIES = [["设施名称", "床位数"], ["统景镇养老服务中心", "50"]]


def sheet(name: str, rows: list[list], visible: bool = True) -> SheetCells:
    return SheetCells.from_rows(name, visible, rows)


def test_a_workbook_is_classified_by_its_recognised_sheets_and_its_cover():
    cover = sheet("封面", [["填报单位：大湾镇"], ["报表月份：2022年6月"], ["填报日期：2022-07-03"]])
    facilities, notes = sheet("1.机构设施", FACILITIES), sheet("说明", [["填表说明"]])
    workbook = classify_workbook("进度表.xlsx", FILE_DATE, [cover, facilities, notes], CONTRACT, TOWNS)
    assert workbook == TownWorkbook(TownMonth(DAWAN, JUNE, date(2022, 7, 3)), {"facilities": [facilities]})


@pytest.mark.parametrize("sheets, expected", [
    # hidden sheets are never read, so a workbook of only hidden known sheets has none
    ([sheet("Sheet1", [["随便"]]), sheet("机构设施", FACILITIES, visible=False)], Rejection("no_known_sheet")),
    # not a progress workbook at all: its cover is not even looked at
    ([sheet("Sheet1", [["填报单位：某某镇"]])], Rejection("no_known_sheet")),
    ([sheet("封面", [["填报单位：大湾镇"]]), sheet("机构设施", FACILITIES)], Rejection("cover_conflict")),
])
def test_workbooks_that_are_rejected(sheets, expected):
    assert classify_workbook(TOWN_FILE, FILE_DATE, sheets, CONTRACT, TOWNS) == expected


@pytest.mark.parametrize("name, size, expected", [
    ("特困人员名册_20220630.csv", 10, RegistryExport("tekun", date(2022, 6, 30))),
    ("农村老年人信息库_20221231.xlsx", 10, RegistryExport("elderly", date(2022, 12, 31))),
    ("名单_20220630.csv", 10, Rejection("bad_registry_name", kind="unknown")),
    ("特困人员名册.csv", 10, Rejection("bad_registry_name", kind="unknown")),
    ("名单.csv", 0, Rejection("bad_registry_name", kind="unknown")),  # the name is judged first
    ("特困人员名册_20220630.csv", 0, Rejection("zero_bytes")),
])
def test_classify_registry(name, size, expected):
    assert classify_registry(name, size, CONTRACT) == expected


ORIGINAL = Original(TONGJING, JUNE, date(2022, 7, 3))


@pytest.mark.parametrize("sha, size, expected", [
    ("a" * 64, 100, ORIGINAL),
    ("b" * 64, 100, None),
    ("a" * 64, 0, None),  # empty files share their bytes but are rejected, not duplicates
])
def test_duplicate_of(sha, size, expected):
    assert duplicate_of(inbox_file(sha=sha, size=size), {"a" * 64: ORIGINAL}) == expected


def test_a_duplicate_shares_its_originals_town_month_and_submission_date():
    copy = inbox_file("副本.xlsx")
    assert FileResult.duplicate(copy, ORIGINAL) == FileResult(
        copy, "duplicate", "town_workbook", "duplicate", town_code=TONGJING, month=JUNE,
        submission_date=date(2022, 7, 3))
    undated = FileResult.duplicate(copy, Original(TONGJING, JUNE, None))
    assert undated.submission_date == copy.modified_date_shanghai


def test_a_rejected_file_keeps_nothing_it_names():
    file = inbox_file("名单.csv", kind="registry")
    assert FileResult.rejected(file, Rejection("bad_registry_name", kind="unknown")) == FileResult(
        file, "rejected", "unknown", "bad_registry_name", submission_date=date(2022, 7, 10))


def test_read_sheets_loads_each_kind_once_and_rejects_what_it_cannot_use():
    workbook = TownWorkbook(TownMonth(TONGJING, JUNE, FILE_DATE), {
        "facilities": [sheet("机构设施", [["设施类型", "床位数"], ["敬老院", "10"]])],  # no 设施名称
        "pairings": [sheet("结对扶老", [["老人姓名"], ["张*"]]), sheet("结对帮扶", [["老人姓名"], ["李*"]])],
        "funds": [sheet("资金情况", [["说明"], ["无"]])],
        "trainings": [sheet("培训情况", [["姓名", "身份证号", "学时"], ["张*", "11010519491231002X", "12"], ["合计", None, "12"]])],
    })
    read = read_sheets("f1", workbook, CONTRACT, "r1")
    assert [s.sheet for s in read if s.sheet.status == "rejected"] == [
        SheetResult("f1", "facilities", "机构设施", "rejected", "缺少必需的列「设施名称」，请补上该列",
                    "required column 设施名称 is missing; add it", 1, column="设施名称"),
        SheetResult("f1", "pairings", "结对扶老", "rejected",
                    "同一工作簿中有2个「结对扶老」工作表，无法确定使用哪一个，请只保留一个",
                    "2 visible sheets of kind 结对扶老; keep only one", 1),
        SheetResult("f1", "pairings", "结对帮扶", "rejected",
                    "同一工作簿中有2个「结对扶老」工作表，无法确定使用哪一个，请只保留一个",
                    "2 visible sheets of kind 结对扶老; keep only one", 1),
        SheetResult("f1", "funds", "资金情况", "rejected", "找不到表头行，请使用模板的列名",
                    "no header row found; use the template's column names"),
    ]
    assert all(s.rows is None for s in read if s.sheet.status == "rejected")
    trainings = next(s for s in read if s.sheet.status == "loaded")
    assert trainings.sheet == SheetResult("f1", "trainings", "培训情况", "loaded", header_row=1, rows=1)
    assert trainings.rows.select("file_id", "sheet_name", "refresh_id", "town_code", "month", "row_number").row(0) == (
        "f1", "培训情况", "r1", TONGJING, JUNE, 2)


def submission(file_id: str, submitted: date, modified: datetime, name: str = "统景镇.xlsx",
               town: str = TONGJING, month: date = JUNE) -> Submission:
    return Submission(file_id, town, month, submitted, modified, name)


MORNING, EVENING = datetime(2022, 7, 3, 1), datetime(2022, 7, 3, 11)
JULY_3, JULY_5 = date(2022, 7, 3), date(2022, 7, 5)


@pytest.mark.parametrize("existing, new, expected", [
    # a later submission date wins, even from a file modified earlier
    ([submission("old", JULY_3, EVENING)], [submission("new", JULY_5, MORNING)], {"old"}),
    ([submission("old", JULY_5, MORNING)], [submission("new", JULY_3, EVENING)], {"new"}),
    # the same submission date: the later mtime, then the later file name
    ([], [submission("a", JULY_3, EVENING), submission("b", JULY_3, MORNING)], {"b"}),
    ([], [submission("a", JULY_3, MORNING, "统景镇.xlsx"), submission("b", JULY_3, MORNING, "统景镇（更正）.xlsx")],
     {"a"}),
    # all equal: the one loaded before stays, then the first new one
    ([submission("old", JULY_3, MORNING)], [submission("new", JULY_3, MORNING)], {"new"}),
    ([], [submission("a", JULY_3, MORNING), submission("b", JULY_3, MORNING)], {"b"}),
    # other towns and months are not compared
    ([submission("old", JULY_3, MORNING)],
     [submission("dawan", JULY_5, EVENING, town=DAWAN), submission("july", JULY_5, EVENING, month=date(2022, 7, 1))],
     set()),
    ([], [], set()),
])
def test_supersession(existing, new, expected):
    assert superseded(existing, new) == expected


def test_rejected_files_and_sheets_each_get_a_finding_where_they_are():
    rejected = FileResult.rejected(inbox_file("坏文件.xlsx"), Rejection("corrupt"))
    sheets = (SheetResult("id-统景镇.xlsx", "facilities", "机构设施", "rejected", "缺少必需的列「设施名称」，请补上该列",
                          "required column 设施名称 is missing; add it", 1, column="设施名称"),
              SheetResult("id-统景镇.xlsx", "funds", "资金情况", "loaded", header_row=1, rows=3))
    loaded = FileResult.loaded_workbook(inbox_file("统景镇.xlsx"), TONGJING, JUNE, FILE_DATE, sheets)
    findings = rejection_findings([rejected, loaded])
    assert [(f.rule_id, f.file_id, f.town_code, f.month, f.sheet, f.column_name) for f in findings] == [
        (FILE_REJECTED, "id-坏文件.xlsx", None, None, None, None),
        (SHEET_REJECTED, "id-统景镇.xlsx", TONGJING, JUNE, "机构设施", "设施名称"),
    ]
    assert findings[0].message_zh == "文件「坏文件.xlsx」：文件已损坏，无法打开，请重新保存后报送"
    assert loaded.rows == 3
