"""run_ingest on small hand-made inboxes: one fixture per rejection kind, duplicates,
re-submissions, registry encodings, and idempotent re-runs."""

import os
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
import xlwt

from pipelines.ingest import run_ingest
from pipelines.ingest.checks import check_rows
from pipelines.ingest.idnumber import check_char
from pipelines.ingest.inbox import stray_files
from pipelines.settings import Settings

TOWN_FILE = "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx"
FACILITY_HEADER = ["设施名称", "设施类型", "建设状态", "床位数", "护理型床位数", "建成日期"]
FACILITY_ROW = ["统景镇养老服务中心", "镇养老服务中心", "已运营", "50", "40", "2022-05-01"]
TEKUN_HEADER = "姓名,公民身份号码,性别,出生日期,镇街,村社区,供养方式,生活自理能力,供养机构,年基本生活标准（元）,人员状态"
TEKUN_ROW = '张*,="11010519491231002X",女,1949-12-31,统景镇,前锋村,集中供养,具备生活自理能力,红竹敬老院,"12,000",正常'


def write_cells(sheet, rows: list[list]) -> None:
    """Every non-empty value of `rows` into an xlsxwriter or xlwt sheet."""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)


def write_workbook(path: Path, sheets: dict[str, list[list]], mtime: datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        write_cells(book.add_worksheet(name), rows)
    book.close()
    if mtime:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def facilities(*rows, cover=None) -> dict[str, list[list]]:
    sheets = {"封面": cover} if cover else {}
    return {**sheets, "机构设施": [FACILITY_HEADER, *(rows or [FACILITY_ROW])]}


@pytest.fixture()
def inbox(tmp_path, monkeypatch):
    monkeypatch.setenv("RURALCARE_PII_KEY", "test-key")
    sources = tmp_path / "inbox"
    (sources / "towns").mkdir(parents=True)
    (sources / "registries").mkdir()
    return sources


def refresh(sources: Path, refresh_id: str = "r1"):
    settings = Settings.from_env(sources_dir=sources, warehouse_dir=sources.parent / "warehouse")
    settings.warehouse_dir.mkdir(exist_ok=True)
    con = duckdb.connect(str(settings.work_db))
    try:
        summary = run_ingest(settings, con, refresh_id)
        files = {r[0]: r[1:] for r in con.execute(
            "SELECT relative_path, status, reason_en, town_code, month FROM raw.files").fetchall()}
        findings = con.execute(
            "SELECT rule_id, sheet, row_number, column_name FROM raw.ingest_findings ORDER BY ALL").fetchall()
        return summary, files, findings, settings
    finally:
        con.close()


def status_of(summary, name):
    return next((status, reason) for path, status, reason in summary.files if path.endswith(name))


def load_clean_registry(inbox: Path, name: str, data: bytes):
    """Write a registry export into the inbox and refresh: it loads without findings. The work
    database, read-only."""
    (inbox / "registries" / name).write_bytes(data)
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, name) == ("loaded", None)
    assert findings == []
    return duckdb.connect(str(settings.work_db), read_only=True)


def test_a_clean_workbook_loads_with_lineage(inbox):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities())
    summary, files, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert files[f"towns/{TOWN_FILE}"][2:] == ("500112133", date(2022, 6, 1))
    assert findings == []
    con = duckdb.connect(str(settings.work_db), read_only=True)
    row = con.execute("SELECT sheet_name, row_number, refresh_id, facility_type, beds, completion_date "
                      "FROM raw.town_facilities").fetchall()
    assert row == [("机构设施", 2, "r1", "镇养老服务中心", 50, date(2022, 5, 1))]
    parquet = list((settings.raw_dir / "town_facilities").glob("*.parquet"))
    assert len(parquet) == 1


def test_row_tables_read_the_loaders_parquet_in_place_and_only_of_loaded_files(inbox):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities())
    _, _, _, settings = refresh(inbox)
    folder = settings.raw_dir / "town_facilities"
    # A run that died before its transaction leaves a file no raw.files row names.
    loaded = pl.read_parquet(next(folder.glob("*.parquet")))
    loaded.with_columns(file_id=pl.lit("f_orphan")).write_parquet(folder / "f_orphan.parquet")
    # other bytes than the first workbook's (written in the same second, the same bytes are a duplicate)
    other_town = ["大盛镇养老服务中心", "镇养老服务中心", "已运营", "30", "20", "2022-04-01"]
    write_workbook(inbox / "towns" / TOWN_FILE.replace("统景镇", "大盛镇"), facilities(other_town))
    summary, _, _, settings = refresh(inbox, "r2")  # a later run adds its file's rows
    con = duckdb.connect(str(settings.work_db), read_only=True)
    kind = con.execute("SELECT table_type FROM information_schema.tables "
                       "WHERE table_schema = 'raw' AND table_name = 'town_facilities'").fetchone()
    rows = con.execute("SELECT refresh_id, count(*) FROM raw.town_facilities GROUP BY ALL ORDER BY ALL").fetchall()
    con.close()
    assert summary.files_by_status == {"loaded": 1}
    assert kind == ("VIEW",)
    assert rows == [("r1", 1), ("r2", 1)]


