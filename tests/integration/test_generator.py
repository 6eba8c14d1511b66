"""The synthetic-source generator end to end: determinism, variations, planted rules, answer key."""

import csv
import hashlib
import json
import os
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from pipelines.generate import generate
from pipelines.generate.ids import is_valid_id
from pipelines.generate.render import RULE_IDS

# Every variation docs/inputs.md lists, as the manifest names it.
REQUIRED_VARIATIONS = (
    ["format_xlsx", "format_xlsm", "format_xls", "title_rows_1", "title_rows_2", "title_rows_3", "title_rows_4",
     "header_two_rows", "merged_village_cells", "footer_合计", "footer_总计", "footer_小计", "footer_signature",
     "header_alias", "header_unit_area", "header_unit_count", "header_unit_wan_yuan", "header_unit_yuan",
     "header_no_unit", "header_whitespace", "category_alias", "teams_word", "blank_row", "column_without_header",
     "sheet_without_data_rows", "cover_same_cell", "cover_next_cell", "cover_sheet", "cover_submission_date",
     "cover_label_报表月份", "cover_label_填报月份", "cover_label_月份", "identified_by_file_name",
     "identified_by_cover_only", "town_form_name", "town_form_short", "town_form_government",
     "hidden_backup_sheet", "extra_sheet_说明", "extra_sheet_Sheet1", "sheet_name_alias",
     "sheet_name_prefix_number", "sheet_name_prefix_table", "sheet_name_spaces", "sheet_name_bracket_suffix",
     "optional_column_missing", "resubmission_superseded", "duplicate_bytes", "skipped_lock_file",
     "skipped_dot_file", "skipped_symlink", "file_name_gb18030",
     "registry_encoding_gb18030", "registry_encoding_utf-8", "registry_encoding_utf-8-sig",
     "registry_encoding_utf-16", "registry_encoding_xlsx", "registry_encoding_xls", "registry_nul_bytes",
     "registry_repeated_header", "registry_header_alias", "registry_id_excel_formula", "registry_id_apostrophe",
     "registry_ability_label"]
    + [f"number_{f}" for f in ("text", "thousands", "fullwidth", "decimal_text", "unit_suffix", "unit_chinese")]
    + [f"yesno_{a}{b}" for a, b in (("是", "否"), ("有", "无"), ("√", "×"), ("✓", "✗"), ("Y", "N"), ("y", "n"),
                                    ("1", "0"), ("已", "未"))]
    + [f"empty_{f}" for f in ("—", "-", "/", "暂无", "NULL", "无")]
    + [f"date_{f}" for f in ("date_cell", "serial", "iso", "slash", "dot", "chinese", "compact", "month_chinese",
                             "month_iso")]
    + [f"village_{f}" for f in ("short", "base", "official", "committee", "spaces")]
    + [f"id_{f}" for f in ("plain", "spaces", "fullwidth", "lower_x", "apostrophe", "excel_formula")]
    + [f"categories_sep_{s}" for s in ("、", ",", "，", "/", "space")]
    + [f"month_form_{f}" for f in ("chinese", "chinese_padded", "compact", "iso", "dot", "underscore")]
)
REJECTION_REASONS = {"zero_bytes", "not_workbook", "encrypted", "corrupt", "town_unresolved", "month_unresolved",
                     "cover_conflict", "no_known_sheet", "bad_registry_name"}
ROW_TABLES = ("town_facilities", "town_village_points", "town_pairings", "town_trainings", "town_funds",
              "registry_tekun", "registry_dibao", "registry_elderly", "registry_family_doctor")


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def default_run(generated_run):
    return generated_run


@pytest.mark.slow
def test_default_run_places_every_plant_in_time(default_run):
    _, summary = default_run
    assert summary["plants_not_applied"] == []
    # 30 s on an idle 2-core machine; the bound here leaves room for a shared CI runner
    assert summary["elapsed_seconds"] < 240


@pytest.mark.slow
def test_every_variation_of_inputs_md_is_present(default_run):
    out, _ = default_run
    manifest = json.loads((out / "answer_key" / "manifest.json").read_text(encoding="utf-8"))
    missing = [v for v in REQUIRED_VARIATIONS if not manifest.get(v)]
    assert missing == []
    files = {f["relative_path"] for f in read_csv(out / "answer_key" / "files.csv")}
    skipped = {"skipped_lock_file", "skipped_dot_file", "skipped_symlink"}
    for name, places in manifest.items():
        for place in places:
            assert place["file"] in files or name in skipped, (name, place)


@pytest.mark.slow
def test_every_rule_is_planted_and_rejections_cover_every_reason(default_run):
    out, _ = default_run
    findings = read_csv(out / "answer_key" / "findings.csv")
    assert {f["rule_id"] for f in findings} == set(RULE_IDS)
    files = read_csv(out / "answer_key" / "files.csv")
    rejected = {f["relative_path"]: f["reason"] for f in files if f["expected_status"] == "rejected"}
    assert REJECTION_REASONS <= set(rejected.values())
    dq09 = {f["source_file"] for f in findings if f["rule_id"] == "DQ09_file_rejected"}
    assert dq09 == set(rejected)
    statuses = {f["expected_status"] for f in files}
    assert statuses == {"loaded", "superseded", "duplicate", "rejected"}
    sheets = read_csv(out / "answer_key" / "sheets.csv")
    assert {s["reason"] for s in sheets if s["expected_status"] == "rejected"} == {
        "missing_required_column", "ambiguous_sheet"}
    rules = {r["rule_id"]: r for r in read_csv(out / "answer_key" / "rules.csv")}
    assert set(rules) == set(RULE_IDS)
    for rule in rules.values():
        assert (rule["exhaustive"] == "true") == (rule["layer"] == "ingest")


