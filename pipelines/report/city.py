"""The city summary (全市各区进展排名): the month's headline KPIs of every district in the order of
marts.district_rank_monthly, and the city as a whole (marts.kpi_district_monthly and
marts.kpi_city_monthly of the published database).

dbt ranks districts within the city as towns within a district (int_kpi__status.sql,
int_kpi__overall_ranks.sql): over the progress KPIs with district targets, on each by completion
(value ÷ target, 6 decimals), then the larger numerator, then the code; overall by the mean of those
ranks, then the code.
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
    mean_rank: float
    overall_rank: int


@dataclass
class CitySummary:
    month: date
    kpis: list[Kpi]  # the headline KPIs, in HEADLINE_KPIS order
    districts: list[District]
    # district_code → kpi_id → row of marts.kpi_district_monthly for the month
    district_rows: dict[str, dict[str, dict]]
    # kpi_id → row of marts.kpi_city_monthly for the month
    city_rows: dict[str, dict]
    # district_code → its row of marts.district_rank_monthly (a district ranked on no KPI has none)
    ranks: dict[str, DistrictRank]
    refreshed_at: datetime | None = None


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
        ranks = {code: DistrictRank(mean, overall) for code, mean, overall in con.execute(
            "select district_code, mean_rank, overall_rank from marts.district_rank_monthly where month = $month",
            {"month": month}).fetchall()}
        refreshed_at = None
        if has_table(con, "meta", "refresh"):
            refreshed_at = con.execute("select max(finished) from meta.refresh").fetchone()[0]
        districts = districts_of(con)
    return CitySummary(month=month, kpis=[by_id[k] for k in headline if k in by_id], districts=districts,
                       district_rows=district_rows, city_rows=city_rows, ranks=ranks, refreshed_at=refreshed_at)


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
    names = {d.code: d.name for d in summary.districts}
    ranks = summary.ranks
    order = sorted(summary.district_rows,
                   key=lambda code: (code not in ranks, ranks[code].overall_rank if code in ranks else 0, code))
    rows = []
    for code in order:
        rank = ranks.get(code)
        rows.append([number(rank.overall_rank) if rank else text(DASH), text(names.get(code, code)), text(code),
                     Cell(f"{rank.mean_rank:.2f}", rank.mean_rank, "decimal") if rank else text(DASH),
                     *[cell for kpi in summary.kpis for cell in _kpi_cells(summary.district_rows[code], kpi)]])
    rows.append([text(DASH), text(CITY_NAME), text(DASH), text(DASH),
                 *[cell for kpi in summary.kpis for cell in _kpi_cells(summary.city_rows, kpi)]])
    columns = ["排名", "区", "区划代码", "平均名次"]
    for kpi in summary.kpis:
        short = HEADLINE_KPIS[kpi.kpi_id]
        columns += [short, f"{short}目标", f"{short}状态"]
    notes = ["排名：按方案设有区级目标的各项序时进度指标完成程度（本月值 ÷ 目标值）在各区中的名次的平均数排序；"
             "完成程度相同的，完成数多的在前，再按区划代码（与镇街排名规则相同）。",
             f"{CITY_NAME}为全部镇街合计；方案未设全市目标，{CITY_NAME}不排名。",
             "状态为对照序时进度的进展状态；※ 含未按期报送镇街沿用此前报表的数据。"]
    return Table("各区排名", f"表  各区主要指标完成情况及排名（{fmt_month(summary.month)}）", columns, rows, notes)