def test_a_moved_warehouse_reads_its_own_parquet_after_the_next_ingest(inbox, tmp_path):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities())
    _, _, _, settings = refresh(inbox)
    moved = tmp_path / "moved"
    shutil.move(settings.warehouse_dir, moved / "warehouse")
    moved_inbox = moved / "inbox"
    shutil.move(inbox, moved_inbox)
    _, _, _, settings = refresh(moved_inbox, "r2")  # nothing new: the views are pointed again all the same
    con = duckdb.connect(str(settings.work_db), read_only=True)
    rows = con.execute("SELECT facility_name FROM raw.town_facilities").fetchall()
    con.close()
    assert rows == [("统景镇养老服务中心",)]


def _encrypted(path: Path, tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_workbook(tmp_path / "plain.xlsx", facilities())
    with plain.open("rb") as source, path.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)


def _corrupt_zip(path: Path, tmp_path: Path) -> None:
    data = write_workbook(tmp_path / "whole.xlsx", facilities()).read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _rewritten(source: Path, target: Path, change) -> Path:
    """`source` zipped again with each part's bytes as `change(part name, bytes)` returns them
    (None leaves the part out)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in original.namelist():
            content = change(name, original.read(name))
            if content is not None:
                copy.writestr(name, content)
    return target


def _damaged_deflate(path: Path, tmp_path: Path) -> None:
    """A sheet part whose compressed bytes are garbled: the zip's index is whole, the data not."""
    whole = write_workbook(tmp_path / "whole.xlsx", facilities())
    data = bytearray(whole.read_bytes())
    with zipfile.ZipFile(whole) as archive:
        part = archive.getinfo("xl/worksheets/sheet1.xml")
    start = part.header_offset + 30 + len(part.filename.encode()) + len(part.extra)
    for offset in range(start + 8, start + min(part.compress_size, 48)):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def _without_content_types(path: Path, tmp_path: Path) -> None:
    """A workbook's parts without the part that says what they are: damaged, not an archive."""
    whole = write_workbook(tmp_path / "whole.xlsx", facilities())
    _rewritten(whole, path, lambda name, xml: None if name == "[Content_Types].xml" else xml)


def _zipped(path: Path, tmp_path: Path) -> None:
    """The workbook packed into a zip, as a clerk attaches files to a message."""
    workbook = write_workbook(tmp_path / TOWN_FILE, facilities())
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(workbook, TOWN_FILE)


REJECTIONS = [
    ("zero_bytes", TOWN_FILE, lambda p, t: p.write_bytes(b"")),
    ("not_workbook", TOWN_FILE, lambda p, t: p.write_text("这不是工作簿", encoding="utf-8")),
    ("encrypted", TOWN_FILE, _encrypted),
    ("corrupt", TOWN_FILE, _corrupt_zip),
    ("corrupt", TOWN_FILE, _damaged_deflate),
    ("corrupt", TOWN_FILE, _without_content_types),
    ("archive", TOWN_FILE.replace(".xlsx", ".zip"), _zipped),
    ("archive", TOWN_FILE, _zipped),  # a zip named as a workbook
    ("archive", TOWN_FILE.replace(".xlsx", ".rar"), lambda p, t: p.write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(64))),
    ("town_unresolved", "2022年06月_进度表.xlsx", lambda p, t: write_workbook(p, facilities())),
    ("month_unresolved", "统景镇_进度表.xlsx", lambda p, t: write_workbook(p, facilities())),
    ("cover_conflict", TOWN_FILE,
     lambda p, t: write_workbook(p, facilities(cover=[["填报单位：大湾镇"], ["报表月份：2022年6月"]]))),
    ("no_known_sheet", TOWN_FILE, lambda p, t: write_workbook(p, {"Sheet1": [["随便", "写写"]]})),
    # a filled cover field decides: one naming no town or month rejects the file, whatever its name says
    ("town_unresolved", TOWN_FILE, lambda p, t: write_workbook(p, facilities(cover=[["填报单位：某某镇"]]))),
    ("month_unresolved", TOWN_FILE, lambda p, t: write_workbook(p, facilities(cover=[["报表月份：上半年"]]))),
]


@pytest.mark.parametrize("reason, name, make", REJECTIONS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REJECTIONS)])
def test_rejected_workbooks_are_recorded_and_set_aside(inbox, tmp_path, reason, name, make):
    make(inbox / "towns" / name, tmp_path)
    summary, files, findings, settings = refresh(inbox)
    assert status_of(summary, name) == ("rejected", reason)
    assert files[f"towns/{name}"][0] == "rejected" and files[f"towns/{name}"][1]
    assert [f[0] for f in findings] == ["DQ09_file_rejected"]
    assert not (inbox / "towns" / name).exists()
    assert (settings.rejected_dir / "towns" / name).exists()
    assert (settings.rejected_dir / "towns" / f"{name}.reason.txt").read_text(encoding="utf-8")


