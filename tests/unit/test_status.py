"""The morning status (pipelines/status.py) on a hand-made published database and refresh records.

Three towns of the plan: 王家街道 reported November 2022, 玉峰山镇 sent a workbook that was
rejected, 统景镇 sent nothing; one town outside the plan (双龙湖街道) never counts.
"""
import io
import json
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from pipelines.publish.refresh_log import record_refresh, finish_status_record, status_record_path
from pipelines.settings import Settings
from pipelines.status import collect_status, render_status, reporting_month

NOV, DEC = date(2022, 11, 1), date(2022, 12, 1)
STARTED = datetime(2022, 12, 2, 18, 0, tzinfo=timezone.utc)


def _settings(warehouse: Path) -> Settings:
    return Settings.from_env(warehouse_dir=warehouse, sources_dir=warehouse.parent / "inbox")


def _publish(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema quality; create schema meta")
    con.execute("create table marts.dim_town (town_code varchar, town_name varchar, is_rural_scope boolean)")
    con.execute("""insert into marts.dim_town values ('500112018', '王家街道', true), ('500112129', '玉峰山镇', true),
                   ('500112133', '统景镇', true), ('500112002', '双龙湖街道', false)""")
    con.execute("""create table quality.files (file_name varchar, kind varchar, town_code varchar, month date,
                   status varchar, reason_zh varchar, loaded_at timestamp)""")
    con.execute("""insert into quality.files values
        ('王家街道_2022年11月_进度表.xlsx', 'town_workbook', '500112018', ?, 'loaded', null, '2022-12-02 10:00'),
        ('玉峰山镇_2022年11月_进度表.xlsx', 'town_workbook', '500112129', ?, 'rejected', '文件已损坏，无法打开，请重新保存后报送', '2022-12-02 10:00'),
        ('玉峰山镇_2022年10月_进度表.xlsx', 'town_workbook', '500112129', '2022-10-01', 'rejected', '封面填写的镇街或月份与文件名不一致', '2022-11-02 10:00'),
        ('玉峰山镇_2022年10月_进度表(改).xlsx', 'town_workbook', '500112129', '2022-10-01', 'loaded', null, '2022-11-03 10:00'),
        ('特困人员名册.csv', 'unknown', null, null, 'rejected', '名册文件名无法识别', '2022-11-01 10:00')""", [NOV, NOV])
    con.execute("create table quality.findings (rule_id varchar, severity varchar, town_code varchar, month date)")
    con.execute("""insert into quality.findings values
        ('DQ10_sheet_rejected', 'error', '500112018', ?), ('DQ05_bad_date', 'error', '500112018', ?),
        ('DQ06_unpaired', 'warning', '500112133', ?), ('DQ01_bad_id', 'error', null, ?),
        ('DQ10_sheet_rejected', 'error', '500112133', '2022-10-01')""", [NOV, NOV, NOV, NOV])
    con.execute("create table marts.kpi_town_monthly (town_code varchar, month date, kpi_id varchar)")
    con.execute("insert into marts.kpi_town_monthly values ('500112018', ?, 'K10_village_coverage')", [NOV])
    con.execute("""create table meta.refresh (refresh_id varchar, started timestamp, finished timestamp,
                   status varchar, files bigint, rows bigint, error varchar)""")
    con.execute("""insert into meta.refresh values
        ('20221201T180000Z', '2022-12-01 18:00', '2022-12-01 18:05', 'success', 40, 9000, null),
        ('20221101T180000Z', '2022-11-01 18:00', '2022-11-01 18:04', 'success', 30, 8000, null)""")
    con.close()


def _record(work_db: Path, status: str, error: str | None = None, **stage_seconds: float) -> None:
    work_db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work_db))
    try:
        record_refresh(con, "20221202T180000Z", started=STARTED, status=status, error=error,
                       stage_seconds=stage_seconds)
    finally:
        con.close()


def _rendered(status) -> str:
    out = io.StringIO()
    render_status(status, Console(file=out, width=200, color_system=None, soft_wrap=True))
    return out.getvalue()


@pytest.mark.parametrize(("today", "month", "deadline", "days_left"), [
    (date(2022, 12, 3), NOV, date(2022, 12, 5), 2),
    (date(2022, 12, 5), NOV, date(2022, 12, 5), 0),  # the 5th itself is on time
    (date(2022, 12, 31), NOV, date(2022, 12, 5), -26),
    (date(2023, 1, 1), DEC, date(2023, 1, 5), 4),  # across the year
])
def test_the_reporting_month_is_last_month_due_by_the_5th(today, month, deadline, days_left) -> None:
    assert reporting_month(today) == (month, deadline)
    assert (deadline - today).days == days_left


def test_a_successful_refresh_is_healthy_with_its_stage_times(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "wh")
    _publish(settings.published_db)
    _record(settings.work_db, "success", ingest=3.25, **{"transform+quality": 40.0})
    finish_status_record(settings.work_db, "20221202T180000Z",
                         {"ingest": 3.25, "transform+quality": 40.0, "publish": 5.5})
    finish_status_record(settings.work_db, "another-refresh", {"ingest": 99.0})  # not this record's

    status = collect_status(settings, today=date(2022, 12, 3))

    last = status.last_refresh
    assert (last.refresh_id, last.status, last.source) == ("20221202T180000Z", "success", "record")
    assert last.started == STARTED and last.finished > STARTED
    assert last.stage_seconds == {"ingest": 3.25, "transform+quality": 40.0, "publish": 5.5}
    assert status.healthy and not status.failed and status.exit_code == 0
    text = _rendered(status)
    assert "success" in text and "transform+quality 40.0 s" in text and "publish 5.5 s" in text


