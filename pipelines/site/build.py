"""build_site: the progress site (static HTML in Chinese) from the published database.

Every page is a plain file with relative links and its CSS inline, so the folder opens from a
shared drive (file://) or any web server, without internet. The site is written into a
sibling folder and swapped in at the end: a reader never sees half a site.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipelines.catalogue import status_limits
from pipelines.progress import report as report_progress
from pipelines.report.content import (
    KIND_SHORT, MONEY_KPIS, basis_text, completion, date_cell, kpi_label, kpi_value_cell, status_cell,
    status_legend,
)
from pipelines.report.data import Kpi
from pipelines.report.fmt import (
    DASH, fmt_change, fmt_count, fmt_date, fmt_month, fmt_percent, fmt_value, fmt_wan_yuan,
)
from pipelines.report.labels import status_colours
from pipelines.settings import PROJECT_ROOT, Settings
from pipelines.site import parts, reuse
from pipelines.site.data import PERSON, SiteData, load_site_data
from pipelines.status import STATUS_LABELS_ZH, Status, collect_status

TEMPLATES_DIR = PROJECT_ROOT / "reports" / "templates" / "site"
SITE_CSS = TEMPLATES_DIR / "site.css"
# Written into the site's folder: only a folder holding it is ever replaced by a new build.
MARKER = ".ruralcare-site"
# Sites of at least this many pages are written by a process per core (site_workers), in tasks of
# PAGES_PER_TASK pages. The district's 18 months are ≈ 4,300 pages, a city's 2 months ≈ 31,600.
PARALLEL_FROM_PAGES = 2_000
PAGES_PER_TASK = 200
# A large site is drawn in rounds of whole months, each with at most this many members pages
# (member_rounds): a district's 18 months are one round (≈ 4,000), a city's month ≈ 15,800.
MEMBER_PAGES_PER_ROUND = 8_000
# A page to write: (path, template, context, the earlier site to keep it from, or None to draw it).
PageTask = tuple[str, str, dict, Path | None]
SITE_TITLE = "渝北区农村养老服务全覆盖工作进展"
MEMBER_KINDS = {"village": "村", "facility": "设施", "project": "项目", "person": "人员", "payment": "拨付记录",
                "row": "填报行", "town": "镇街"}


@dataclass(frozen=True)
class KpiRow:
    kpi: Kpi
    label: str
    kind: str
    value: str
    target: str
    due: str
    expected: str
    completion: str
    status: str
    status_class: str
    change: str
    rank: str
    sparkline: Markup
    members_href: str | None = None
    not_counted: int | None = None


def _kpi_row(data: SiteData, month: date, kpi: Kpi, row: dict | None, previous: dict | None,
             history: list[float | None]) -> KpiRow:
    progress = kpi.kind == "progress"
    shown = status_cell(row, kpi.kind)
    return KpiRow(
        kpi=kpi,
        label=kpi_label(kpi.name_zh, kpi.unit),
        kind=KIND_SHORT.get(kpi.kind, kpi.kind),
        value=kpi_value_cell(row, kpi.unit).text,
        target=kpi_value_cell(row, kpi.unit, "target").text if row and row["target"] is not None else DASH,
        due=date_cell(row["due_date"] if row else None).text,
        expected=(kpi_value_cell(row, kpi.unit, "expected").text
                  if progress and row and row["expected"] is not None else DASH),
        completion=fmt_percent(completion(row)) if progress else DASH,
        status=shown.text,
        status_class=parts.status_class(row["status"] if row else None),
        change=fmt_change(row["value"] if row else None, previous["value"] if previous else None, kpi.unit),
        rank=fmt_count(row.get("rank")) if row and row.get("rank") is not None else DASH,
        sparkline=Markup(parts.sparkline_svg(history, _months_to(data, month), kpi.unit,
                                             row["target"] if row else None, row["status"] if row else None)),
    )


def _months_to(data: SiteData, month: date) -> list[date]:
    return [m for m in data.months if m <= month]


def overview_rows(data: SiteData, month: date) -> list[KpiRow]:
    previous = parts.neighbour(data.months, month, -1)
    return [
        _kpi_row(data, month, kpi, data.district_row(month, kpi.kpi_id),
                 data.district_row(previous, kpi.kpi_id) if previous else None,
                 [(data.district_row(m, kpi.kpi_id) or {}).get("value") for m in _months_to(data, month)])
        for kpi in data.kpis
    ]


def town_rows(data: SiteData, month: date, town_code: str, page: str) -> list[KpiRow]:
    previous = parts.neighbour(data.months, month, -1)
    rows = []
    for kpi in data.kpis:
        row = data.town_row(month, town_code, kpi.kpi_id)
        built = _kpi_row(data, month, kpi, row,
                         data.town_row(previous, town_code, kpi.kpi_id) if previous else None,
                         [(data.town_row(m, town_code, kpi.kpi_id) or {}).get("value")
                          for m in _months_to(data, month)])
        members = data.town_members(month, town_code, kpi.kpi_id)
        if members:
            summary = parts.summarise_members(members)
            built = replace(built, members_href=parts.relative(page, parts.members_path(month, town_code, kpi.kpi_id)),
                            not_counted=summary.not_counted)
        rows.append(built)
    return rows


@dataclass(frozen=True)
class TownLine:
    """A town on the overview: its overall rank and how many KPIs are at each colour."""
    code: str
    name: str
    rank: str
    href: str
    counts: dict[str, int]
    late: int
    errors: int
    stale: bool


def town_lines(data: SiteData, month: date, page: str) -> list[TownLine]:
    late = {}
    for forecast in (data.forecasts or {}).get(month, []):
        if forecast["is_forecast_late"]:
            late[forecast["town_code"]] = late.get(forecast["town_code"], 0) + 1
    lines = []
    for town in data.towns:
        rows = [data.town_row(month, town.code, k.kpi_id) for k in data.kpis]
        rows = [r for r in rows if r]
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("done", "green", "yellow", "red")}
        rank = (data.ranks.get((month, town.code)) or {}).get("overall_rank")
        lines.append(TownLine(town.code, town.name, fmt_count(rank), parts.relative(page, parts.town_path(month, town.code)),
                              counts, late.get(town.code, 0), data.errors.get((month, town.code), 0),
                              any(r["stale"] for r in rows)))
    return sorted(lines, key=lambda t: (t.rank == DASH, int(t.rank) if t.rank != DASH else 0, t.code))


@dataclass(frozen=True)
class ForecastLine:
    town_code: str
    town_name: str
    town_href: str
    kpi_id: str
    kpi_name: str
    value: str
    target: str
    due: str
    pace: str
    projected: str
    completion: str
    status: str
    status_class: str


def forecast_lines(data: SiteData, month: date, page: str, town_code: str | None = None,
                   late_only: bool = False) -> list[ForecastLine]:
    """The month's forecasts (one town's, or the late ones), values in the KPI's unit."""
    units = {k.kpi_id: k.unit for k in data.kpis}
    lines = []
    for f in data.town_forecasts(month, town_code) if town_code else (data.forecasts or {}).get(month, []):
        if late_only and not f["is_forecast_late"]:
            continue
        unit = units.get(f["kpi_id"])
        pace = f["pace_per_month"]
        lines.append(ForecastLine(
            town_code=f["town_code"], town_name=f["town_name"],
            town_href=parts.relative(page, parts.town_path(month, f["town_code"])),
            kpi_id=f["kpi_id"], kpi_name=f["kpi_name_zh"],
            value=fmt_value(f["value"], unit), target=fmt_value(f["milestone_target"], unit),
            due=fmt_date(f["milestone_due_date"]),
            pace=DASH if pace is None else fmt_change(pace, 0.0, unit),
            projected=fmt_value(f["projected_value"], unit),
            completion=fmt_month(f["expected_completion_month"]) if f["expected_completion_month"] else DASH,
            status=f["forecast_status"], status_class=parts.forecast_class(f["forecast_status"]),
        ))
    return lines