def test_a_sheet_missing_a_required_column_is_rejected_alone(inbox):
    sheets = {
        "机构设施": [["设施类型", "床位数"], ["敬老院", "10"]],  # no 设施名称
        "结对扶老": [["老人姓名", "身份证号"], ["张*", "11010519491231002X"]],
    }
    write_workbook(inbox / "towns" / TOWN_FILE, sheets)
    summary, files, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert findings == [("DQ10_sheet_rejected", "机构设施", None, "设施名称")]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT sheet_kind, status FROM raw.sheets ORDER BY 1").fetchall() == [
        ("facilities", "rejected"), ("pairings", "loaded")]
    assert con.execute("SELECT count(*) FROM raw.town_pairings").fetchone() == (1,)


@pytest.mark.parametrize("damage", [
    lambda xml: xml[: len(xml) // 2],  # cut off: the XML never closes
    lambda xml: b"",
    lambda xml: None,  # the part the workbook lists is missing
], ids=["cut", "empty", "missing"])
def test_a_damaged_sheet_is_rejected_alone_saying_it_is_damaged(inbox, tmp_path, damage):
    pairings = [["老人姓名", "身份证号"], ["张*", "11010519491231002X"]]
    whole = write_workbook(tmp_path / "whole.xlsx", {**facilities(), "结对扶老": pairings})
    _rewritten(whole, inbox / "towns" / TOWN_FILE,
               lambda name, xml: damage(xml) if name == "xl/worksheets/sheet1.xml" else xml)
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert findings == [("DQ10_sheet_rejected", "机构设施", None, None)]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT sheet_kind, status, reason_zh FROM raw.sheets ORDER BY 1").fetchall() == [
        ("facilities", "rejected", "工作表已损坏，无法读取，请在 Excel 中打开检查此表，重新保存后报送"),
        ("pairings", "loaded", None)]
    assert con.execute("SELECT count(*) FROM raw.town_pairings").fetchone() == (1,)


@pytest.mark.parametrize("name", ["特困人员名册_20220630.zip", "特困人员名册_20220630.csv"])
def test_a_zip_of_registry_exports_is_rejected_saying_to_unpack_it(inbox, tmp_path, name):
    export = tmp_path / "特困人员名册_20220630.csv"
    export.write_text(TEKUN_HEADER + "\n" + TEKUN_ROW + "\n", encoding="utf-8")
    with zipfile.ZipFile(inbox / "registries" / name, "w") as archive:
        archive.write(export, export.name)
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, name) == ("rejected", "archive")
    assert [f[0] for f in findings] == ["DQ09_file_rejected"]
    assert "请解压" in (settings.rejected_dir / "registries" / f"{name}.reason.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("damage", ["sheet", "deflate"])
def test_a_registry_workbook_that_cannot_be_read_is_rejected_as_damaged(inbox, tmp_path, damage):
    name = "家庭医生签约_20220630.xlsx"
    rows = [["公民身份号码", "签约日期", "签约机构", "签约状态"], ["11010519491231002X", "2022-03-01", "统景镇卫生院", "有效"]]
    if damage == "sheet":
        whole = write_workbook(tmp_path / "whole.xlsx", {"Sheet1": rows})
        _rewritten(whole, inbox / "registries" / name,
                   lambda part, xml: xml[: len(xml) // 2] if part == "xl/worksheets/sheet1.xml" else xml)
    else:
        _damaged_deflate(inbox / "registries" / name, tmp_path)
    summary, _, findings, _ = refresh(inbox)
    assert status_of(summary, name) == ("rejected", "corrupt")
    assert [f[0] for f in findings] == ["DQ09_file_rejected"]


def test_a_chart_sheet_named_like_a_data_sheet_is_no_second_sheet_of_its_kind(inbox):
    path = inbox / "towns" / TOWN_FILE
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("结对扶老")
    sheet.write_row(0, 0, ["老人姓名", "身份证号", "本月探访次数"])
    sheet.write_row(1, 0, ["张*", "11010519491231002X", "2"])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=结对扶老!$C$2:$C$2"})
    book.add_chartsheet("结对扶老统计图").set_chart(chart)
    book.close()
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None) and findings == []
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT sheet_name, status, rows FROM raw.sheets").fetchall() == [("结对扶老", "loaded", 1)]


def test_two_visible_sheets_of_one_kind_are_both_rejected_and_hidden_sheets_ignored(inbox):
    path = inbox / "towns" / TOWN_FILE
    book = xlsxwriter.Workbook(str(path))
    for name in ("机构设施", "设施台账", "机构设施（4月备份）"):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, FACILITY_HEADER)
        sheet.write_row(1, 0, FACILITY_ROW)
        if "备份" in name:
            sheet.hide()
    book.close()
    summary, files, findings, _ = refresh(inbox)
    assert [(f[0], f[1]) for f in findings] == [("DQ10_sheet_rejected", "机构设施"), ("DQ10_sheet_rejected", "设施台账")]


def test_duplicates_resubmissions_and_idempotent_reruns(inbox, tmp_path):
    early, late = datetime(2022, 7, 3, 10), datetime(2022, 7, 4, 10)
    write_workbook(inbox / "towns" / TOWN_FILE, facilities(), mtime=early)
    shutil.copy2(inbox / "towns" / TOWN_FILE, inbox / "towns" / "统景镇_2022年06月_副本.xlsx")
    os.utime(inbox / "towns" / "统景镇_2022年06月_副本.xlsx", (late.timestamp(), late.timestamp()))
    summary, files, _, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert status_of(summary, "统景镇_2022年06月_副本.xlsx") == ("duplicate", "duplicate")

    con = duckdb.connect(str(settings.work_db), read_only=True)
    before = con.execute("SELECT * FROM raw.town_facilities ORDER BY ALL").fetchall()
    con.close()
    summary, files_again, _, _ = refresh(inbox, "r2")
    assert summary.files == [] and files_again == files
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT * FROM raw.town_facilities ORDER BY ALL").fetchall() == before
    con.close()

    # A re-submission with a later 填报日期 supersedes the loaded one.
    resubmitted = ["统景镇养老服务中心", "镇养老服务中心", "已运营", "60", "50", "2022-05-01"]
    write_workbook(inbox / "towns" / "统景镇2022年6月（更正）.xlsx",
                   facilities(resubmitted, cover=[["填报日期：2022年7月5日"]]), mtime=early)
    summary, files, _, _ = refresh(inbox, "r3")
    assert status_of(summary, "统景镇2022年6月（更正）.xlsx") == ("loaded", None)
    assert files[f"towns/{TOWN_FILE}"][0] == "superseded"


TEKUN = "特困人员名册_20220630.csv"


@pytest.mark.parametrize("encoding, separator", [
    ("gb18030", ","), ("utf-8", ","), ("utf-8-sig", ","), ("utf-16", "\t"),
])
def test_registry_encodings(inbox, encoding, separator):
    text = "\n".join([TEKUN_HEADER, TEKUN_ROW]).replace(",", separator) if separator != "," else \
        "\n".join([TEKUN_HEADER, TEKUN_ROW])
    if separator == "\t":
        text = "\n".join([TEKUN_HEADER.replace(",", "\t"), TEKUN_ROW.replace('"12,000"', "12000").replace(",", "\t")])
    con = load_clean_registry(inbox, TEKUN, text.encode(encoding))
    assert con.execute("SELECT row_number, town_code, village_name_code, id_valid, annual_allowance_yuan, "
                       "support_mode, self_care FROM raw.registry_tekun").fetchall() == [
        (2, "500112133", "500112133201", True, 12000.0, "集中供养", "具备")]


def test_a_utf8_registry_with_a_row_in_gb18030_loads_and_flags_that_row(inbox):
    other_row = TEKUN_ROW.replace("张*", "李*").replace("1002X", "10011")
    data = "\n".join([TEKUN_HEADER, TEKUN_ROW, ""]).encode("utf-8") + other_row.encode("gb18030")
    (inbox / "registries" / TEKUN).write_bytes(data)
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TEKUN) == ("loaded", None)
    assert {(rule, row) for rule, _, row, _ in findings} == {("DQ08_unknown_village", 3), ("DQ11_bad_value", 3)}
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT row_number, town_code, support_mode FROM raw.registry_tekun ORDER BY 1").fetchall() == [
        (2, "500112133", "集中供养"), (3, None, None)]


