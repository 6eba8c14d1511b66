"""The city summary (全市各区进展排名): the month's headline KPIs of every district, ranked, and the
city as a whole (marts.kpi_district_monthly and marts.kpi_city_monthly of the published database).

Districts are ranked as dbt ranks towns within a district (int_kpi__status.sql, town_rank_monthly.sql),
over the headline KPIs a district has a target for: on each KPI by completion (value ÷ target, 6
decimals), then the larger numerator, then the code; overall by the mean of those ranks, then the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.report.content import (
    CENTRES, ONE_TO_ONE, POINTS, THREE_ONES, VILLAGE_COVERAGE, Cell, Table, kpi_value_cell, number, status_cell,
    text,
)
from pipelines.report.data import District, Kpi, districts_of, require_month
from pipelines.report.fmt import DASH, fmt_date, fmt_month, month_end
from pipelines.tables import dict_rows, has_table

# The headline KPIs and their short column names (those of the report's town table).
HEADLINE_KPIS = {CENTRES: "镇中心", POINTS: "互助点", VILLAGE_COVERAGE: "村级覆盖率", THREE_ONES: "三个一达标率",
                 ONE_TO_ONE: "一对一结对率"}
CITY_NAME = "全市"


@dataclass(frozen=True)
class DistrictRank:
    kpi_ranks: dict[str, int]
    mean_rank: float | None
    overall_rank: int | None


@dataclass
class CitySummary:
    month: date
    kpis: list[Kpi]  # the headline KPIs, in HEADLINE_KPIS order
    districts: list[District]
    # district_code → kpi_id → row of marts.kpi_district_monthly for the month
    district_rows: dict[str, dict[str, dict]]
    # kpi_id → row of marts.kpi_city_monthly for the month
    city_rows: dict[str, dict]
    refreshed_at: datetime | None = None


def completion_rank_key(code: str, row: dict) -> tuple:
    """Sort key of one district on one KPI: completion desc, numerator desc (missing ones last), code."""
    value, target, numerator = row["value"], row["target"], row["numerator"]
    done = round(value / target, 6) if value is not None and target else None
    return (done is None, -(done or 0.0), numerator is None, -(numerator or 0.0), code)


def rank_districts(rows: dict[str, dict[str, dict]]) -> dict[str, DistrictRank]:
    """district_code → its ranks, from district_code → kpi_id → row (value, target, numerator).

    A KPI is ranked when some district has a target for it; a district without a row for it is
    ranked on the others. Districts without any ranked KPI get no rank."""
    ranked_kpis = sorted({kpi for by_kpi in rows.values() for kpi, row in by_kpi.items() if row["target"] is not None})
    kpi_ranks: dict[str, dict[str, int]] = {code: {} for code in rows}
    for kpi in ranked_kpis:
        entries = sorted(((code, by_kpi[kpi]) for code, by_kpi in rows.items() if kpi in by_kpi),
                         key=lambda entry: completion_rank_key(*entry))
        for position, (code, _) in enumerate(entries, start=1):
            kpi_ranks[code][kpi] = position
    means = {code: sum(ranks.values()) / len(ranks) for code, ranks in kpi_ranks.items() if ranks}
    overall = {code: position for position, code in enumerate(sorted(means, key=lambda c: (means[c], c)), start=1)}
    return {code: DistrictRank(kpi_ranks[code], means.get(code), overall.get(code)) for code in rows}


def load_city_summary(published_db: Path, month: date) -> CitySummary:
    if not published_db.exists():
        raise FileNotFoundError(f"published database {published_db} does not exist: run `ruralcare refresh` first")
    with duckdb.connect(str(published_db), read_only=True) as con:
        months = [r[0] for r in con.execute(
            "select distinct month from marts.kpi_district_monthly order by month").fetchall()]
        require_month(months, month, published_db)
        headline = list(HEADLINE_KPIS)
        by_id = {r["kpi_id"]: Kpi(**r) for r in dict_rows(con, """
            select kpi_id, name_zh, kind, unit, definition_zh from marts.dim_kpi
            where list_contains($kpis, kpi_id)""", {"kpis": headline})}
        district_rows: dict[str, dict[str, dict]] = {}
        for row in dict_rows(con, """
                select * from marts.kpi_district_monthly where month = $month and list_contains($kpis, kpi_id)""",
                             {"month": month, "kpis": headline}):
            district_rows.setdefault(row["district_code"], {})[row["kpi_id"]] = row
        city_rows = {r["kpi_id"]: r for r in dict_rows(con, """
            select * from marts.kpi_city_monthly where month = $month and list_contains($kpis, kpi_id)""",
                                                       {"month": month, "kpis": headline})}
        refreshed_at = None
        if has_table(con, "meta", "refresh"):
            refreshed_at = con.execute("select max(finished) from meta.refresh").fetchone()[0]
        districts = districts_of(con)
    return CitySummary(month=month, kpis=[by_id[k] for k in headline if k in by_id], districts=districts,
                       district_rows=district_rows, city_rows=city_rows, refreshed_at=refreshed_at)


def city_title(month: date) -> str:
    return f"全市各区农村养老服务全覆盖工作进展排名（{month.year}年{month.month}月）"


def city_stem(month: date) -> str:
    return f"全市各区农村养老服务全覆盖工作进展排名_{month:%Y-%m}"


def as_of_text(summary: CitySummary) -> str:
    shown = f"数据截至{fmt_date(month_end(summary.month))}"
    if summary.refreshed_at is not None:
        shown += f"（{summary.refreshed_at:%Y-%m-%d %H:%M}更新）"
    return shown


def _kpi_cells(rows: dict[str, dict], kpi: Kpi) -> list[Cell]:
    row = rows.get(kpi.kpi_id)
    value = kpi_value_cell(row, kpi.unit)
    target = kpi_value_cell(row, kpi.unit, "target") if row and row["target"] is not None else text(DASH)
    return [Cell(value.text, value.value, value.fmt, row["status"] if row else None), target,
            status_cell(row, kpi.kind)]


def city_table(summary: CitySummary) -> Table:
    """One row per district in rank order (unranked ones after, by code), then the city."""
    ranks = rank_districts(summary.district_rows)
    names = {d.code: d.name for d in summary.districts}
    order = sorted(summary.district_rows,
                   key=lambda code: (ranks[code].overall_rank is None, ranks[code].overall_rank or 0, code))
    rows = []
    for code in order:
        rank = ranks[code]
        rows.append([number(rank.overall_rank), text(names.get(code, code)), text(code),
                     Cell(f"{rank.mean_rank:.2f}", rank.mean_rank, "decimal") if rank.mean_rank is not None
                     else text(DASH),
                     *[cell for kpi in summary.kpis for cell in _kpi_cells(summary.district_rows[code], kpi)]])
    rows.append([text(DASH), text(CITY_NAME), text(DASH), text(DASH),
                 *[cell for kpi in summary.kpis for cell in _kpi_cells(summary.city_rows, kpi)]])
    columns = ["排名", "区", "区划代码", "平均名次"]
    for kpi in summary.kpis:
        short = HEADLINE_KPIS[kpi.kpi_id]
        columns += [short, f"{short}目标", f"{short}状态"]
    notes = ["排名：按镇养老服务中心、互助养老点建成数、村级覆盖率、“三个一”达标率、一对一结对率五项指标完成程度"
             "（本月值 ÷ 目标值）在各区中的名次的平均数排序；完成程度相同的，完成数多的在前，再按区划代码。",
             f"{CITY_NAME}为全部镇街合计；方案未设全市目标，{CITY_NAME}不排名。",
             "状态为对照序时进度的进展状态；※ 含未按期报送镇街沿用此前报表的数据。"]
    return Table("各区排名", f"表  各区主要指标完成情况及排名（{fmt_month(summary.month)}）", columns, rows, notes)