@dataclass(frozen=True)
class MemberLine:
    kind: str
    name: str
    village: str
    group: str
    counted: bool
    members: int
    numerator: str
    denominator: str
    reason: str
    source: str


# Kinds whose id a reader knows (village code, facility or project id); a payment's or a row's id
# is internal and its file, sheet and row are in the source column.
NAMED_BY_ID = ("village", "facility", "project", "town")


def _member_name(row: dict) -> str:
    if row["member_kind"] == PERSON:
        return "（按村汇总）"
    if row["member_name"]:
        return row["member_name"]
    return row["member_id"] if row["member_kind"] in NAMED_BY_ID and row["member_id"] else DASH


def member_lines(kpi_id: str, rows: list[dict]) -> list[MemberLine]:
    """The members not counted in the numerator first, then the counted ones."""
    money = kpi_id in MONEY_KPIS
    shown = fmt_wan_yuan if money else fmt_count
    lines = []
    for row in sorted(rows, key=lambda r: (bool(r["in_numerator"]), r["village_code"] or "", r["member_id"] or "")):
        lines.append(MemberLine(
            kind=MEMBER_KINDS.get(row["member_kind"], row["member_kind"]),
            name=_member_name(row),
            village=row["village_name"] or DASH,
            group=row["person_group"] or DASH,
            counted=bool(row["in_numerator"]),
            members=row["members"],
            numerator=shown(row["numerator_value"]),
            denominator=shown(row["denominator_value"]),
            reason=row["reason_zh"] or DASH,
            source=parts.source_text(row),
        ))
    return lines


