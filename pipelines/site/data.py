"""What the progress site shows, read in one pass from the published (de-identified) database.

Only marts.*, quality.* and meta.* are read. Persons never leave the database one by one: the
members behind a KPI are read as villages, facilities, projects or rows, and persons only as
counts per village and group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.report.data import Kpi, Town, districts_of
from pipelines.tables import dict_rows, has_table

# Members of these kinds are listed one by one; persons are counted by village.
PERSON = "person"


@dataclass
class SiteData:
    months: list[date]
    kpis: list[Kpi]
    towns: list[Town]
    # (month, kpi_id) → the overview's row: marts.kpi_district_monthly's in a one-district warehouse,
    # marts.kpi_city_monthly's (every town of the site together) in a city's
    district: dict[tuple[date, str], dict]
    # (month, town_code, kpi_id) → row of marts.kpi_town_monthly
    town: dict[tuple[date, str, str], dict]
    # (month, town_code) → row of marts.town_rank_monthly
    ranks: dict[tuple[date, str], dict]
    # (month, town_code, kpi_id) of every KPI with members (a members page each); None: no members mart
    member_keys: set[tuple[date, str, str]] | None
    # month → rows of marts.kpi_forecast_monthly; None: no forecast mart
    forecasts: dict[date, list[dict]] | None
    # (month, town_code or None) → open error findings
    errors: dict[tuple[date, str | None], int]
    refreshed_at: datetime | None
    # Where the member rows are read from, a month at a time when its pages are drawn (`read_members`):
    # a new month's build keeps the other months' pages and needs only its own month's rows.
    published_db: Path
    _members: dict[tuple[date, str, str], list[dict]] = field(default_factory=dict, init=False, repr=False)
    _member_months: set[date] = field(default_factory=set, init=False, repr=False)

    @property
    def members_published(self) -> bool:
        return self.member_keys is not None

    def district_row(self, month: date, kpi_id: str) -> dict | None:
        return self.district.get((month, kpi_id))

    def town_row(self, month: date, town_code: str, kpi_id: str) -> dict | None:
        return self.town.get((month, town_code, kpi_id))

    def has_members(self, month: date, town_code: str, kpi_id: str) -> bool:
        return (month, town_code, kpi_id) in (self.member_keys or ())

    def town_members(self, month: date, town_code: str, kpi_id: str) -> list[dict]:
        """A KPI's member rows in a town and month, persons grouped by village (MEMBERS_SQL)."""
        if not self.has_members(month, town_code, kpi_id):
            return []
        self.read_members([month])
        return self._members.get((month, town_code, kpi_id), [])

    def read_members(self, months: Iterable[date]) -> None:
        """Read the member rows of these months, unless read already (one query for all of them)."""
        wanted = sorted({month for month in months if month not in self._member_months})
        if not wanted or self.member_keys is None:
            return
        with duckdb.connect(str(self.published_db), read_only=True) as con:
            for row in dict_rows(con, MEMBERS_SQL, {"months": wanted}):
                self._members.setdefault((row["month"], row["town_code"], row["kpi_id"]), []).append(row)
        self._member_months.update(wanted)

    def read_members_only(self, months: Iterable[date]) -> None:
        """The member rows of these months, and none of any other month's (a large site is drawn a
        few months at a time: pipelines/site/build.py, member_rounds)."""
        wanted = set(months)
        self._members = {key: rows for key, rows in self._members.items() if key[0] in wanted}
        self._member_months &= wanted
        self.read_members(wanted)

    # Indexes made on first use: every town page asks for its own forecasts and for the month's
    # number of ranked towns, which read through every town's rows (a city's 800 town pages a month).
    _town_forecasts: dict[tuple[date, str], list[dict]] | None = field(default=None, init=False, repr=False)
    _towns_ranked: dict[date, int] | None = field(default=None, init=False, repr=False)

    def town_forecasts(self, month: date, town_code: str) -> list[dict]:
        """One town's rows of marts.kpi_forecast_monthly for the month, in the month's order."""
        if self._town_forecasts is None:
            self._town_forecasts = {}
            for forecast_month, rows in (self.forecasts or {}).items():
                for row in rows:
                    self._town_forecasts.setdefault((forecast_month, row["town_code"]), []).append(row)
        return self._town_forecasts.get((month, town_code), [])

    def towns_ranked(self, month: date) -> int:
        """How many of the site's towns have an overall rank in the month."""
        if self._towns_ranked is None:
            self._towns_ranked = {}
            codes = {town.code for town in self.towns}
            for (ranked_month, town_code), rank in self.ranks.items():
                if town_code in codes and (rank or {}).get("overall_rank"):
                    self._towns_ranked[ranked_month] = self._towns_ranked.get(ranked_month, 0) + 1
        return self._towns_ranked.get(month, 0)


