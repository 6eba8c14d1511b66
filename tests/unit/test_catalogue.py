"""The KPI and rule catalogues: every rule implemented once and catalogued once, every reader
printing the catalogue's words, the generated docs in step, the generator's own lists apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines import catalogue
from pipelines.catalogue import CatalogueError, StatusLimits, kpis, rules, rules_of_layer, status_limits
from pipelines.contract import load_contract
from pipelines.docs_catalogue import generated_files, model_path
from pipelines.generate import render
from pipelines.generate.answer_key_kpis.targets import KPI_CLASSES
from pipelines.ingest import run as ingest_run
from pipelines.ingest.suites import build_suites
from pipelines.quality.feedback import finding_rows
from pipelines.report.content import status_legend
from pipelines.report.labels import rule_label
from pipelines.settings import DBT_PROJECT_DIR, PROJECT_ROOT

RULE_MODELS_DIR = DBT_PROJECT_DIR / "models" / "quality" / "rules"


def test_every_ingest_rule_is_catalogued_and_every_ingest_row_is_implemented():
    suites = build_suites(load_contract())
    implemented = {e["meta"]["rule_id"] for suite in suites.values() for e in suite["expectations"]}
    implemented |= {ingest_run.FILE_REJECTED, ingest_run.SHEET_REJECTED}
    assert implemented == {r.rule_id for r in rules_of_layer("ingest")}


def test_every_rule_model_is_catalogued_and_every_sql_row_has_its_model():
    models = {path.stem for path in RULE_MODELS_DIR.glob("*.sql")}
    assert models == {r.model for r in rules_of_layer("sql")}


def test_a_rule_belongs_to_one_layer_and_the_ids_are_the_stable_ones():
    ids = list(rules())
    assert len(ids) == 25 and all(re.fullmatch(r"DQ\d\d_[a-z0-9_]+", i) for i in ids)
    assert [i[:4] for i in ids] == [f"DQ{n:02d}" for n in range(1, 26)]
    assert {r.layer for r in rules().values()} == {"ingest", "sql"}


def test_every_kpi_names_the_model_that_computes_it():
    for kpi in kpis().values():
        assert kpi.kpi_id in model_path(kpi.model).read_text(encoding="utf-8"), (kpi.kpi_id, kpi.model)
        assert kpi.numerator_en and (kpi.denominator_en is None) == (kpi.measure == "count"), kpi.kpi_id


@pytest.mark.parametrize(("rule_id", "name"), [
    ("DQ09_file_rejected", "文件被拒收"),
    ("DQ05_pairing_unknown_person", "结对对象不在任何名册中"),
    ("DQ02_id_legacy15", "15位旧身份证号"),
])
def test_the_report_uses_the_feedback_workbooks_rule_names(rule_id, name):
    assert rule_label(rule_id) == name


def test_report_and_feedback_workbook_print_the_same_name_for_every_rule():
    for rule in rules().values():
        finding = {"rule_id": rule.rule_id, "severity": rule.severity, "source_file": "a.xlsx", "sheet": None,
                   "row_number": None, "column_name": None, "value": None, "message_zh": "问题。", "fix_zh": None}
        feedback_name = finding_rows([finding])[0][3]
        assert rule_label(rule.rule_id) == feedback_name == rule.name_zh


def test_the_report_legend_is_worded_from_the_status_limits():
    assert status_legend(status_limits())[:2] == [
        "进度指标：已完成（蓝）= 达到最终目标；正常推进（绿）= 落后序时进度不超过目标的10%；"
        "进度滞后（黄）= 落后10%至30%；严重滞后（红）= 落后超过30%。",
        "约束性指标：达标（绿）= 不低于标准；接近标准（黄）= 低于标准不超过10个百分点；未达标（红）= 其余情形。",
    ]
    moved = status_legend(StatusLimits(progress_green_gap=-0.05, progress_yellow_gap=-0.2, threshold_yellow_margin=0.15))
    assert "不超过目标的5%" in moved[0] and "落后5%至20%" in moved[0] and "不超过15个百分点" in moved[1]


def test_the_status_sql_takes_its_limits_from_the_var_only():
    sql = (DBT_PROJECT_DIR / "models" / "intermediate" / "kpi" / "int_kpi__status.sql").read_text(encoding="utf-8")
    assert "var('status_limits')" in sql
    assert not re.search(r"\b0\.[13]0?\b", sql), "int_kpi__status.sql types a limit: use var('status_limits')"


def test_generated_docs_and_dbt_files_are_in_step_with_the_catalogues():
    for path, text in generated_files().items():
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(PROJECT_ROOT)} is out of date: run python -m pipelines.docs_catalogue")


def test_kpis_page_gives_each_kpi_its_formula_and_a_link_to_its_model():
    page = (PROJECT_ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for kpi in kpis().values():
        entry = page.split(f"### {kpi.kpi_id}\n", 1)[1].split("\n### ", 1)[0]
        assert f"- Numerator: {kpi.numerator_en}." in entry
        link = re.search(rf"\[`{kpi.model}`\]\(([^)]+)\)", entry)
        assert link and (PROJECT_ROOT / "docs" / link.group(1)).resolve() == model_path(kpi.model).resolve()


def test_the_generator_keeps_its_own_lists_with_the_catalogue_ids():
    assert set(KPI_CLASSES) == set(kpis())
    assert set(render.RULE_IDS) == set(rules())


def test_the_generator_never_reads_the_catalogues_it_checks():
    sources = (PROJECT_ROOT / "pipelines" / "generate").rglob("*.py")
    readers = [p.relative_to(PROJECT_ROOT) for p in sources
               if re.search(r"[\"'](kpi|rule)_catalogue|pipelines\.catalogue|from \.+catalogue",
                            p.read_text(encoding="utf-8"))]
    assert readers == []


SCANNED = ("pipelines", "dbt_project/models", "dbt_project/macros", "dbt_project/seeds", "dbt_project/tests",
           "dbt_project/dbt_project.yml", "tests", "scripts", "bench", "sources", "docs", "README.md")


def _scanned_files():
    for entry in SCANNED:
        root = PROJECT_ROOT / entry
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.suffix in (".py", ".sql", ".yml", ".yaml", ".md", ".csv") and path.is_file():
                yield path


def test_every_document_the_code_cites_is_in_the_repository():
    documents = {path.name for path in _scanned_files() if path.suffix == ".md"}
    missing = {
        (str(path.relative_to(PROJECT_ROOT)), cited)
        for path in _scanned_files()
        for cited in re.findall(r"[\w./-]*\w\.md\b", path.read_text(encoding="utf-8", errors="replace"))
        if cited.rsplit("/", 1)[-1] not in documents
    }
    assert sorted(missing) == []


def test_a_malformed_catalogue_names_its_file_line_and_column(tmp_path: Path, monkeypatch):
    bad = tmp_path / "rule_catalogue.csv"
    bad.write_text("rule_id,severity,layer,name_zh,fix_zh,fix_en,description_en\n"
                   "DQ01_id_invalid,fatal,ingest,名,改,fix,what\n", encoding="utf-8")
    monkeypatch.setattr(catalogue, "RULE_CATALOGUE", bad)
    catalogue.rules.cache_clear()
    try:
        with pytest.raises(CatalogueError, match=r"line 2, column severity: 'fatal'"):
            catalogue.rules()
    finally:
        catalogue.rules.cache_clear()