class SiteWriter:
    """Renders the pages into a folder; knows every page of the site (the month picker's links)."""

    def __init__(self, data: SiteData, status: Status, root: Path) -> None:
        self.data = data
        self.status = status
        self.root = root
        # auto_reload off: the templates are read once per build, not checked for changes per page.
        self.environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), undefined=StrictUndefined,
                                       autoescape=select_autoescape(["html", "j2"]), auto_reload=False)
        self.css = Markup(site_css())
        self.legend = status_legend(status_limits())
        self.pages: set[str] = set()
        self._folders: set[Path] = set()

    def plan(self) -> list[tuple[str, str, dict]]:
        """(page, template, context) of every page, so the picker knows all pages before any is drawn."""
        data = self.data
        pages = [(parts.STATUS_PATH, "status.html.j2", {"month": None})]
        for month in data.months:
            pages.append((parts.overview_path(month), "overview.html.j2", {"month": month}))
            pages.append((parts.warnings_path(month), "warnings.html.j2", {"month": month}))
            for town in data.towns:
                pages.append((parts.town_path(month, town.code), "town.html.j2", {"month": month, "town": town}))
                for kpi in data.kpis:
                    if data.has_members(month, town.code, kpi.kpi_id):
                        pages.append((parts.members_path(month, town.code, kpi.kpi_id), "members.html.j2",
                                      {"month": month, "town": town, "kpi": kpi}))
        return pages

    def write_all(self, kept_from: Path | None = None,
                  months_kept: Collection[date] = ()) -> tuple[list[str], int]:
        """Every page, in plan order, and how many were kept; by a process per core when many pages
        are to be drawn. The pages of months_kept are linked from the earlier build in kept_from
        (pipelines/site/reuse.py)."""
        planned = self.plan()
        self.pages = {page for page, _, _ in planned} | {parts.INDEX_PATH}
        tasks = [(page, template, context, kept_from if context["month"] in months_kept else None)
                 for page, template, context in planned]
        to_draw = sum(1 for *_, earlier in tasks if earlier is None)
        workers = site_workers(to_draw)
        if workers > 1:
            kept = done = 0
            for round_tasks in member_rounds(tasks, MEMBER_PAGES_PER_ROUND):
                months = {context["month"] for _, _, context, earlier in round_tasks if earlier is None}
                # before the workers fork, so that they share the rows: this round's months only
                self.data.read_members_only(month for month in months if month)
                kept += self._write_in_workers(round_tasks, workers, done, len(tasks))
                done += len(round_tasks)
        else:
            kept = 0
            for done, task in enumerate(tasks, start=1):
                kept += self.write_or_keep(*task)
                if done % 50 == 0 or done == len(tasks):
                    report_progress("pages", done, len(tasks))
        self.write_nav(planned)
        # Before any town has reported (an empty inbox) the site is its status page.
        latest = self.data.months[-1] if self.data.months else None
        self.write(parts.INDEX_PATH, "index.html.j2", month=latest,
                   target=parts.overview_path(latest) if latest else parts.STATUS_PATH,
                   picker=parts.month_picker(parts.INDEX_PATH, latest, self.data.months, self.pages))
        return [page for page, _, _ in planned] + [parts.INDEX_PATH], kept

    def write_or_keep(self, page: str, template: str, context: dict, earlier_site: Path | None) -> bool:
        """Keep the page from earlier_site if given and possible, else draw it; True when kept."""
        if earlier_site is not None and self.keep(earlier_site, page):
            return True
        self.write(page, template, **context)
        return False

    def keep(self, earlier_site: Path, page: str) -> bool:
        """The earlier build's page, linked (a month's page holds nothing of other months or of
        the refresh: reports/templates/site/chrome.html.j2); False when it has no such page."""
        path = self.root / page
        self._make_folder(path.parent)
        try:
            os.link(earlier_site / page, path)
        except OSError:  # no such page, or a folder that cannot hold links
            return False
        return True

    def write(self, page: str, template: str, month: date | None, **context) -> None:
        data = self.data
        latest = data.months[-1] if data.months else None
        link = partial(parts.relative, page)
        shown = month or latest
        html = self.environment.get_template(template).render(
            css=self.css, title=SITE_TITLE, page=page, month=month, fmt_month=fmt_month,
            fmt_date=fmt_date, fmt_count=fmt_count, status=self.status, refresh_labels=STATUS_LABELS_ZH, when=_when,
            root=parts.relative(page, ""), refreshed_at=data.refreshed_at,
            home=link(parts.overview_path(shown) if shown else parts.STATUS_PATH),
            warnings=link(parts.warnings_path(shown) if shown else parts.STATUS_PATH),
            status_page=link(parts.STATUS_PATH),
            legend=self.legend,
            views=_views(data, page, template, month, context),
            **context,
        )
        self._save(page, html)

    def _save(self, page: str, html: str) -> None:
        path = self.root / page
        self._make_folder(path.parent)
        path.write_text(html, encoding="utf-8")

    def _make_folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def write_nav(self, planned: list[tuple[str, str, dict]]) -> None:
        """site-nav.js: the months, each month's members pages (of `planned`, the plan's pages) and
        the refresh time, with the code that draws every month's page's picker and footer time."""
        kpis = [kpi.kpi_id for kpi in self.data.kpis]
        position = {kpi_id: str(at) for at, kpi_id in enumerate(kpis)}
        members: dict[str, dict[str, list[str]]] = {}  # month → town → positions in kpis
        for _, template, context in planned:
            if template == "members.html.j2":
                towns = members.setdefault(parts.month_dir(context["month"]), {})
                towns.setdefault(context["town"].code, []).append(position[context["kpi"].kpi_id])
        facts = {
            "months": [[parts.month_dir(m), fmt_month(m)] for m in sorted(self.data.months, reverse=True)],
            "kpis": kpis,
            # By position in kpis: a city's year of members pages would be MBs of KPI ids.
            "members": {month: {town: " ".join(found) for town, found in towns.items()}
                        for month, towns in members.items()},
            "refreshedAt": _when(self.data.refreshed_at),
        }
        code = (TEMPLATES_DIR / "site-nav.js").read_text(encoding="utf-8")
        self._save(parts.NAV_SCRIPT_PATH, f"var RURALCARE_SITE = {json.dumps(facts, ensure_ascii=False)};\n{code}")

    def _write_in_workers(self, tasks: list[PageTask], workers: int,
                          done_before: int, total: int) -> int:
        """The pages by `workers` processes; how many were kept. Jinja is pure Python (a city's pages
        took 15 s in one process), and a kept page is a file written too. The workers are forked
        from this process, so they start with its data and templates: spawned ones each imported
        the site's modules and loaded the data again (≈ 1.5 s of a district's 3.6 s site)."""
        global _worker_writer
        chunks = [tasks[start:start + PAGES_PER_TASK] for start in range(0, len(tasks), PAGES_PER_TASK)]
        done, kept = done_before, 0
        _worker_writer = self
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                     initializer=_silence_standard_streams) as pool:
                for written, kept_now in pool.map(_write_pages, chunks):
                    done, kept = done + written, kept + kept_now
                    report_progress("pages", done, total)
        finally:
            _worker_writer = None
        return kept