def test_registry_ragged_rows_nul_bytes_and_destroyed_ids(inbox):
    lines = [TEKUN_HEADER, TEKUN_ROW.replace("张*", "张\x00*"), "李*,5.00112E+17,男,1949-12-31,统景镇,前锋村,分散供养",
             TEKUN_ROW + ",多余"]
    (inbox / "registries" / TEKUN).write_bytes("\n".join(lines).encode("gb18030"))
    summary, _, findings, settings = refresh(inbox)
    assert findings == [
        ("DQ01_id_invalid", None, 3, "公民身份号码"),
        ("DQ11_bad_value", None, 3, None),
        ("DQ11_bad_value", None, 4, None),
    ]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT person_name FROM raw.registry_tekun ORDER BY row_number").fetchall()[0] == ("张*",)


def test_registry_as_xls_workbook(inbox):
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for c, value in enumerate(["公民身份号码", "签约日期", "签约机构", "签约状态"]):
        sheet.write(0, c, value)
    for c, value in enumerate(["11010519491231002X", "2022-03-01", "统景镇卫生院", "有效"]):
        sheet.write(1, c, value)
    book.save(str(inbox / "registries" / "家庭医生签约_20220630.xls"))
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, "家庭医生签约_20220630.xls") == ("loaded", None)
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT contract_date, contract_status FROM raw.registry_family_doctor").fetchall() == [
        (date(2022, 3, 1), "有效")]


@pytest.mark.parametrize("name", ["名单_20220630.csv", "特困人员名册.csv"])
def test_registry_without_known_prefix_or_date_is_rejected(inbox, name):
    (inbox / "registries" / name).write_text(TEKUN_HEADER + "\n", encoding="utf-8")
    summary, _, findings, _ = refresh(inbox)
    assert status_of(summary, name) == ("rejected", "bad_registry_name")
    assert [f[0] for f in findings] == ["DQ09_file_rejected"]