MEMBERS_SQL = """
    select month, town_code, kpi_id, member_kind, member_id, member_name, village_code, village_name,
           person_group, in_numerator, in_denominator, numerator_value, denominator_value, reason_zh,
           source_file, source_sheet, source_row, 1 as members
    from marts.kpi_members
    where member_kind <> 'person' and list_contains($months::date[], month)
    union all
    select month, town_code, kpi_id, 'person', null, null, village_code, village_name,
           person_group, in_numerator, in_denominator, sum(numerator_value), sum(denominator_value),
           reason_zh, source_file, null, null, count(*)
    from marts.kpi_members
    where member_kind = 'person' and list_contains($months::date[], month)
    group by all
    -- A total order: rows that tie on the first keys (a village's person groups) would otherwise
    -- come in any order, and two builds of one database would differ.
    order by month, town_code, kpi_id, in_numerator, village_code nulls last, member_id, person_group,
             reason_zh, source_file, member_name, source_sheet, source_row, member_kind, in_denominator,
             numerator_value, denominator_value, members
"""


def load_site_data(published_db: Path) -> SiteData:
    if not Path(published_db).exists():
        raise FileNotFoundError(f"published database {published_db} does not exist: run `ruralcare refresh` first")
    with duckdb.connect(str(published_db), read_only=True) as con:
        months = [r[0] for r in con.execute(
            "select distinct month from marts.kpi_district_monthly order by month").fetchall()]
        kpis = [Kpi(**r) for r in dict_rows(
            con, "select kpi_id, name_zh, kind, unit, definition_zh from marts.dim_kpi order by kpi_no")]
        towns = [Town(r["town_code"], r["town_name"]) for r in dict_rows(
            con, "select distinct town_code, town_name from marts.kpi_town_monthly order by town_code")]
        overview = "marts.kpi_city_monthly" if len(districts_of(con)) > 1 else "marts.kpi_district_monthly"
        district = {(r["month"], r["kpi_id"]): r for r in dict_rows(con, f"select * from {overview}")}
        town = {(r["month"], r["town_code"], r["kpi_id"]): r for r in dict_rows(con, "select * from marts.kpi_town_monthly")}
        ranks = {(r["month"], r["town_code"]): r for r in dict_rows(
            con, "select month, town_code, mean_rank, overall_rank from marts.town_rank_monthly")}
        member_keys = None
        if has_table(con, "marts", "kpi_members"):
            member_keys = set(con.execute("select distinct month, town_code, kpi_id from marts.kpi_members").fetchall())
        forecasts = None
        if has_table(con, "marts", "kpi_forecast_monthly"):
            forecasts = {}
            for row in dict_rows(con, "select * from marts.kpi_forecast_monthly order by month, town_code, kpi_id"):
                forecasts.setdefault(row["month"], []).append(row)
        errors = {}
        if has_table(con, "quality", "findings"):
            errors = {(r["month"], r["town_code"]): r["n"] for r in dict_rows(con, """
                select month, town_code, count(*) as n from quality.findings
                where severity = 'error' group by all""")}
        refreshed_at = None
        if has_table(con, "meta", "refresh"):
            refreshed_at = con.execute("select max(finished) from meta.refresh").fetchone()[0]
    return SiteData(months=months, kpis=kpis, towns=towns, district=district, town=town, ranks=ranks,
                    member_keys=member_keys, forecasts=forecasts, errors=errors, refreshed_at=refreshed_at,
                    published_db=Path(published_db))
