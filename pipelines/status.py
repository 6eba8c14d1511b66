"""The morning status: did last night's refresh run, which files were rejected, who has not reported.

`collect_status(settings, today)` gathers the facts without touching the working database (a
running refresh holds it):
- the last refresh from `status/last_refresh.json`, which every refresh (command line, Dagster
  run, failure sensor, nothing-new) writes beside the working database; for a warehouse refreshed
  before that file existed, the last published refresh in the analyst copy's `meta.refresh`;
- from the published analyst database, opened read-only: rejected files with their reasons, the
  rural towns without an accepted workbook for the reporting month, and the open error findings
  per town.

The reporting month is last month: its workbook is due by the 5th of this month (the 5th itself
counts as on time, as for K30). `render_status` prints it in the terminal; the site's status
page uses the same `Status`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from pipelines.explain import Town
from pipelines.ingest.inbox import stray_files
from pipelines.publish.refresh_log import status_record_path
from pipelines.report.fmt import add_months, submission_deadline
from pipelines.settings import Settings

STATUS_LABELS_ZH = {"success": "成功", "failed": "失败", "unchanged": "无新数据，未重建"}


@dataclass(frozen=True)
class RefreshRecord:
    refresh_id: str
    started: datetime | None  # UTC, timezone-aware
    finished: datetime | None
    status: str  # success | failed | unchanged
    stage_seconds: dict[str, float] = field(default_factory=dict)  # e.g. ingest, transform+quality, publish
    error: str | None = None  # "<stage>: <cause>", no personal data
    files: int | None = None  # files first seen by this refresh
    rows: int | None = None  # data rows it loaded
    # 'record': status/last_refresh.json; 'published': the analyst copy's meta.refresh (an older
    # warehouse), which knows the last published refresh only, without stage times.
    source: str = "record"


@dataclass(frozen=True)
class RejectedFile:
    file_name: str
    town_code: str | None
    town_name: str | None
    month: date | None
    reason_zh: str
    resubmitted: bool  # the town's workbook for that month was accepted later


@dataclass(frozen=True)
class TownErrors:
    town_code: str | None  # None: findings tied to no town (e.g. a registry export)
    town_name: str
    errors: int


@dataclass(frozen=True)
class Status:
    today: date
    warehouse_dir: Path
    published_db: Path
    last_refresh: RefreshRecord | None
    published: bool  # the analyst database exists
    reporting_month: date  # last month
    deadline: date  # the 5th of this month
    unreported: list[Town] = field(default_factory=list)  # rural towns without an accepted workbook for it
    rejected: list[RejectedFile] = field(default_factory=list)
    not_read: list[str] = field(default_factory=list)  # inbox files outside towns/ and registries/
    errors_month: date | None = None  # latest month with findings
    errors_by_town: list[TownErrors] = field(default_factory=list)  # that month, severity error
    latest_month: date | None = None  # latest month in the published KPIs
    published_refresh: RefreshRecord | None = None  # the refresh the analyst database comes from

    @property
    def days_left(self) -> int:
        """Days until the deadline: 0 on the 5th, negative once it has passed."""
        return (self.deadline - self.today).days

    @property
    def never_refreshed(self) -> bool:
        return self.last_refresh is None and not self.published

    @property
    def failed(self) -> bool:
        return self.last_refresh is not None and self.last_refresh.status == "failed"

    @property
    def healthy(self) -> bool:
        return self.published and not self.failed

    @property
    def exit_code(self) -> int:
        """`ruralcare status`: 1 when the last refresh failed, else 0 (also before the first refresh)."""
        return 1 if self.failed else 0


def reporting_month(today: date) -> tuple[date, date]:
    """(the month the towns report now, its deadline): last month, due by the 5th of this month."""
    month = add_months(today.replace(day=1), -1)
    return month, submission_deadline(month)


def read_refresh_record(work_db: Path) -> RefreshRecord | None:
    """The last refresh's record beside the working database, or None when there is none yet."""
    path = status_record_path(work_db)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable refresh record ({error}); the next refresh rewrites it") from None
    return RefreshRecord(
        refresh_id=record["refresh_id"],
        started=_moment(record.get("started")),
        finished=_moment(record.get("finished")),
        status=record["status"],
        stage_seconds={stage: float(seconds) for stage, seconds in (record.get("stage_seconds") or {}).items()},
        error=record.get("error"),
        files=record.get("files"),
        rows=record.get("rows"),
    )


