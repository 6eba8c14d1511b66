"""Cross-source findings (SQL layer) against the generator's answer key, on default and
--clean output, and the towns' feedback workbooks: own town only, nothing unmasked."""

from __future__ import annotations

import csv
import re
from functools import reduce
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.quality.feedback import write_feedback

pytestmark = pytest.mark.slow

# Rules whose findings the clean programme may have: the unpaired key-group
# persons (DQ06) and the pairing-count gap they cause (DQ25) while pairing is under way, and
# workbooks that arrived after the 5th (DQ23).
NATURAL_RULES = {"DQ06_key_person_unpaired", "DQ23_submission_missing", "DQ25_registry_count_mismatch"}
FULL_ID = re.compile(r"\d{17}[\dXx]")
MOBILE = re.compile(r"(^|\D)1[3-9]\d{9}($|\D)")

Location = tuple[str, str | None, str | None, str | None, str | None, int | None]


def planted_location(row: dict[str, str]) -> Location:
    """(rule, town, month, file name, sheet, row) of an answer-key finding."""
    row_number = int(row["row_number"]) if row["row_number"] else None
    rule = row["rule_id"]
    source = row["source_file"].rsplit("/", 1)[-1] if row["source_file"] else None
    return (rule, row["town_code"] or None, row["month"] or None, source, row["sheet"] or None, row_number)


def sql_findings(work_db: Path) -> set[Location]:
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        return set(con.execute(
            "select rule_id, town_code, strftime(month, '%Y-%m'), source_file, sheet, row_number "
            "from quality.findings where layer = 'sql'").fetchall())
    finally:
        con.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_planted_cross_source_finding_is_reported(generated_sources, refreshed_warehouse):
    key = generated_sources / "answer_key"
    planted = [r for r in read_csv(key / "findings.csv") if r["layer"] == "sql"]
    exhaustive = {r["rule_id"] for r in read_csv(key / "rules.csv")
                  if r["layer"] == "sql" and r["exhaustive"] == "true"}
    found = sql_findings(refreshed_warehouse.work_db)
    expected = {planted_location(r) for r in planted}
    missing = sorted(expected - found, key=str)
    extra = sorted((f for f in found - expected if f[0] in exhaustive), key=str)
    for location in missing:
        print("planted but not reported:", location)
    for location in extra:
        print("reported, not planted (exhaustive rule):", location)
    assert planted, "the answer key plants cross-source findings"
    assert not missing and not extra


def test_feedback_workbooks_hold_only_their_towns_rows_and_nothing_unmasked(refreshed_warehouse, tmp_path):
    work_db = refreshed_warehouse.work_db
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        month = con.execute("select month from quality.findings where town_code is not null "
                            "group by month order by count(*) desc, month limit 1").fetchone()[0]
        towns = dict(con.execute("select town_name, town_code from marts.dim_town where is_rural_scope").fetchall())
        # longest first: 白云山村 goes before 白云 could match in it
        places = [name for (name,) in con.execute(
            "select village_name as name from marts.dim_village union select short_name from marts.dim_village "
            "union select town_name from marts.dim_town order by length(name) desc").fetchall()]
        by_town = {}
        for code, rule, source, sheet, row in con.execute(
                "select town_code, rule_id, source_file, sheet, row_number from quality.findings where month = ?",
                [month]).fetchall():
            by_town.setdefault(code, []).append((rule, source, sheet, row))
        full_names = {code: {name for (name,) in con.execute("""
            select coalesce(e.person_name, t.person_name, d.person_name)
            from quality.unpaired_key_persons as u
            left join raw.registry_elderly as e on u.registry = 'elderly' and e.file_id = u.file_id and e.row_number = u.row_number
            left join raw.registry_tekun as t on u.registry = 'tekun' and t.file_id = u.file_id and t.row_number = u.row_number
            left join raw.registry_dibao as d on u.registry = 'dibao' and d.file_id = u.file_id and d.row_number = u.row_number
            where u.month = ? and u.town_code = ?""", [month, code]).fetchall() if name and len(name) >= 2}
            for code in towns.values()}
    finally:
        con.close()

    paths = write_feedback(work_db, month, tmp_path)

    assert len(paths) == len(towns) == 11
    assert sum(len(by_town.get(code, [])) for code in towns.values()) > 0
    for path in paths:
        town_name = path.name.split("_", 1)[0]
        code = towns[town_name]
        book = openpyxl.load_workbook(path, read_only=True)
        issues = list(book["问题清单"].iter_rows(values_only=True))
        assert issues[0][:3] == ("序号", "严重程度", "规则编号")
        listed = sorted(((r[2], r[4], r[5], r[6]) for r in issues[1:]), key=str)
        assert listed == sorted(by_town.get(code, []), key=str), f"{path.name} holds other towns' rows"
        severities = [r[1] for r in issues[1:]]
        assert severities == sorted(severities, key=["错误", "警告", "提示"].index), "errors first"
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                for cell in row:
                    if not isinstance(cell, str):
                        continue
                    assert not FULL_ID.search(cell) and not MOBILE.search(cell), f"{path.name}: unmasked ID or phone"
                    assert not cell.startswith(("=", "+", "-", "@")), f"{path.name}: formula-like cell"
                    # a name inside a place's name is no leak (a person 白云 beside the village 白云山村)
                    text = reduce(lambda left, place: left.replace(place, "|"), places, cell)
                    assert not any(name in text for name in full_names[code]), f"{path.name}: an unmasked name"
        book.close()
    sample = openpyxl.load_workbook(paths[0])
    assert sample["问题清单"].freeze_panes == "A2" and sample["问题清单"].auto_filter.ref
    assert sample["未结对重点对象"].freeze_panes == "A2"


def test_clean_sources_raise_only_the_findings_a_clean_programme_has(refreshed_clean_warehouse):
    found = sql_findings(refreshed_clean_warehouse.work_db)
    unexpected = sorted((f for f in found if f[0] not in NATURAL_RULES), key=str)
    for location in unexpected:
        print("clean sources, unexpected finding:", location)
    assert not unexpected
    # pairing starts in the first month: key-group persons are still unpaired then
    assert any(f[0] == "DQ06_key_person_unpaired" and f[2] == "2021-07" for f in found)


def test_feedback_workbooks_written_by_worker_processes_are_the_same(refreshed_warehouse, generated_months, tmp_path,
                                                                    monkeypatch):
    """A city's workbooks are written by a process per core (pipelines/quality/feedback.py)."""
    month = generated_months[-1]
    alone = write_feedback(refreshed_warehouse.work_db, month, tmp_path / "alone")
    monkeypatch.setattr("pipelines.quality.feedback.feedback_workers", lambda books: 2)
    pooled = write_feedback(refreshed_warehouse.work_db, month, tmp_path / "pooled")

    def cells(path):
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
        finally:
            book.close()

    assert [p.name for p in pooled] == [p.name for p in alone] and len(alone) == 11
    assert sum(len(cells(p)["问题清单"]) for p in alone) > len(alone)  # findings, not only headers
    for one, other in zip(alone, pooled):
        assert cells(other) == cells(one), other.name
