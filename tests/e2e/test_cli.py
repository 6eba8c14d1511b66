"""The `ruralcare` command as a clerk runs it."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import duckdb

RURALCARE = str(Path(sys.executable).parent / "ruralcare")


def run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([RURALCARE, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_help_lists_the_working_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("demo", "refresh", "report", "feedback", "templates", "generate", "ui", "docs", "status",
                    "explain"):
        assert command in done.stdout


def test_refresh_rejects_a_missing_divisions_file(tmp_path: Path) -> None:
    done = run("refresh", "--warehouse", str(tmp_path), "--divisions", str(tmp_path / "nope.csv"))
    assert done.returncode == 2
    assert "nope.csv" in done.stderr


def test_refresh_rejects_an_inbox_that_does_not_exist(tmp_path: Path) -> None:
    done = run("refresh", "--sources", str(tmp_path / "inbx"), "--warehouse", str(tmp_path / "wh"))
    assert done.returncode == 2
    assert "inbx" in done.stderr and "does not exist" in done.stderr
    assert not (tmp_path / "wh" / "ruralcare.duckdb").exists()


def test_templates_writes_one_workbook_per_town(tmp_path: Path) -> None:
    done = run("templates", "--out", str(tmp_path), "--month", "2022-06")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert len(names) == 11
    assert "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx" in names


def test_templates_explains_a_bad_month(tmp_path: Path) -> None:
    done = run("templates", "--out", str(tmp_path), "--month", "2022-13")
    assert done.returncode == 2
    assert "YYYY-MM" in done.stderr


def test_generate_explains_a_month_range_it_cannot_make(tmp_path: Path) -> None:
    for months in ("2022-12..2022-12", "2022-12", "2022-13..2023-02"):
        done = run("generate", "--out", str(tmp_path / "out"), "--months", months)
        assert done.returncode == 2, months
        assert "FIRST..LAST" in done.stderr or "YYYY-MM" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_clerks_untidy_inbox_through_the_command_line(tmp_path: Path) -> None:
    """One refresh, --strict: a rejected file named (exit 1), files outside towns/ and registries/
    named as not read (and warned of in Dagster's log, for a nightly run), and a phone in a file and
    a sheet name and an ID in a facility's name masked everywhere, the refresh publishing."""
    import dagster as dg
    import xlsxwriter

    phone, id_number = "13812345678", "11010519491231002X"
    inbox = tmp_path / "inbox"
    (inbox / "towns").mkdir(parents=True)
    (inbox / "registries").mkdir()
    (inbox / "towns" / "大湾镇_2022年06月_农村养老服务全覆盖进度表.xlsx").write_bytes(b"")
    book = xlsxwriter.Workbook(str(inbox / "towns" / f"统景镇_2022年06月_进度表_联系人{phone}.xlsx"))
    sheet = book.add_worksheet(f"机构设施{phone}")
    sheet.write_row(0, 0, ["设施名称", "设施类型", "建设状态", "床位数", "护理型床位数", "建成日期"])
    sheet.write_row(1, 0, [f"统景镇养老服务中心（{id_number}）", "镇养老服务中心", "已运营", "50", "40", "2022-05-01"])
    sheet.write_row(2, 0, ["统景镇敬老院", "敬老院", "已运营", "30", "30", "2022-13-01"])  # a DQ11 names the sheet
    book.close()
    (inbox / "2022年7月").mkdir()  # a clerk's own folders beside towns/ and registries/
    (inbox / "2022年7月" / "大湾镇_2022年07月_进度表.xlsx").write_bytes(b"PK")
    (inbox / "低保对象名册_20220731.csv").write_bytes(b"x")
    (inbox / "answer_key").mkdir()  # the generator's, beside a sample inbox: not input
    (inbox / "answer_key" / "kpis.csv").write_bytes(b"x")

    done = run("refresh", "--strict", "--sources", str(inbox), "--warehouse", str(tmp_path / "wh"))

    assert done.returncode == 1, done.stderr[-2000:]
    assert "1 file(s) rejected" in done.stderr and "大湾镇_2022年06月_农村养老服务全覆盖进度表.xlsx" in done.stderr
    assert (inbox / "rejected").exists()
    assert "2 file(s) not read" in done.stderr
    assert "2022年7月/大湾镇_2022年07月_进度表.xlsx" in done.stderr and "低保对象名册_20220731.csv" in done.stderr
    assert "kpis.csv" not in done.stderr and "rejected/" not in done.stderr
    instance = dg.DagsterInstance.get()
    warnings = [event.user_message for run in instance.get_runs(limit=3) for event in instance.all_logs(run.run_id)
                if "not read" in (event.user_message or "") and event.level == logging.WARNING]
    assert len(warnings) == 1 and "2022年7月/大湾镇_2022年07月_进度表.xlsx" in warnings[0], warnings
    with duckdb.connect(str(tmp_path / "wh" / "ruralcare.duckdb"), read_only=True) as con:
        assert con.execute("select file_name from quality.files where status = 'loaded'").fetchall() == [
            ("统景镇_2022年06月_进度表_联系人138****5678.xlsx",)]
        assert con.execute("select facility_name from marts.dim_facility order by 1").fetchall() == [
            ("统景镇养老服务中心（110105********002X）",), ("统景镇敬老院",)]
        assert con.execute("select distinct sheet from quality.findings where rule_id = 'DQ11_bad_value'").fetchall() == [
            ("机构设施138****5678",)]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and inbox not in p.parents
               and p.suffix in {".html", ".json", ".log", ".txt", ".csv"}]
    assert written and not [p for p in written if phone in p.read_text(errors="ignore") or id_number in p.read_text(errors="ignore")]
    assert phone not in done.stdout + done.stderr and id_number not in done.stdout + done.stderr


