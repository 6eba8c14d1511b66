"""Town feedback workbooks (数据质量反馈表): one XLSX per town and month, for the town's clerk.

Each workbook holds only its own town's findings (errors first) with file, sheet, row,
column, the masked value and what to fix, and the town's key-group persons still without
一对一 pairing. Everything personal is masked before it reaches this module (the quality
models); a last guard refuses to write anything that still looks like a full ID or phone.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import xlsxwriter

from pipelines.catalogue import rule_name_zh
from pipelines.privacy import FULL_ID_OR_PHONE

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
FORMULA_STARTS = ("=", "+", "-", "@")
_UNMASKED = re.compile(FULL_ID_OR_PHONE)
PARALLEL_FROM_WORKBOOKS = 50

FINDING_COLUMNS = (  # (header, width)
    ("序号", 6), ("严重程度", 9), ("规则编号", 30), ("问题类型", 24), ("文件", 44), ("工作表", 18),
    ("行号", 8), ("列名", 16), ("值（已脱敏）", 22), ("问题说明", 80), ("怎么改", 50),
)
UNPAIRED_COLUMNS = (
    ("序号", 6), ("村（社区）", 16), ("姓名（已脱敏）", 14), ("身份证号（已脱敏）", 22), ("年龄", 6),
    ("名册", 16), ("名册文件", 36), ("名册行号", 10),
)
REGISTRY_ZH = {"elderly": "农村老年人信息库", "tekun": "特困人员名册", "dibao": "低保对象名册"}


@dataclass(frozen=True)
class Town:
    code: str
    name: str


class UnmaskedValue(ValueError):
    """A cell about to be written to a feedback workbook looks like a full ID or phone number."""


def neutralise(value: object) -> object:
    """Text that Excel could read as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def workbook_name(town: Town, month: date) -> str:
    return f"{town.name}_{month.year}年{month.month:02d}月_数据质量反馈表.xlsx"


def finding_rows(findings: list[dict]) -> list[list[object]]:
    """The 问题清单 rows: errors first, then warnings, then info; by rule, file, sheet, row. 问题类型 is
    the rule's name in the rule catalogue, as the monthly report prints it."""
    ordered = sorted(findings, key=lambda f: (
        SEVERITY_ORDER.get(f["severity"], 3), f["rule_id"], f["source_file"] or "", f["sheet"] or "",
        f["row_number"] if f["row_number"] is not None else -1, f["column_name"] or "", f["value"] or ""))
    return [
        [number, SEVERITY_ZH.get(f["severity"], f["severity"]), f["rule_id"], rule_name_zh(f["rule_id"]),
         f["source_file"], f["sheet"], f["row_number"], f["column_name"], f["value"],
         _without_fix(f["message_zh"], f["fix_zh"]), f["fix_zh"]]
        for number, f in enumerate(ordered, 1)
    ]


def _without_fix(message: str | None, fix: str | None) -> str | None:
    """The message without the fix it ends with (the fix has its own column)."""
    if message and fix and message.endswith(fix):
        return message[: -len(fix)]
    return message


def unpaired_rows(persons: list[dict]) -> list[list[object]]:
    """The 未结对重点对象 rows, by village then masked ID."""
    ordered = sorted(persons, key=lambda p: (p["village_name"] or "", p["id_masked"] or "", p["row_number"] or 0))
    return [
        [number, p["village_name"], p["name_masked"], p["id_masked"], p["age"],
         REGISTRY_ZH.get(p["registry"], p["registry"]), p["source_file"], p["row_number"]]
        for number, p in enumerate(ordered, 1)
    ]