def collect_status(settings: Settings, today: date | None = None) -> Status:
    """The status facts for a warehouse; today is injectable for tests (default: the local date)."""
    today = today or date.today()
    month, deadline = reporting_month(today)
    last = read_refresh_record(settings.work_db)
    base = dict(today=today, warehouse_dir=settings.warehouse_dir, published_db=settings.published_db,
                reporting_month=month, deadline=deadline, not_read=stray_files(settings.sources_dir))
    if not settings.published_db.exists():
        return Status(last_refresh=last, published=False, **base)
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        published_refresh = _last_published_refresh(con)
        return Status(
            last_refresh=last or published_refresh,
            published=True,
            published_refresh=published_refresh,
            unreported=_unreported(con, month),
            rejected=_rejected(con),
            latest_month=con.execute("select max(month) from marts.kpi_town_monthly").fetchone()[0],
            **_open_errors(con),
            **base,
        )
    finally:
        con.close()


def _last_published_refresh(con: duckdb.DuckDBPyConnection) -> RefreshRecord | None:
    row = con.execute("""
        select refresh_id, started, finished, status, files, rows, error from meta.refresh
        order by finished desc nulls last limit 1""").fetchone()
    if row is None:
        return None
    refresh_id, started, finished, status, files, rows, error = row
    return RefreshRecord(refresh_id, _utc(started), _utc(finished), status, {}, error, files, rows,
                         source="published")


def _unreported(con: duckdb.DuckDBPyConnection, month: date) -> list[Town]:
    # Reported = a loaded or superseded workbook for the month (K30's reading); a rejected one is not.
    rows = con.execute("""
        select town_code, town_name from marts.dim_town as t
        where is_rural_scope and not exists (
            select 1 from quality.files as f
            where f.kind = 'town_workbook' and f.status in ('loaded', 'superseded')
              and f.town_code = t.town_code and f.month = ?)
        order by town_code""", [month]).fetchall()
    return [Town(*row) for row in rows]


def _rejected(con: duckdb.DuckDBPyConnection) -> list[RejectedFile]:
    rows = con.execute("""
        select f.file_name, f.town_code, t.town_name, f.month, coalesce(f.reason_zh, ''),
               exists (select 1 from quality.files as later
                       where later.kind = 'town_workbook' and later.status in ('loaded', 'superseded')
                         and later.town_code = f.town_code and later.month = f.month) as resubmitted
        from quality.files as f left join marts.dim_town as t using (town_code)
        where f.status = 'rejected'
        order by f.loaded_at desc, f.file_name""").fetchall()
    return [RejectedFile(*row) for row in rows]


def _open_errors(con: duckdb.DuckDBPyConnection) -> dict:
    """Error findings of the latest month with findings, per town: what the towns still have to fix."""
    month = con.execute("select max(month) from quality.findings").fetchone()[0]
    rows = con.execute("""
        select f.town_code, coalesce(t.town_name, '（未对应镇街）'), count(*) as errors
        from quality.findings as f left join marts.dim_town as t using (town_code)
        where f.severity = 'error' and f.month = ?
        group by all order by errors desc, f.town_code nulls last""", [month]).fetchall()
    return {"errors_month": month, "errors_by_town": [TownErrors(*row) for row in rows]}