def test_docs_generates_the_dbt_site(refreshed_warehouse) -> None:
    done = run("docs", "--warehouse", str(refreshed_warehouse.warehouse_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    index = Path(done.stderr.split("dbt docs: ")[1].split()[0])
    assert index.name == "index.html" and index.exists()
    catalog = index.parent / "catalog.json"
    assert "kpi_town_monthly" in catalog.read_text(encoding="utf-8")


def test_status_before_the_first_refresh_says_what_to_run(tmp_path: Path) -> None:
    done = run("status", "--warehouse", str(tmp_path / "new"))
    assert done.returncode == 0, done.stderr  # nothing has failed
    assert "No refresh yet" in done.stdout and "ruralcare refresh" in done.stdout and "make demo" in done.stdout


def test_status_of_the_refreshed_warehouse(refreshed_warehouse) -> None:
    done = run("status", "--warehouse", str(refreshed_warehouse.warehouse_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    con = duckdb.connect(str(refreshed_warehouse.published_db), read_only=True)
    try:
        refresh_id = con.execute("select refresh_id from meta.refresh").fetchone()[0]
        rejected = [r[0] for r in con.execute("select file_name from quality.files where status = 'rejected'").fetchall()]
    finally:
        con.close()
    assert f"Last refresh {refresh_id}: success" in done.stdout
    assert "stages: ingest" in done.stdout and "transform+quality" in done.stdout and "publish" in done.stdout
    assert rejected and f"Rejected files ({len(rejected)}" in done.stdout
    assert "Open error findings" in done.stdout and "Reporting " in done.stdout


def _explained_row(published_db: Path) -> tuple:
    """A K10 row of the published marts with a village not covered, and its figures."""
    con = duckdb.connect(str(published_db), read_only=True)
    try:
        return con.execute("""
            select k.town_code, k.town_name, k.month, k.numerator, k.denominator,
                   count(*) filter (where not m.in_numerator and m.in_denominator) as failing,
                   count(*) filter (where m.in_numerator) as passing,
                   max(m.source_file || ' / ' || m.source_sheet || ' / row ' || m.source_row)
                       filter (where m.in_numerator) as a_passing_source
            from marts.kpi_town_monthly as k join marts.kpi_members as m using (kpi_id, town_code, month)
            where k.kpi_id = 'K10_village_coverage' and k.numerator < k.denominator
            group by all order by k.month desc, k.town_code limit 1""").fetchone()
    finally:
        con.close()


def test_explain_prints_the_value_and_its_members(refreshed_warehouse) -> None:
    town_code, town_name, month, numerator, denominator, failing, passing, source = _explained_row(
        refreshed_warehouse.published_db)
    done = subprocess.run(
        [RURALCARE, "explain", "村级互助养老服务覆盖率", "--town", town_name.removesuffix("镇").removesuffix("街道"),
         "--month", f"{month:%Y-%m}", "--warehouse", str(refreshed_warehouse.warehouse_dir)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "400"})  # wide enough that no source cell is folded
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"K10_village_coverage 村级互助养老服务覆盖率 — {town_name} ({town_code}), {month:%Y-%m}" in done.stdout
    assert f"= {numerator:.0f} / {denominator:.0f}" in done.stdout
    assert f"Failing: not in the numerator ({failing})" in done.stdout
    assert f"Passing: in the numerator ({passing})" in done.stdout
    assert source and source in done.stdout


def test_explain_names_the_valid_choices(refreshed_warehouse) -> None:
    done = run("explain", "K99", "--town", "玉峰山", "--month", "2022-06",
               "--warehouse", str(refreshed_warehouse.warehouse_dir))
    assert done.returncode == 2
    assert "no KPI 'K99'" in done.stderr and "K10_village_coverage 村级互助养老服务覆盖率" in done.stderr