def write_feedback(work_db: Path, month: date, out_dir: Path) -> list[Path]:
    """Write one feedback workbook per programme town for `month`; returns their paths.

    Reads the working database (read-only: no other process may hold it).
    """
    month = month.replace(day=1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        towns = [Town(code, name) for code, name in con.execute(
            "select town_code, town_name from marts.dim_town where is_rural_scope order by town_code").fetchall()]
        findings = _records(con, """
            select town_code, rule_id, severity, source_file, sheet, row_number, column_name, value,
                   message_zh, fix_zh
            from quality.findings
            where month = ?""", [month])
        persons = _records(con, """
            select town_code, village_name, name_masked, id_masked, age, registry, source_file, row_number
            from quality.unpaired_key_persons where month = ?""", [month])
    finally:
        con.close()
    findings_of, persons_of = _by_town(findings), _by_town(persons)
    books = [(out_dir / workbook_name(town, month), town, month, finding_rows(findings_of.get(town.code, [])),
              unpaired_rows(persons_of.get(town.code, []))) for town in towns]
    workers = feedback_workers(len(books))
    if workers > 1:
        # xlsxwriter is pure Python: a city's 800 workbooks took 11 s in one process.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(_write_book, books, chunksize=max(1, len(books) // (workers * 8))))
    else:
        for book in books:
            _write_book(book)
    return [book[0] for book in books]


def feedback_workers(books: int) -> int:
    """Processes writing the workbooks: one per core for a city, this one for a district (whose
    11 workbooks take ≈ 0.5 s in all, less than starting processes would)."""
    return max(1, os.cpu_count() or 1) if books >= PARALLEL_FROM_WORKBOOKS else 1


def _write_book(book: tuple) -> None:
    _write_workbook(*book)


def _by_town(records: list[dict]) -> dict[str, list[dict]]:
    """Each town's records in their order (one pass: a city has 800 towns)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        grouped[record["town_code"]].append(record)
    return grouped


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _write_workbook(path: Path, town: Town, month: date, findings: list[list[object]],
                    unpaired: list[list[object]]) -> None:
    # in_memory: a town's workbook is small; xlsxwriter's temporary files cost more than its XML.
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True})
    try:
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                  "valign": "vcenter"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        _table(book.add_worksheet("问题清单"), FINDING_COLUMNS, findings, header, wrap)
        _table(book.add_worksheet("未结对重点对象"), UNPAIRED_COLUMNS, unpaired, header, wrap)
        _notes(book.add_worksheet("说明"), town, month, findings, len(unpaired), book)
    finally:
        book.close()


def _table(sheet, columns, rows: list[list[object]], header, wrap) -> None:
    for col, (title, width) in enumerate(columns):
        sheet.write_string(0, col, title, header)
        sheet.set_column(col, col, width, wrap if width >= 40 else None)
    for r, row in enumerate(rows, 1):
        for col, value in enumerate(row):
            _write_cell(sheet, r, col, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)


def _write_cell(sheet, row: int, col: int, value: object) -> None:
    if value is None:
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, value)
        return
    text = str(value)
    if _UNMASKED.search(text):
        raise UnmaskedValue(f"row {row}, column {col} of a feedback workbook looks like a full ID or phone number")
    sheet.write_string(row, col, neutralise(text))


def _notes(sheet, town: Town, month: date, findings: list[list[object]], unpaired: int, book) -> None:
    title = book.add_format({"bold": True, "font_size": 14})
    counts = {zh: sum(1 for f in findings if f[1] == zh) for zh in SEVERITY_ZH.values()}
    lines = [
        f"{town.name}数据质量反馈表（{month.year}年{month.month}月）",
        "",
        f"错误 {counts['错误']} 条，警告 {counts['警告']} 条，提示 {counts['提示']} 条；未一对一结对的重点对象 {unpaired} 人。",
        "“问题清单”按严重程度排序（错误在前）：请按“文件、工作表、行号、列名”找到单元格，按“怎么改”更正，并在下月报表中报送。",
        "错误：可能导致统计指标不准确，必须更正；警告：数据可疑，请核实；提示：供参考。",
        "“未结对重点对象”：名册中属于一对一结对范围、但本月结对扶老表中没有一对一结对的老年人，请逐一安排结对帮扶。",
        "为保护个人信息，身份证号只显示前6位和后4位，姓名只显示姓氏。",
    ]
    sheet.set_column(0, 0, 110)
    for row, line in enumerate(lines):
        if line:
            sheet.write_string(row, 0, line, title if row == 0 else None)