def member_rounds(tasks: list[PageTask],
                  member_pages: int) -> list[list[PageTask]]:
    """The tasks (in plan order: a month's pages together) in rounds of whole months, each drawing
    at most `member_pages` members pages unless one month alone draws more. A round's member rows
    are read before its workers fork; all of a city's months at once made the builder grow with
    every month drawn (a city's four months: 1.9 GB, the workers with it 2.5 GB proportional; by
    month 0.8 and 0.9 GB)."""
    drawn = Counter(context["month"] for _, template, context, earlier in tasks
                    if template == "members.html.j2" and earlier is None)
    rounds: list[list[PageTask]] = []
    current: list[PageTask] = []
    in_current, current_month = 0, None
    for task in tasks:
        month = task[2]["month"]
        if month is not None and month != current_month:
            current_month = month
            if in_current and in_current + drawn[month] > member_pages:
                rounds.append(current)
                current, in_current = [], 0
            in_current += drawn[month]
        current.append(task)
    return rounds + [current] if current else rounds


def site_workers(pages: int) -> int:
    """Processes writing the pages: one per core for a large site, this one for a small one (each
    worker starts Python and loads the site's data again)."""
    return max(1, os.cpu_count() or 1) if pages >= PARALLEL_FROM_PAGES else 1


_worker_writer: SiteWriter | None = None  # the forked workers' (SiteWriter._write_in_workers)