def test_lock_files_dot_files_and_symlinks_are_never_opened(inbox, tmp_path):
    (inbox / "towns" / f"~${TOWN_FILE}").write_bytes(b"lock")
    (inbox / "towns" / ".hidden.xlsx").write_bytes(b"x")
    outside = write_workbook(tmp_path / "outside.xlsx", facilities())
    (inbox / "towns" / "link.xlsx").symlink_to(outside)
    summary, files, findings, _ = refresh(inbox)
    assert summary.files == [] and files == {} and findings == []


def test_files_outside_towns_and_registries_are_named_as_not_read(inbox, tmp_path):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities())
    write_workbook(inbox / TOWN_FILE, facilities())
    write_workbook(inbox / "6月" / "补报" / TOWN_FILE.replace(".xlsx", "_13812345678.xlsx"), facilities())
    (inbox / f"~${TOWN_FILE}").write_bytes(b"lock")
    (inbox / ".DS_Store").write_bytes(b"x")
    (inbox / ".git").mkdir()
    (inbox / ".git" / "config").write_bytes(b"x")
    (inbox / "link.xlsx").symlink_to(write_workbook(tmp_path / "outside.xlsx", facilities()))
    (inbox / "answer_key").mkdir()
    (inbox / "answer_key" / "kpis.csv").write_bytes(b"x")
    refresh(inbox)
    (inbox / "towns" / "empty.xlsx").write_bytes(b"")
    refresh(inbox, "r2")  # its rejected file is set aside under rejected/
    assert (inbox / "rejected" / "towns" / "empty.xlsx").exists()
    assert stray_files(inbox) == [TOWN_FILE, "6月/补报/" + TOWN_FILE.replace(".xlsx", "_138****5678.xlsx")]
    assert stray_files(inbox / "nowhere") == []


def test_an_inbox_that_does_not_exist_stops_the_load_saying_so(inbox):
    with pytest.raises(FileNotFoundError, match="inbox .*nowhere does not exist"):
        refresh(inbox / "nowhere")


def test_an_empty_inbox_creates_every_raw_table(inbox):
    from pipelines.contract import raw_tables

    _, _, _, settings = refresh(inbox)
    con = duckdb.connect(str(settings.work_db), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='raw'").fetchall()}
    assert tables == set(raw_tables())


def test_the_same_unreadable_bytes_twice_are_both_rejected_not_duplicates(inbox):
    for name in ("名册导出_20220301.csv", "特困人员名册.csv"):
        (inbox / "registries" / name).write_text(TEKUN_HEADER + "\n", encoding="utf-8")
    summary, _, _, _ = refresh(inbox)
    assert sorted(status for _, status, _ in summary.files) == ["rejected", "rejected"]


@pytest.mark.parametrize("blank_columns", [1, 2], ids=["table_from_column_B", "table_from_column_C"])
def test_an_id_typed_as_a_number_is_destroyed_wherever_the_table_starts(inbox, blank_columns):
    # calamine's range starts at the first used column: the ID's number cell must still be found
    pad = [None] * blank_columns
    write_workbook(inbox / "towns" / TOWN_FILE, {"结对扶老": [
        pad + ["老人姓名", "所在村", "本月探访次数", "身份证号"],
        pad + ["张*", "前锋村", 2, 500112194803155768],
        pad + ["李*", "前锋村", 1, "11010519491231002X"],
    ]})
    write_workbook(inbox / "towns" / "大湾镇_2022年06月_进度表.xlsx", facilities())
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert status_of(summary, "大湾镇_2022年06月_进度表.xlsx") == ("loaded", None)
    assert findings == [("DQ01_id_invalid", "结对扶老", 2, "身份证号")]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT row_number, id_number_raw, id_number, id_valid FROM raw.town_pairings "
                       "ORDER BY row_number").fetchall() == [
        (2, "5.00112E+17", None, False), (3, "11010519491231002X", "11010519491231002X", True)]
    assert con.execute("SELECT count(*) FROM raw.town_facilities").fetchone() == (1,)


def test_a_totals_row_named_by_what_it_totals_is_not_data(inbox):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities(
        FACILITY_ROW, ["全镇合计", None, None, "50", "40", None], ["统景镇 小计", None, None, "50", "40", None]))
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert findings == []
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT row_number, facility_name FROM raw.town_facilities").fetchall() == [
        (2, "统景镇养老服务中心")]


def test_village_main_rows_repeat_by_resolved_village(inbox):
    write_workbook(inbox / "towns" / TOWN_FILE, {"互助养老点": [
        ["村名", "设置方式", "是否分点"],
        ["前锋村", "单独设立", "否"],
        ["前锋村委会", "单独设立", None],   # the same village: a second main row
        ["前锋", "单独设立", "是"],         # a sub-point: not a main row
        ["前锋", "单独设立", "否"],         # the same village again
        ["无此村", "单独设立", "否"],       # unresolved: keyed by the typed name
        ["无此村", "单独设立", "否"],
    ]})
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert [f for f in findings if f[0] == "DQ19_duplicate_row"] == [
        ("DQ19_duplicate_row", "互助养老点", 3, "村名"),
        ("DQ19_duplicate_row", "互助养老点", 5, "村名"),
        ("DQ19_duplicate_row", "互助养老点", 7, "村名"),
    ]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT DISTINCT village_name_code FROM raw.town_village_points "
                       "WHERE village_name LIKE '前锋%'").fetchall() == [("500112133201",)]


