"""Everything one district's report shows, read from the published (de-identified) database.

Only the published marts (docs/analysts.md) are read; findings are read as counts by town and rule,
so no person-level row ever leaves the database for the report. A city warehouse holds several
districts (marts.kpi_district_monthly.district_code): the report is one district's, its towns
those of marts.dim_town with that district_code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.report.fmt import add_months, fmt_month
from pipelines.tables import dict_rows, has_table


@dataclass(frozen=True)
class Kpi:
    kpi_id: str
    name_zh: str
    kind: str
    unit: str | None
    definition_zh: str | None


@dataclass(frozen=True)
class Town:
    code: str
    name: str


@dataclass(frozen=True)
class District:
    code: str
    name: str


@dataclass(frozen=True)
class Submission:
    """The town's workbooks for the month as quality.files records them."""

    town_code: str
    accepted_files: int
    rejected_files: int
    first_submission: date | None


@dataclass
class ReportData:
    month: date
    district: District
    kpis: list[Kpi]
    towns: list[Town]
    # (month, kpi_id) → the district's row of marts.kpi_district_monthly, every month up to the report month
    district_kpis: dict[tuple[date, str], dict]
    # (town_code, kpi_id) → row of marts.kpi_town_monthly for the report month
    town: dict[tuple[str, str], dict]
    # town_code → row of marts.town_rank_monthly for the report month
    ranks: dict[str, dict]
    # dim_project rows with the month's reported status, built, overdue, area and beds
    projects: list[dict]
    # (town_code or None, rule_id, severity) → number of findings in the month; None (files no town
    # could be read from) only in a one-district warehouse, where they can only be the district's
    finding_counts: dict[tuple[str | None, str, str], int] | None
    submissions: dict[str, Submission] | None
    refreshed_at: datetime | None = None
    months: list[date] = field(default_factory=list)
    # rows of marts.kpi_forecast_monthly for the month whose forecast is 预计逾期 (None: no such mart)
    forecast_late: list[dict] | None = None

    @property
    def previous_month(self) -> date:
        return add_months(self.month, -1)

    def kpi(self, kpi_id: str) -> Kpi | None:
        return next((k for k in self.kpis if k.kpi_id == kpi_id), None)

    def district_row(self, kpi_id: str, month: date | None = None) -> dict | None:
        return self.district_kpis.get((month or self.month, kpi_id))

    def town_row(self, town_code: str, kpi_id: str) -> dict | None:
        return self.town.get((town_code, kpi_id))

    def stale_towns(self) -> list[Town]:
        """Towns that sent no workbook for the month (their rows are carried forward)."""
        return [t for t in self.towns
                if any(row["stale"] for (code, _), row in self.town.items() if code == t.code)]


def report_months(published_db: Path) -> list[date]:
    """The months the published database has KPIs for, oldest first."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select distinct month from marts.kpi_district_monthly order by month").fetchall()]


def report_districts(published_db: Path) -> list[District]:
    """The districts the published database has KPIs for, by code."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        return districts_of(con)


def districts_of(con: duckdb.DuckDBPyConnection) -> list[District]:
    return [District(code, name) for code, name in con.execute(
        "select distinct district_code, district_name from marts.kpi_district_monthly order by 1").fetchall()]


def district_list(districts: list[District]) -> str:
    return ", ".join(f"{d.code} {d.name}" for d in districts)


def choose_district(districts: list[District], wanted: str | None, where: Path) -> District:
    """The district a report is for: by code or name; none named is fine only when there is one."""
    if not districts:
        raise ValueError(f"{where} has no district KPIs yet: run `ruralcare refresh` first")
    if wanted is None:
        if len(districts) == 1:
            return districts[0]
        raise ValueError(f"{where} holds {len(districts)} districts: name the report's district with "
                         f"--district CODE ({district_list(districts)}), or rank them with --city")
    wanted = wanted.strip()
    for district in districts:
        if wanted in (district.code, district.name):
            return district
    raise ValueError(f"no district {wanted!r} in {where}: choose one of {district_list(districts)}")


def require_month(months: list[date], month: date, where: Path) -> None:
    if month not in months:
        span = f"{fmt_month(months[0])}至{fmt_month(months[-1])}" if months else "无"
        raise ValueError(f"{where} has no KPIs for {month:%Y-%m} (months available: {span})")


# The chosen district's towns; the report's every town-level read is limited to them.
DISTRICT_TOWNS = "select town_code from marts.dim_town where district_code = $district"