def _moment(text: str | None) -> datetime | None:
    return _utc(datetime.fromisoformat(text)) if text else None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def render_status(status: Status, console) -> None:
    """The status in the terminal (a rich Console): refresh, reporting, rejected files, open errors."""
    from rich.markup import escape
    from rich.table import Table

    if status.never_refreshed:
        console.print(f"[yellow]No refresh yet[/] in {status.warehouse_dir}: put the towns' workbooks and the "
                      "registry exports into the inbox and run `ruralcare refresh` (or `make demo` for sample data).")
        return
    last = status.last_refresh
    if last is None:
        console.print(f"[yellow]No refresh recorded[/] for {status.warehouse_dir}; run `ruralcare refresh`.")
    else:
        colour = {"failed": "red", "unchanged": "dim"}.get(last.status, "green")
        console.print(f"[bold]Last refresh[/] {last.refresh_id}: [{colour}]{last.status}[/] "
                      f"({STATUS_LABELS_ZH.get(last.status, last.status)}), started {_local(last.started)}, "
                      f"finished {_local(last.finished)}; {last.files or 0} new file(s), {last.rows or 0} row(s)")
        if last.stage_seconds:
            console.print("  stages: " + ", ".join(f"{stage} {seconds:.1f} s"
                                                   for stage, seconds in last.stage_seconds.items()))
        elif last.source == "published":
            console.print("  [dim](from the published database: the last published refresh, without stage times)[/]")
        if last.error:
            console.print(f"  [red]error[/]: {escape(last.error)}")
            console.print("  The published database was left as it was; fix the cause and run `ruralcare refresh`.")
    if not status.published:
        console.print(f"[yellow]No published database[/] at {status.published_db}: run `ruralcare refresh`.")
        return
    shown = status.published_refresh
    if shown and last and shown.refresh_id != last.refresh_id:
        console.print(f"  published data: refresh {shown.refresh_id}, finished {_local(shown.finished)}")
    when = (f"{status.days_left} day(s) left" if status.days_left > 0 else
            "due today" if status.days_left == 0 else f"{-status.days_left} day(s) overdue")
    heading = (f"[bold]Reporting {status.reporting_month:%Y-%m}[/] (due {status.deadline:%Y-%m-%d}, {when}; "
               f"latest month loaded {status.latest_month:%Y-%m})" if status.latest_month else
               f"[bold]Reporting {status.reporting_month:%Y-%m}[/] (due {status.deadline:%Y-%m-%d}, {when})")
    console.print(heading)
    if status.unreported:
        console.print(f"  [yellow]{len(status.unreported)} town(s) have not reported[/]: "
                      + escape("、".join(town.town_name for town in status.unreported)))
    else:
        console.print("  [green]every town has reported[/]")
    if status.rejected:
        console.print(f"[bold]Rejected files[/] ({len(status.rejected)}; each moved to the inbox's rejected/ "
                      "with a .reason.txt)")
        # A file rejected before its town and month were read has neither: no columns for them then.
        identified = any(file.town_code for file in status.rejected)
        table = Table()
        table.add_column("file", overflow="fold")
        if identified:
            table.add_column("town, month")
        table.add_column("reason", overflow="fold")
        if identified:
            table.add_column("since resubmitted")
        for file in status.rejected:
            where = " ".join(filter(None, [file.town_name, file.month and f"{file.month:%Y-%m}"]))
            cells = ([escape(file.file_name), escape(where), escape(file.reason_zh), "yes" if file.resubmitted else ""]
                     if identified else [escape(file.file_name), escape(file.reason_zh)])
            table.add_row(*cells)
        console.print(table)
    else:
        console.print("[green]No rejected files.[/]")
    if status.not_read:
        print_paths(console, f"[yellow]Files not read[/] ({len(status.not_read)}; in the inbox but outside towns/ "
                             "and registries/: move them there)", status.not_read)
    if status.errors_by_town:
        console.print(f"[bold]Open error findings[/] ({status.errors_month:%Y-%m}, the latest month with findings)")
        table = Table()
        table.add_column("town")
        table.add_column("errors", justify="right")
        for town in status.errors_by_town:
            table.add_row(escape(town.town_name), str(town.errors))
        console.print(table)
        console.print("  Details: quality.findings in the published database, or `ruralcare feedback --month YYYY-MM`.")
    else:
        console.print("[green]No open error findings.[/]")


def print_paths(console, heading: str, paths: list[str], shown: int = 10) -> None:
    """A heading, then the first `shown` paths (as text, not markup) and how many more."""
    from rich.markup import escape

    console.print(heading)
    for path in paths[:shown]:
        console.print(f"  {escape(path)}")
    if len(paths) > shown:
        console.print(f"  … and {len(paths) - shown} more")


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"