def test_a_registry_line_of_only_separators_is_a_blank_row(inbox):
    lines = [TEKUN_HEADER, TEKUN_ROW, ",,,,,,,,,,", " , ,\t, ", "", TEKUN_ROW.replace("张*", "王*")]
    con = load_clean_registry(inbox, TEKUN, "\n".join(lines).encode("utf-8"))
    assert con.execute("SELECT row_number, person_name FROM raw.registry_tekun ORDER BY row_number").fetchall() == [
        (2, "张*"), (6, "王*")]


def test_an_excel_error_in_a_text_column_is_an_unreadable_cell(inbox):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities(
        FACILITY_ROW, ["#REF!", "镇养老服务中心", "已运营", "50", "40", "2022-05-01"]))
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert findings == [("DQ11_bad_value", "机构设施", 3, "设施名称")]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT row_number, facility_name, facility_name_raw FROM raw.town_facilities "
                       "ORDER BY row_number").fetchall() == [(2, "统景镇养老服务中心", "统景镇养老服务中心"),
                                                             (3, None, "#REF!")]


@pytest.mark.parametrize("cover_town", ["统景镇（盖章）", "渝北区统景镇", "统景镇人民政府"])
def test_a_cover_town_with_more_words_still_names_its_town(inbox, cover_town):
    write_workbook(inbox / "towns" / TOWN_FILE, facilities(cover=[[f"填报单位：{cover_town}"]]))
    summary, _, findings, _ = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("loaded", None)
    assert findings == []


def test_a_registry_with_quoted_multi_line_addresses_loads_one_row_per_person(inbox):
    header = "姓名,公民身份号码,性别,出生日期,镇街,村社区,家庭住址,居住状况,是否留守,能力等级,计生特殊家庭,智能监测设备,联系电话"
    addresses = ['"前锋村3组,12号"', '"前锋村""老屋基""5号"', '"前锋村\n4组8号"', '"前锋村\r\n4组9号"',
                 '"前锋村,\n""老屋基"",\r\n8组"', "前锋村2组"]
    lines = [header]
    for i, address in enumerate(addresses):
        first17 = f"50011219490101{i:03d}"
        lines.append(f"张{i},{first17}{check_char(first17)},男,1949-01-01,统景镇,前锋村,{address},"
                     f"独居,否,0,否,是,1381234000{i}")
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
    con = load_clean_registry(inbox, "农村老年人信息库_20221231.csv", data)
    assert con.execute("SELECT row_number, person_name, village_name_code FROM raw.registry_elderly "
                       "ORDER BY row_number").fetchall() == [
        (2 + i, f"张{i}", "500112133201") for i in range(6)]


def write_xls_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An Excel 97-2003 (BIFF8) workbook, whatever `path`'s extension says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        write_cells(book.add_sheet(name), rows)
    book.save(str(path))
    return path


OOXML_MAGIC, BIFF_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A clerk who renames a workbook (or saves one under the other format's name) expects it to load.
OTHER_EXTENSION = [(".xls", write_workbook, OOXML_MAGIC), (".xlsx", write_xls_workbook, BIFF_MAGIC)]
OTHER_EXTENSION_IDS = ["xlsx_named_xls", "xls_named_xlsx"]


@pytest.mark.parametrize("extension, write, magic", OTHER_EXTENSION, ids=OTHER_EXTENSION_IDS)
def test_a_town_workbook_with_the_other_workbook_extension_is_read_by_its_content(inbox, extension, write, magic):
    name = "统景镇_2022年06月_农村养老服务全覆盖进度表" + extension
    assert write(inbox / "towns" / name, facilities()).read_bytes().startswith(magic)
    summary, files, findings, settings = refresh(inbox)
    assert status_of(summary, name) == ("loaded", None)
    assert files[f"towns/{name}"][2:] == ("500112133", date(2022, 6, 1))
    assert findings == []
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT sheet_name, row_number, facility_name, beds, completion_date "
                       "FROM raw.town_facilities").fetchall() == [
        ("机构设施", 2, "统景镇养老服务中心", 50, date(2022, 5, 1))]


@pytest.mark.parametrize("extension, write, magic", OTHER_EXTENSION, ids=OTHER_EXTENSION_IDS)
def test_a_registry_workbook_with_the_other_workbook_extension_is_read_by_its_content(inbox, extension, write, magic):
    name = "家庭医生签约_20220630" + extension
    rows = [["公民身份号码", "签约日期", "签约机构", "签约状态"], ["11010519491231002X", "2022-03-01", "统景镇卫生院", "有效"]]
    assert write(inbox / "registries" / name, {"Sheet1": rows}).read_bytes().startswith(magic)
    summary, _, findings, settings = refresh(inbox)
    assert status_of(summary, name) == ("loaded", None)
    con = duckdb.connect(str(settings.work_db), read_only=True)
    assert con.execute("SELECT row_number, contract_date, contract_status FROM raw.registry_family_doctor").fetchall() == [
        (2, date(2022, 3, 1), "有效")]