def _silence_standard_streams() -> None:
    """A worker prints nothing (its errors come back to the caller), and must not wait on a
    standard stream's lock that another thread of the parent held when it forked (a progress bar's)."""
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")


def _write_pages(chunk: list[PageTask]) -> tuple[int, int]:
    """(pages written, of them kept) of one task."""
    return len(chunk), sum(_worker_writer.write_or_keep(*task) for task in chunk)


def _views(data: SiteData, page: str, template: str, month: date | None, context: dict) -> dict:
    """The tables one page shows."""
    if template == "overview.html.j2":
        return {"kpis": overview_rows(data, month), "towns": town_lines(data, month, page),
                "late": sum(1 for f in (data.forecasts or {}).get(month, []) if f["is_forecast_late"])}
    if template == "town.html.j2":
        town = context["town"]
        rank = data.ranks.get((month, town.code)) or {}
        return {"kpis": town_rows(data, month, town.code, page), "rank": rank,
                "forecasts": forecast_lines(data, month, page, town_code=town.code),
                "towns_ranked": data.towns_ranked(month),
                "members_published": data.members_published}
    if template == "members.html.j2":
        town, kpi = context["town"], context["kpi"]
        rows = data.town_members(month, town.code, kpi.kpi_id)
        kpi_row = data.town_row(month, town.code, kpi.kpi_id)
        return {"lines": member_lines(kpi.kpi_id, rows), "summary": parts.summarise_members(rows),
                "kpi_row": kpi_row, "value": kpi_value_cell(kpi_row, kpi.unit).text,
                "basis": basis_text(kpi.kpi_id, kpi_row, kpi.unit),
                "town_href": parts.relative(page, parts.town_path(month, town.code)),
                "money": kpi.kpi_id in MONEY_KPIS, "has_persons": any(r["member_kind"] == PERSON for r in rows)}
    if template == "warnings.html.j2":
        forecasts = (data.forecasts or {}).get(month, [])
        by_status: dict[str, int] = {}
        for forecast in forecasts:
            by_status[forecast["forecast_status"]] = by_status.get(forecast["forecast_status"], 0) + 1
        return {"late": forecast_lines(data, month, page, late_only=True), "by_status": by_status, "published": data.forecasts is not None}
    return {}