def load_report_data(published_db: Path, month: date, district: str | None = None) -> ReportData:
    """The report's data for `district` (code or name; may be left out in a one-district warehouse)."""
    if not published_db.exists():
        raise FileNotFoundError(f"published database {published_db} does not exist: run `ruralcare refresh` first")
    with duckdb.connect(str(published_db), read_only=True) as con:
        districts = districts_of(con)
        chosen = choose_district(districts, district, published_db)
        scope = {"district": chosen.code, "month": month}
        months = [r[0] for r in con.execute(
            "select distinct month from marts.kpi_district_monthly where district_code = ? order by month",
            [chosen.code]).fetchall()]
        require_month(months, month, published_db)
        kpis = [Kpi(**r) for r in dict_rows(
            con, "select kpi_id, name_zh, kind, unit, definition_zh from marts.dim_kpi order by kpi_id")]
        towns = [Town(r["town_code"], r["town_name"]) for r in dict_rows(con, f"""
            select distinct town_code, town_name from marts.kpi_town_monthly
            where town_code in ({DISTRICT_TOWNS}) order by town_code""", {"district": chosen.code})]
        district_rows = {(r["month"], r["kpi_id"]): r for r in dict_rows(con, """
            select * from marts.kpi_district_monthly where district_code = $district and month <= $month
            order by month, kpi_id""", scope)}
        town = {(r["town_code"], r["kpi_id"]): r for r in dict_rows(con, f"""
            select * from marts.kpi_town_monthly
            where month = $month and town_code in ({DISTRICT_TOWNS})""", scope)}
        ranks = {r["town_code"]: r for r in dict_rows(con, f"""
            select town_code, mean_rank, overall_rank from marts.town_rank_monthly
            where month = $month and town_code in ({DISTRICT_TOWNS})""", scope)}
        projects = dict_rows(con, f"""
            select p.project_id, p.town_code, p.town_name, p.facility_name, p.facility_type,
                   p.build_mode, p.min_area_m2, p.due_date,
                   f.reported_status, coalesce(f.built, false) as built,
                   coalesce(f.overdue, false) as overdue,
                   fac.area_m2, fac.beds, fac.nursing_beds
            from marts.dim_project as p
            left join marts.fct_project_monthly as f
                on f.project_id = p.project_id and f.month = $month
            left join (
                select project_id, max(area_m2) as area_m2, max(beds) as beds,
                       max(nursing_beds) as nursing_beds
                from marts.fct_facility_monthly
                where month = $month and project_id is not null
                group by project_id
            ) as fac on fac.project_id = p.project_id
            where p.town_code in ({DISTRICT_TOWNS})
            order by p.project_id
        """, scope)
        finding_counts = None
        if has_table(con, "quality", "findings"):
            finding_counts = {
                (r["town_code"], r["rule_id"], r["severity"]): r["n"]
                for r in dict_rows(con, f"""
                    select town_code, rule_id, severity, count(*) as n
                    from quality.findings
                    where month = $month and (town_code in ({DISTRICT_TOWNS})
                                              or (town_code is null and $one_district))
                    group by all""", {**scope, "one_district": len(districts) == 1})
            }
        submissions = None
        if has_table(con, "quality", "files"):
            submissions = {
                r["town_code"]: Submission(r["town_code"], r["accepted"], r["rejected"], r["first_submission"])
                for r in dict_rows(con, f"""
                    select town_code,
                           count(*) filter (where status in ('loaded', 'superseded')) as accepted,
                           count(*) filter (where status = 'rejected') as rejected,
                           min(submission_date) filter (where status in ('loaded', 'superseded'))
                               as first_submission
                    from quality.files
                    where kind = 'town_workbook' and month = $month and town_code in ({DISTRICT_TOWNS})
                    group by town_code""", scope)
            }
        forecast_late = None
        if has_table(con, "marts", "kpi_forecast_monthly"):
            forecast_late = dict_rows(con, f"""
                select town_code, town_name, kpi_id, value, milestone_due_date, milestone_target,
                       pace_per_month, projected_value, expected_completion_month
                from marts.kpi_forecast_monthly
                where month = $month and forecast_status = '预计逾期' and town_code in ({DISTRICT_TOWNS})
                order by kpi_id, town_code""", scope)
        refreshed_at = None
        if has_table(con, "meta", "refresh"):
            refreshed_at = con.execute(
                "select max(finished) from meta.refresh").fetchone()[0]
    return ReportData(month=month, district=chosen, kpis=kpis, towns=towns, district_kpis=district_rows, town=town,
                      ranks=ranks, projects=projects, finding_counts=finding_counts, submissions=submissions,
                      refreshed_at=refreshed_at, months=months, forecast_late=forecast_late)