@pytest.mark.parametrize("folder, name", [
    ("towns", "统景镇_2022年06月_进度表.xlsx"), ("towns", "统景镇_2022年06月_进度表.xls"),
    ("towns", "统景镇_2022年06月_进度表.xlsm"), ("registries", "家庭医生签约_20220630.xlsx"),
    ("registries", "家庭医生签约_20220630.xls"),
])
def test_a_file_with_a_workbook_extension_that_is_no_workbook_is_rejected_saying_so(inbox, folder, name):
    # a CSV export saved under a workbook's name
    (inbox / folder / name).write_bytes("公民身份号码,签约日期\r\n11010519491231002X,2022-03-01\r\n".encode("gb18030"))
    summary, files, findings, settings = refresh(inbox)
    assert status_of(summary, name) == ("rejected", "not_workbook")
    assert files[f"{folder}/{name}"][1].startswith("not a readable Excel workbook (content does not match the extension)")
    assert [f[0] for f in findings] == ["DQ09_file_rejected"]
    reason = (settings.rejected_dir / folder / f"{name}.reason.txt").read_text(encoding="utf-8")
    assert "不是可读取的 Excel 工作簿（内容与扩展名不符）" in reason


def test_great_expectations_is_not_loaded_when_no_rows_need_validating(inbox, monkeypatch):
    built = []
    monkeypatch.setattr("pipelines.ingest.validate.SuiteRunner", lambda: built.append("suite runner"))
    (inbox / "towns" / TOWN_FILE).write_bytes(b"")
    summary, *_ = refresh(inbox)
    assert status_of(summary, TOWN_FILE) == ("rejected", "zero_bytes")
    assert built == []


def test_workbooks_read_by_workers_are_handed_out_in_order_as_read_in_process(inbox, monkeypatch):
    """The read-ahead workers give each workbook exactly what reading it in the loader gives,
    in inbox order, also when workbooks are never asked for (duplicates skipped by the loader)
    or lie beyond the read-ahead window."""
    from pipelines.contract import load_contract
    from pipelines.ingest.discover import KnownFiles, new_inbox_files
    from pipelines.ingest.divisions import Divisions
    import pipelines.ingest.prefetch as prefetch
    from pipelines.ingest.prefetch import WorkbookReader, read_town_workbook
    from pipelines.ingest.results import Rejection

    towns = ["统景镇", "大盛镇", "洛碛镇", "木耳镇", "兴隆镇", "茨竹镇", "古路镇", "石船镇", "龙兴镇", "玉峰山镇"]
    for k, town in enumerate(towns):
        rows = [["统景镇养老服务中心", "镇养老服务中心", "已运营", str(10 + k), "5", "2022-05-01"]]
        write_workbook(inbox / "towns" / f"{town}_2022年06月_农村养老服务全覆盖进度表.xlsx", facilities(*rows))
    _corrupt_zip(write_workbook(inbox / "towns" / "石船镇_2022年06月_损坏.xlsx", facilities()), inbox.parent)
    settings = Settings.from_env(sources_dir=inbox, warehouse_dir=inbox.parent / "warehouse")
    contract, divisions = load_contract(), Divisions.load(settings.divisions_file)
    workbooks = [f for f in new_inbox_files(inbox, KnownFiles(frozenset(), {}, ())) if f.kind == "town_workbook"]
    assert len(workbooks) == 11

    def summary(read):
        if isinstance(read, Rejection):
            return read.reason
        return read.reports, [(s.sheet, None if s.rows is None else s.rows.to_dicts()) for s in read.sheets]

    in_process = [summary(read_town_workbook(f, contract, divisions.in_scope_towns, "r1")) for f in workbooks]
    assert in_process.count("corrupt") == 1
    asked = [f for i, f in enumerate(workbooks) if i not in (1, 2)]  # two never asked for
    window = 4
    monkeypatch.setattr(prefetch, "READ_AHEAD_BYTES", sum(f.size for f in workbooks[:window]))
    with WorkbookReader(workbooks, contract, divisions.in_scope_towns, "r1", workers=1) as reader:
        assert len(workbooks) > window + 2  # the last ones wait beyond the window
        by_workers = [summary(reader.read(f)) for f in asked]
    assert by_workers == [in_process[i] for i, f in enumerate(workbooks) if f in asked]