def _when(moment: datetime | None) -> str:
    """A moment in the machine's local time (the bureau's); naive moments are UTC, as meta.refresh keeps them."""
    if moment is None:
        return DASH
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return f"{aware.astimezone():%Y-%m-%d %H:%M}"


def site_css() -> str:
    """The site's stylesheet with the report's traffic-light colours (report.css), so a status
    looks the same on the site as in the report."""
    lights = "\n".join(f".st-{status} {{ background: {fill}; color: {text}; }}"
                       for status, (fill, text) in status_colours().items())
    return SITE_CSS.read_text(encoding="utf-8") + "\n" + lights + "\n"


def site_dir(settings: Settings) -> Path:
    """Where the site goes by default: reports/site beside the warehouse folder."""
    return settings.warehouse_dir.parent / "reports" / "site"


def build_site(published_db: Path, out_dir: Path, status: Status | None = None,
               today: date | None = None, log: Callable[[str], None] | None = None) -> list[Path]:
    """Write the whole site into out_dir (replacing an earlier build there); the files written,
    index.html first. status: the status page's facts (default: collected for the warehouse
    folder the published database is in). The pages of months whose figures are unchanged since
    the build in out_dir are taken from it (pipelines/site/reuse.py); log hears how many."""
    published_db, out_dir = Path(published_db), Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise ValueError(f"{out_dir} holds files that are not a ruralcare site: choose an empty or new folder "
                         "with --out (the site replaces the folder's content)")
    data = load_site_data(published_db)
    status = status or collect_status(
        Settings.from_env(warehouse_dir=published_db.parent, published_db=published_db), today)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        writer = SiteWriter(data, status, staging)
        fingerprints = reuse.month_fingerprints(data, reuse.published_month_contents(published_db),
                                                reuse.drawing_fingerprint(), [writer.css, writer.legend])
        earlier = out_dir if (out_dir / MARKER).exists() else None
        months_kept = reuse.months_to_keep(reuse.recorded_fingerprints(earlier), fingerprints) if earlier else set()
        written, kept = writer.write_all(kept_from=earlier, months_kept=months_kept)
        if log and months_kept:
            log(f"{kept} of {len(written)} pages kept from the last build "
                f"(months with unchanged figures: {', '.join(sorted(f'{m:%Y-%m}' for m in months_kept))})")
        reuse.record_fingerprints(staging, fingerprints)
        (staging / MARKER).write_text("built by `ruralcare site` from the published database\n", encoding="utf-8")
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ordered = [parts.INDEX_PATH, *[p for p in written if p != parts.INDEX_PATH]]
    return [out_dir / page for page in ordered]


def _swap_in(staging: Path, out_dir: Path) -> None:
    """The new build takes the folder's name; the earlier one is deleted by a process of its own
    (a city's 31,600 files take ≈ 2 s to delete, which the refresh need not wait for)."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{time.time_ns()}"
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    delete_in_background(old_builds(out_dir))


def old_builds(out_dir: Path) -> list[Path]:
    """Earlier builds swapped out of out_dir and not yet deleted (also those whose deletion was cut off)."""
    return sorted(out_dir.parent.glob(f".{out_dir.name}.old-*"))


def delete_in_background(folders: list[Path]) -> subprocess.Popen | None:
    """Delete the folders in a process that outlives this one (its own session); None if none."""
    if not folders:
        return None
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c",
         "import shutil, sys\nfor folder in sys.argv[1:]: shutil.rmtree(folder, ignore_errors=True)",
         *map(str, folders)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