@pytest.mark.slow
def test_ids_are_valid_except_the_planted_ones(default_run):
    out, _ = default_run
    findings = read_csv(out / "answer_key" / "findings.csv")
    planted = {(f["source_file"], int(f["row_number"])) for f in findings if f["rule_id"] == "DQ01_id_invalid"}
    legacy = {(f["source_file"], int(f["row_number"])) for f in findings if f["rule_id"] == "DQ02_id_legacy15"}
    invalid, converted = set(), set()
    for table in ("town_pairings", "town_trainings", "registry_tekun", "registry_dibao", "registry_elderly",
                  "registry_family_doctor"):
        frame = pl.read_parquet(out / "answer_key" / "truth" / f"{table}.parquet")
        valid_ids = frame.filter(pl.col("id_valid"))["id_number"].to_list()
        assert all(is_valid_id(i) for i in valid_ids)
        bad = frame.filter(~pl.col("id_valid"))
        assert bad["id_number"].null_count() == len(bad)
        invalid |= set(zip(bad["file_id"], bad["row_number"]))
        old = frame.filter(pl.col("id_legacy15"))
        converted |= set(zip(old["file_id"], old["row_number"]))
    assert invalid == planted
    assert converted == legacy


@pytest.mark.slow
def test_answer_key_is_internally_consistent(default_run):
    out, _ = default_run
    key = out / "answer_key"
    files = {f["relative_path"]: f for f in read_csv(key / "files.csv")}
    truth_files = pl.read_parquet(key / "truth" / "files.parquet")
    assert set(truth_files["file_id"]) == set(files)
    assert truth_files["submission_date"].null_count() == 0
    for relative, f in files.items():
        path = out / relative
        if path.exists():  # the GB18030-named file is not reachable by its decoded name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
    kept = {p for p, f in files.items() if f["expected_status"] in ("loaded", "superseded")}
    rows_per_file: dict[str, int] = {}
    for table in ROW_TABLES:
        frame = pl.read_parquet(key / "truth" / f"{table}.parquet")
        assert set(frame["file_id"]) <= kept, table
        assert frame.select(["file_id", "row_number", *(["sheet_name"] if "sheet_name" in frame.columns else [])]
                            ).is_duplicated().sum() == 0, table
        for file_id, count in frame.group_by("file_id").len().iter_rows():
            rows_per_file[file_id] = rows_per_file.get(file_id, 0) + count
    for relative in kept:
        assert rows_per_file.get(relative, 0) == truth_files.filter(pl.col("file_id") == relative)["rows"][0]
    sheets = read_csv(key / "sheets.csv")
    for finding in read_csv(key / "findings.csv"):
        assert finding["source_file"] == "" or finding["source_file"] in files
        if finding["sheet"]:
            assert any(s["relative_path"] == finding["source_file"] and s["sheet_name"] == finding["sheet"]
                       for s in sheets), finding
    # superseded and loaded versions of one town-month: the later submission wins
    superseded = [f for f in files.values() if f["expected_status"] == "superseded"]
    for old in superseded:
        newer = [f for f in files.values() if f["expected_status"] == "loaded" and f["town_code"] == old["town_code"]
                 and f["month"] == old["month"] and f["kind"] == "town_workbook"]
        assert newer and newer[0]["submission_date"] > old["submission_date"]


@pytest.mark.slow
def test_recognised_sheets_are_visible_and_row_numbers_point_at_rows(default_run):
    out, _ = default_run
    key = out / "answer_key"
    facilities = pl.read_parquet(key / "truth" / "town_facilities.parquet")
    for file_id in facilities["file_id"].unique().sort().to_list()[::9]:
        rows = facilities.filter(pl.col("file_id") == file_id)
        reader = fastexcel.read_excel(str(out / file_id))
        sheet = rows["sheet_name"][0]
        loaded = reader.load_sheet(sheet, header_row=None, dtypes="string")
        assert loaded.visible == "visible"
        frame = loaded.to_polars()
        for row in rows.iter_rows(named=True):
            if row["facility_name"] is not None:
                assert frame.row(row["row_number"] - 1)[0] == row["facility_name"]


@pytest.mark.slow
def test_same_seed_same_bytes_and_mtimes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    generate(first, months="2022-11..2022-12")
    generate(second, months="2022-11..2022-12")

    def snapshot(root: Path) -> dict:
        out = {}
        for directory, _, names in os.walk(root):
            for name in names:
                path = Path(directory) / name
                stat = path.lstat()
                content = os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
                relative = str(path.relative_to(root))
                # inbox files carry their submission time; the answer key is written "now"
                mtime = None if relative.startswith("answer_key") else int(stat.st_mtime)
                out[relative] = (content, mtime)
        return out

    a, b = snapshot(first), snapshot(second)
    assert a == b
    assert len(a) > 40


@pytest.mark.slow
def test_clean_run_has_no_findings_and_keeps_variations(tmp_path):
    generate(tmp_path, months="2022-11..2022-12", clean=True)
    key = tmp_path / "answer_key"
    assert read_csv(key / "findings.csv") == []
    files = read_csv(key / "files.csv")
    assert {f["expected_status"] for f in files} <= {"loaded", "superseded", "duplicate"}
    for table in ("town_pairings", "town_trainings", "registry_elderly", "registry_tekun"):
        frame = pl.read_parquet(key / "truth" / f"{table}.parquet")
        assert frame["id_valid"].all() and not frame["id_legacy15"].any()
    manifest = json.loads((key / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_xls"] and manifest["registry_encoding_gb18030"] and manifest["title_rows_2"]