def test_town_sheet_rows_are_validated_in_bounded_batches_with_the_same_result(inbox, tmp_path, monkeypatch):
    """Held town-sheet rows are checked whenever a batch is full, not all at the end (bounded
    memory); the rows and findings are those of one batch."""
    import pipelines.ingest.validate as validate

    bad = ["统景镇养老服务中心", "镇养老服务中心", "已运营", "50", "60", "2022-05-01"]  # more nursing beds than beds
    for k, town in enumerate(["统景镇", "大盛镇", "洛碛镇"]):
        write_workbook(inbox / "towns" / f"{town}_2022年06月_农村养老服务全覆盖进度表.xlsx",
                       facilities(FACILITY_ROW, bad, [f"{town}敬老院", "敬老院", "已运营", str(20 + k), "5", None]))
    other = shutil.copytree(inbox, tmp_path / "other" / "inbox")

    def loaded(sources, refresh_id):
        _, _, findings, settings = refresh(sources, refresh_id)
        con = duckdb.connect(str(settings.work_db), read_only=True)
        try:
            rows = con.execute("SELECT * EXCLUDE (file_id) FROM raw.town_facilities ORDER BY ALL").fetchall()
        finally:
            con.close()
        return rows, findings

    one_batch = loaded(inbox, "r1")
    checks = []
    monkeypatch.setattr(validate, "BATCH_ROWS", 4)
    monkeypatch.setattr(validate, "check_rows", lambda rows, *a: checks.append(rows.height) or check_rows(rows, *a))
    assert loaded(other, "r1") == one_batch
    assert checks == [6, 3]
    assert any(rule == "DQ12_beds_inconsistent" for rule, *_ in one_batch[1])


def test_great_expectations_skips_the_work_ruralcare_does_not_need(inbox, monkeypatch):
    """Three costs of GX switched off (pipelines/ingest/suites.py): its batch fingerprint (a hash
    of every row, which ruralcare never reads), filtering the frame by an expectation's row
    condition again for every metric it computes (each condition's mask is kept while a
    validation runs), and making an expectation's configuration again each time it is asked for
    (made once per validation). The suites still find what they find."""
    import pandas as pd
    from great_expectations.execution_engine import pandas_execution_engine
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    from pipelines.ingest.suites import SuiteRunner

    def fingerprint(frame):
        raise AssertionError("a validated frame was fingerprinted")

    validations, evaluated = [], []
    evaluate, validate = pd.DataFrame.eval, SuiteRunner.validate

    def recording_eval(frame, expr, *args, **kwargs):
        evaluated.append((len(validations), expr))
        return evaluate(frame, expr, *args, **kwargs)

    configured, configure = [], ExpectationConfiguration.__init__

    def counting_configure(configuration, *args, **kwargs):
        configured.append(len(validations))
        configure(configuration, *args, **kwargs)

    def counting_validate(runner, table, frame):
        validations.append(table)
        return validate(runner, table, frame)

    monkeypatch.setattr(ExpectationConfiguration, "__init__", counting_configure)
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    monkeypatch.setattr(pd.DataFrame, "eval", recording_eval)
    monkeypatch.setattr(SuiteRunner, "validate", counting_validate)
    (inbox / "registries" / "特困人员名册_20220630.csv").write_text(
        f"{TEKUN_HEADER}\n{TEKUN_ROW}\n{TEKUN_ROW.replace('集中供养', '不知道')}\n", encoding="utf-8")
    summary, _, findings, _ = refresh(inbox)
    assert status_of(summary, "特困人员名册_20220630.csv") == ("loaded", None)
    assert [rule for rule, *_ in findings] == ["DQ11_bad_value"]
    assert any(expr == "_given_support_mode == True" for _, expr in evaluated)
    assert len(evaluated) == len(set(evaluated))  # no condition evaluated twice in a validation
    from pipelines.ingest.suites import load_suite

    expectations = len(load_suite("registry_tekun")["expectations"])
    # GX makes an expectation from its configuration again per metric (each then made once):
    # ≈ 17 per expectation here, against ≈ 127 made anew each time one is asked for.
    assert validations == ["registry_tekun"] and len(configured) <= 25 * expectations


def test_the_registries_rows_go_to_the_suites_once_the_last_registry_file_is_read(inbox, monkeypatch):
    """`Validation.registries_read` (pipelines/ingest/validate.py) is called right after the last
    registry file of the inbox, before the workbooks that come after it."""
    import pipelines.ingest.run as run
    import pipelines.ingest.validate as validate

    (inbox / "registries" / TEKUN).write_bytes("\n".join([TEKUN_HEADER, TEKUN_ROW]).encode("gb18030"))
    (inbox / "registries" / "特困人员名册_20220731.csv").write_bytes(
        "\n".join([TEKUN_HEADER, TEKUN_ROW]).encode("gb18030"))
    write_workbook(inbox / "towns" / TOWN_FILE, facilities())
    taken_in, read_at = [], []
    ingest_file = run.ingest_file
    monkeypatch.setattr(run, "ingest_file", lambda file, *a: taken_in.append(file.kind) or ingest_file(file, *a))
    registries_read = validate.Validation.registries_read
    monkeypatch.setattr(validate.Validation, "registries_read",
                        lambda self: read_at.append(list(taken_in)) or registries_read(self))
    summary, _, findings, _ = refresh(inbox)
    assert taken_in == ["registry", "registry", "town_workbook"]
    assert read_at[0] == ["registry", "registry"]  # then once more at the end, with nothing held
    assert status_of(summary, TEKUN) == ("loaded", None) and findings == []