def test_files_in_the_inbox_outside_towns_and_registries_are_listed_as_not_read(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "wh")
    _publish(settings.published_db)
    for folder in ("towns", "registries", "rejected/towns", "12月"):
        (settings.sources_dir / folder).mkdir(parents=True)
    (settings.sources_dir / "towns" / "王家街道_2022年11月_进度表.xlsx").write_bytes(b"x")
    (settings.sources_dir / "rejected" / "towns" / "玉峰山镇_2022年11月_进度表.xlsx").write_bytes(b"x")
    (settings.sources_dir / "12月" / "统景镇_2022年11月_进度表_13812345678.xlsx").write_bytes(b"x")

    status = collect_status(settings, today=date(2022, 12, 3))

    assert status.not_read == ["12月/统景镇_2022年11月_进度表_138****5678.xlsx"]
    text = _rendered(status)
    assert "Files not read (1;" in text and "12月/统景镇_2022年11月_进度表_138****5678.xlsx" in text
    assert status.exit_code == 0  # a warning, as rejected files are


def test_a_failed_refresh_says_why_without_personal_data_and_exits_1(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "wh")
    _publish(settings.published_db)
    _record(settings.work_db, "failed", error="transform: bad row of 500112197001011234 phone 13812345678",
            ingest=2.0, **{"transform+quality": 1.5})

    status = collect_status(settings, today=date(2022, 12, 3))

    assert status.failed and not status.healthy and status.exit_code == 1
    assert status.last_refresh.error == "transform: bad row of [masked] phone [masked]"
    raw = status_record_path(settings.work_db).read_text(encoding="utf-8")
    assert "500112197001011234" not in raw and "13812345678" not in raw
    assert json.loads(raw)["stage_seconds"] == {"ingest": 2.0, "transform+quality": 1.5}
    text = _rendered(status)
    assert "failed" in text and "[masked]" in text and "ruralcare refresh" in text


def test_before_the_first_refresh_it_says_what_to_run(tmp_path: Path) -> None:
    status = collect_status(_settings(tmp_path / "nothing-yet"), today=date(2022, 12, 3))

    assert status.never_refreshed and status.last_refresh is None and not status.published
    assert status.exit_code == 0  # nothing failed: a new install is not an alarm
    text = _rendered(status)
    assert "No refresh yet" in text and "ruralcare refresh" in text and "make demo" in text


def test_a_warehouse_without_a_record_falls_back_to_the_last_published_refresh(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "wh")
    _publish(settings.published_db)

    last = collect_status(settings, today=date(2022, 12, 3)).last_refresh

    assert (last.refresh_id, last.status, last.source, last.files) == ("20221201T180000Z", "success", "published", 40)
    assert last.stage_seconds == {}


def test_towns_not_reported_rejected_files_and_open_errors(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "wh")
    _publish(settings.published_db)
    _record(settings.work_db, "unchanged")

    status = collect_status(settings, today=date(2022, 12, 3))

    # Nothing new: the published data stay those of the last publish, and the status says so.
    assert status.last_refresh.status == "unchanged" and status.published_refresh.refresh_id == "20221201T180000Z"
    assert (status.reporting_month, status.deadline, status.days_left) == (NOV, date(2022, 12, 5), 2)
    # A rejected workbook is no report; a town outside the plan is not listed.
    assert [t.town_name for t in status.unreported] == ["玉峰山镇", "统景镇"]
    assert [(f.file_name, f.town_name, f.month, f.resubmitted) for f in status.rejected] == [
        ("玉峰山镇_2022年11月_进度表.xlsx", "玉峰山镇", NOV, False),
        ("玉峰山镇_2022年10月_进度表.xlsx", "玉峰山镇", date(2022, 10, 1), True),
        ("特困人员名册.csv", None, None, False),
    ]
    assert status.rejected[0].reason_zh == "文件已损坏，无法打开，请重新保存后报送"
    # Errors of the latest month with findings only; a warning is no error.
    assert status.errors_month == NOV
    assert [(t.town_code, t.town_name, t.errors) for t in status.errors_by_town] == [
        ("500112018", "王家街道", 2), (None, "（未对应镇街）", 1)]
    assert status.healthy and status.exit_code == 0
    text = _rendered(status)
    assert "published data: refresh 20221201T180000Z" in text
    assert "2 day(s) left" in text and "玉峰山镇、统景镇" in text and "文件已损坏" in text

    after_deadline = collect_status(settings, today=date(2022, 12, 9))
    assert after_deadline.days_left == -4 and "4 day(s) overdue" in _rendered(after_deadline)


def test_a_status_record_that_cannot_be_written_does_not_hide_the_refreshs_own_record(tmp_path: Path) -> None:
    """A full disk (here: a file where the status folder should be) costs the JSON record only:
    meta.refresh still gets the refresh, and record_refresh does not raise over it."""
    settings = _settings(tmp_path / "wh")
    settings.ensure_warehouse_dir()
    status_record_path(settings.work_db).parent.write_text("not a folder", encoding="utf-8")
    con = duckdb.connect(str(settings.work_db))
    try:
        record_refresh(con, "r-disk-full", started=STARTED, status="failed", error="publish: disk full")
        assert con.execute("select status, error from meta.refresh").fetchall() == [("failed", "publish: disk full")]
    finally:
        con.close()
