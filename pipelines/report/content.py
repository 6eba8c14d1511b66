"""The report's content — tables, problem lists and the lead paragraphs — from ReportData.

Pure functions: the HTML and the Excel writers render the same `Report`, so the two never
disagree. A `Cell` carries the text a reader sees and the number Excel keeps (the mart's own
value, unrounded).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from pipelines.catalogue import StatusLimits, status_limits
from pipelines.report.data import ReportData, Town
from pipelines.report.fmt import (
    DASH, change, fmt_change, fmt_count, fmt_date, fmt_month, fmt_percent, fmt_value, fmt_wan_yuan,
    DEADLINE_DAY, is_rate, month_end, report_title, short_town, submission_deadline,
)
from pipelines.report.labels import (
    BUILD_STATUSES, KIND_LABELS, NOT_REPORTED, SEVERITY_LABELS, project_group, rule_label, status_label,
)

# KPIs the lead paragraph and the town table name; the catalogue's ids (docs/kpis.md).
CENTRES = "K05_town_centre_coverage"
POINTS = "K09_village_points_built"
VILLAGE_COVERAGE = "K10_village_coverage"
THREE_ONES = "K13_village_three_ones"
ONE_TO_ONE = "K14_one_to_one_pairing"
GRID_PAIRING = "K15_grid_pairing"
MANAGERS = "K17_manager_training"
CAREGIVERS = "K18_caregiver_training"
CITY_SUBSIDY = "K23_city_subsidy_received"
RUNNING_FUNDS = "K26_running_fund_ratio"
SUBMISSION = "K30_submission_rate"
MONEY_KPIS = (CITY_SUBSIDY, RUNNING_FUNDS)
KIND_SHORT = {"progress": "进度", "threshold": "约束", "info": "监测"}
STALE_MARK = "※"
STALE_NOTE = "※ 含未按期报送镇街沿用此前报表的数据。"
SUBMISSION_LABELS = {"on_time": ("按时报送", "green"), "late": ("逾期报送", "yellow"),
                     "missing": ("未报送", "red")}


@dataclass(frozen=True)
class Cell:
    text: str
    value: object = None  # what Excel stores: a number (the mart value) or None for the text
    fmt: str = "text"  # text | count | percent | decimal | date | change_count | change_percent
    status: str | None = None


@dataclass(frozen=True)
class Table:
    sheet: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProblemGroup:
    title: str
    items: list[str]


@dataclass(frozen=True)
class Report:
    month: date
    title: str
    issuer: str
    as_of: str
    summary: list[str]
    overall: Table
    monitoring: Table
    towns: Table
    points_chart: list[tuple[str, float | None, float | None]]  # town, built, target
    trend: Table
    project_mix: Table
    projects: Table
    problems: list[ProblemGroup]
    problems_table: Table
    warning_lead: str
    warnings: Table
    submissions: Table
    findings_by_rule: Table
    definitions: Table
    legend: list[str]

    def tables(self) -> list[Table]:
        """Every table, in the order of the report (one Excel sheet each)."""
        return [self.overall, self.monitoring, self.towns, self.trend, self.project_mix, self.projects,
                self.problems_table, self.warnings, self.submissions, self.findings_by_rule, self.definitions]


def text(value: str) -> Cell:
    return Cell(value)


def number(value: float | int | None, fmt: str = "count") -> Cell:
    shown = fmt_percent(value) if fmt == "percent" else fmt_count(value)
    return Cell(shown, value, fmt)


def date_cell(day: date | None) -> Cell:
    return Cell(fmt_date(day), day, "date") if day else Cell(DASH)


def with_unit(value: float | None, unit: str | None) -> str:
    """A value in running text: '85.3%', '7个'."""
    shown = fmt_value(value, unit)
    return shown if is_rate(unit) or shown == DASH or not unit else shown + unit


def kpi_value_cell(row: dict | None, unit: str | None, column: str = "value") -> Cell:
    """A KPI value as the reader sees it (stale marked ※) and as Excel stores it."""
    if row is None:
        return Cell(DASH)
    value = row[column]
    shown = fmt_value(value, unit) + (STALE_MARK if row["stale"] and value is not None else "")
    return Cell(shown, value, "percent" if is_rate(unit) else "count")


def status_cell(row: dict | None, kind: str) -> Cell:
    if row is None:
        return Cell(DASH)
    return Cell(status_label(row["status"], kind), None, "text", row["status"])


def change_cell(current: dict | None, previous: dict | None, unit: str | None) -> Cell:
    now = current["value"] if current else None
    before = previous["value"] if previous else None
    return Cell(fmt_change(now, before, unit), change(now, before),
                "change_percent" if is_rate(unit) else "change_count")


def completion(row: dict | None) -> float | None:
    if row is None or row["value"] is None or not row["target"]:
        return None
    return row["value"] / row["target"]


def submission_state(submission_row: dict | None) -> str:
    """on_time / late / missing from the town's K30 row: stale means no workbook for the month."""
    if submission_row is None or submission_row["stale"] or submission_row["value"] is None:
        return "missing"
    return "on_time" if submission_row["value"] >= 1 else "late"


def kpi_label(name: str, unit: str | None) -> str:
    return name if is_rate(unit) or not unit else f"{name}（{unit}）"


# ---------------------------------------------------------------- 1. 总体进展

def overall_table(data: ReportData) -> Table:
    rows = []
    with_target = [k for k in data.kpis
                   if (r := data.district_row(k.kpi_id)) is not None and r["target"] is not None]
    with_target.sort(key=lambda k: (k.kind != "progress", k.kpi_id))
    any_stale = False
    for position, kpi in enumerate(with_target, start=1):
        row = data.district_row(kpi.kpi_id)
        previous = data.district_row(kpi.kpi_id, data.previous_month)
        any_stale = any_stale or bool(row["stale"])
        progress = kpi.kind == "progress"
        rows.append([
            number(position),
            text(kpi_label(kpi.name_zh, kpi.unit)),
            text(KIND_SHORT.get(kpi.kind, kpi.kind)),
            kpi_value_cell(row, kpi.unit),
            kpi_value_cell(row, kpi.unit, "target"),
            date_cell(row["due_date"]),
            kpi_value_cell(row, kpi.unit, "expected") if progress and row["expected"] is not None else text(DASH),
            number(completion(row), "percent") if progress else text(DASH),
            status_cell(row, kpi.kind),
            change_cell(row, previous, kpi.unit),
        ])
    notes = ["序时进度：自方案实施之日起至各节点目标按日历天数线性推算的应完成值；"
             "完成率 = 本月值 ÷ 节点目标。"]
    if any_stale:
        notes.append(STALE_NOTE)
    return Table("总体进展", "表1  全区主要指标完成情况",
                 ["序号", "指标", "类别", "本月值", "目标值", "目标时限", "序时进度", "完成率", "状态", "较上月"],
                 rows, notes)


def monitoring_table(data: ReportData) -> Table:
    rows = []
    monitored = [k for k in data.kpis
                 if (r := data.district_row(k.kpi_id)) is not None and r["target"] is None]
    for position, kpi in enumerate(monitored, start=1):
        row = data.district_row(kpi.kpi_id)
        previous = data.district_row(kpi.kpi_id, data.previous_month)
        rows.append([
            number(position),
            text(kpi_label(kpi.name_zh, kpi.unit)),
            kpi_value_cell(row, kpi.unit),
            kpi_value_cell(previous, kpi.unit),
            change_cell(row, previous, kpi.unit),
            text(basis_text(kpi.kpi_id, row, kpi.unit)),
        ])
    return Table("监测指标", "表2  不设目标的监测指标",
                 ["序号", "指标", "本月值", "上月值", "较上月", "计算基数"], rows)


def basis_text(kpi_id: str, row: dict | None, unit: str | None) -> str:
    """What a rate is computed from, money in 万元: '到位 350万元 / 应到位 400万元', '95 / 120'."""
    if row is None or not is_rate(unit) or row["denominator"] is None:
        return DASH
    if kpi_id in MONEY_KPIS:
        return f"到位{fmt_wan_yuan(row['numerator'])} / 应到位{fmt_wan_yuan(row['denominator'])}"
    return f"{fmt_count(row['numerator'])} / {fmt_count(row['denominator'])}"


# ---------------------------------------------------------------- 2. 分镇街进展

def town_order_by_rank(data: ReportData) -> list[Town]:
    """Towns by overall rank; towns without a rank after them, in the official order."""
    def key(town: Town):
        rank = data.ranks.get(town.code, {}).get("overall_rank")
        return (rank is None, rank or 0, town.code)
    return sorted(data.towns, key=key)


def centre_project(data: ReportData, town_code: str) -> dict | None:
    return next((p for p in data.projects
                 if p["town_code"] == town_code and p["facility_type"] == "镇养老服务中心"), None)


def towns_table(data: ReportData) -> Table:
    rows = []
    for town in town_order_by_rank(data):
        stale = any(r["stale"] for (code, _), r in data.town.items() if code == town.code)
        centre_row = data.town_row(town.code, CENTRES)
        centre = centre_project(data, town.code)
        centre_text = (centre["reported_status"] or NOT_REPORTED) if centre else DASH
        points = data.town_row(town.code, POINTS)
        state = submission_state(data.town_row(town.code, SUBMISSION))
        label, colour = SUBMISSION_LABELS[state]
        rank = data.ranks.get(town.code, {}).get("overall_rank")

        def rated(kpi_id: str) -> Cell:
            row = data.town_row(town.code, kpi_id)
            cell = kpi_value_cell(row, "%")
            return Cell(cell.text, cell.value, cell.fmt, row["status"] if row else None)

        rows.append([
            number(rank),
            text(town.name + (STALE_MARK if stale else "")),
            Cell(centre_text, None, "text", centre_row["status"] if centre_row else None),
            Cell(fmt_count(points["value"]) if points else DASH, points["value"] if points else None,
                 "count", points["status"] if points else None),
            number(points["target"] if points else None),
            rated(VILLAGE_COVERAGE),
            rated(THREE_ONES),
            rated(ONE_TO_ONE),
            rated(GRID_PAIRING),
            kpi_value_cell(data.town_row(town.code, MANAGERS), "人"),
            kpi_value_cell(data.town_row(town.code, CAREGIVERS), "人"),
            Cell(label, None, "text", colour),
        ])
    notes = ["镇中心：镇养老服务中心本月填报的建设状态；互助点为村级互助养老点（个）；培训为累计人数（人）。",
             "排名：按镇养老服务中心、互助养老点建成数、村级覆盖率、“三个一”达标率、一对一结对率、"
             "网格结对率六项指标完成程度的平均名次排序；颜色为各指标对照序时进度的状态。"]
    stale = data.stale_towns()
    if stale:
        notes.append(f"※ {'、'.join(t.name for t in stale)}本月未报送进度表，数据沿用此前报表。")
    return Table("分镇街进展", "表3  各镇街进展情况（按综合排名）",
                 ["排名", "镇街", "镇中心", "互助点建成", "互助点目标", "村级覆盖率", "三个一达标率",
                  "一对一结对率", "网格结对率", "院长主管培训", "护理员培训", "报送"],
                 rows, notes)


# ---------------------------------------------------------------- 3. charts' data

def points_chart_data(data: ReportData) -> list[tuple[str, float | None, float | None]]:
    result = []
    for town in data.towns:
        row = data.town_row(town.code, POINTS)
        result.append((town.name, row["value"] if row else None, row["target"] if row else None))
    return result


def trend_kpis(data: ReportData) -> list:
    """The district's coverage rates: the progress KPIs measured in %."""
    return [k for k in data.kpis if k.kind == "progress" and is_rate(k.unit)]


def trend_table(data: ReportData) -> Table:
    kpis = trend_kpis(data)
    months = sorted({m for (m, _) in data.district_kpis})
    rows = []
    for month in months:
        rows.append([text(fmt_month(month))]
                    + [kpi_value_cell(data.district_row(k.kpi_id, month), k.unit) for k in kpis])
    return Table("月度趋势", "图2数据  全区覆盖类指标逐月变化",
                 ["月份"] + [k.name_zh for k in kpis], rows)


def project_mix(data: ReportData) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    """(groups, statuses, counts) of the named projects to be built (existing homes left out)."""
    counts: Counter = Counter()
    groups: dict[str, int] = {}
    for project in data.projects:
        if project["build_mode"] == "现有":
            continue
        position, group = project_group(project["facility_type"], project["build_mode"])
        groups[group] = position
        counts[(group, project["reported_status"] or NOT_REPORTED)] += 1
    ordered_groups = sorted(groups, key=groups.get)
    statuses = [s for s in (*BUILD_STATUSES, NOT_REPORTED) if any(k[1] == s for k in counts)]
    statuses += sorted({k[1] for k in counts} - set(statuses))
    return ordered_groups, statuses, dict(counts)


def project_mix_table(data: ReportData) -> Table:
    groups, statuses, counts = project_mix(data)
    rows = [[text(g)] + [number(counts.get((g, s), 0)) for s in statuses]
            + [number(sum(counts.get((g, s), 0) for s in statuses))] for g in groups]
    rows.append([text("合计")] + [number(sum(counts.get((g, s), 0) for g in groups)) for s in statuses]
                + [number(sum(counts.values()))])
    return Table("项目状态构成", "图3数据  重点项目建设状态构成（个）", ["项目类别", *statuses, "合计"], rows)


# ---------------------------------------------------------------- 4. 重点项目

def ordered_projects(data: ReportData) -> list[dict]:
    return sorted(data.projects, key=lambda p: (project_group(p["facility_type"], p["build_mode"])[0],
                                                p["town_code"], p["project_id"]))


def project_state(project: dict) -> tuple[str, str | None]:
    if project["overdue"]:
        return "逾期未完成", "red"
    if project["built"]:
        return "已完成", "done"
    if project["due_date"] is None:
        return DASH, None
    return "未到期", None


def projects_table(data: ReportData) -> Table:
    rows = []
    for project in ordered_projects(data):
        label, colour = project_state(project)
        area = project["area_m2"]
        minimum = project["min_area_m2"]
        area_status = "red" if area is not None and minimum is not None and area < minimum else None
        rows.append([
            text(project["project_id"]),
            text(project["town_name"]),
            text(project["facility_name"]),
            text(project_group(project["facility_type"], project["build_mode"])[1]),
            text(project["reported_status"] or NOT_REPORTED),
            Cell(fmt_count(area), area, "count", area_status),
            number(minimum),
            number(project["beds"]),
            date_cell(project["due_date"]),
            Cell(label, None, "text", colour),
        ])
    return Table("重点项目", "表4  重点项目进展情况",
                 ["编号", "镇街", "项目名称", "类别", "本月状态", "建筑面积（㎡）", "面积标准（㎡）", "床位（张）",
                  "计划完成时间", "完成情况"],
                 rows, ["本月状态为镇街进度表填报的建设状态；“逾期未完成”指已过计划完成时间仍未建成（撤并项目为未撤并）。"])


# ---------------------------------------------------------------- 5. 存在问题

def ranked_kpis(data: ReportData) -> list:
    ranked = {kpi_id for (_, kpi_id), row in data.town.items() if row["rank"] is not None}
    return [k for k in data.kpis if k.kpi_id in ranked]


def bottom_towns(data: ReportData, kpi_id: str, count: int = 3) -> list[tuple[Town, dict]]:
    """The `count` lowest-ranked towns on a progress KPI, leaving out towns that have completed it."""
    rows = [(t, data.town_row(t.code, kpi_id)) for t in data.towns]
    rows = [(t, r) for t, r in rows if r is not None and r["rank"] is not None and r["status"] != "done"]
    rows.sort(key=lambda item: item[1]["rank"], reverse=True)
    return rows[:count]


def problems(data: ReportData) -> tuple[list[ProblemGroup], Table]:
    groups: list[ProblemGroup] = []
    table_rows: list[list[Cell]] = []

    def add_row(category: str, subject: str, town: str, value: Cell, target: Cell, remark: str) -> None:
        table_rows.append([text(category), text(subject), text(town), value, target, text(remark)])

    # (一) progress KPIs: the last three towns
    items = []
    for kpi in ranked_kpis(data):
        bottom = bottom_towns(data, kpi.kpi_id)
        if not bottom:
            items.append(f"{kpi.name_zh}：各镇街均已完成目标。")
            continue
        parts = []
        for town, row in bottom:
            parts.append(f"{town.name}{with_unit(row['value'], kpi.unit)}（第{row['rank']}名，"
                         f"{status_label(row['status'], kpi.kind)}）")
            add_row("进度靠后", kpi.name_zh, town.name, kpi_value_cell(row, kpi.unit),
                    kpi_value_cell(row, kpi.unit, "target"), f"第{row['rank']}名，{status_label(row['status'], kpi.kind)}")
        items.append(f"{kpi.name_zh}：{'、'.join(parts)}。")
    groups.append(ProblemGroup("（一）进度排名靠后的镇街", items))

    # (二) district progress KPIs far behind 序时进度
    behind = [k for k in data.kpis if k.kind == "progress"
              and (r := data.district_row(k.kpi_id)) is not None and r["status"] in ("red", "yellow")]
    items = []
    for kpi in behind:
        row = data.district_row(kpi.kpi_id)
        items.append(f"{kpi.name_zh}{with_unit(row['value'], kpi.unit)}，序时进度应达"
                     f"{with_unit(row['expected'], kpi.unit)}，{status_label(row['status'], kpi.kind)}。")
        add_row("进度滞后", kpi.name_zh, "全区", kpi_value_cell(row, kpi.unit),
                kpi_value_cell(row, kpi.unit, "expected"), status_label(row["status"], kpi.kind))
    groups.append(ProblemGroup("（二）全区滞后于序时进度的指标", items or ["无。各项进度指标均达到序时进度要求。"]))

    # (三) overdue projects
    items = []
    for project in ordered_projects(data):
        if project["overdue"]:
            items.append(f"{project['town_name']}{project['facility_name']}：计划{fmt_date(project['due_date'])}前完成，"
                         f"目前{project['reported_status'] or NOT_REPORTED}。")
            add_row("项目逾期", project["facility_name"], project["town_name"],
                    text(project["reported_status"] or NOT_REPORTED), text(fmt_date(project["due_date"])),
                    "已过计划完成时间")
    groups.append(ProblemGroup("（三）逾期未完成的重点项目", items or ["无。"]))

    # (四) threshold KPIs in red
    items = []
    for kpi in data.kpis:
        row = data.district_row(kpi.kpi_id)
        if kpi.kind != "threshold" or row is None or row["status"] != "red":
            continue
        red_towns = [t.name for t in data.towns
                     if (tr := data.town_row(t.code, kpi.kpi_id)) is not None and tr["status"] == "red"]
        where = f"；未达标镇街：{'、'.join(red_towns)}" if red_towns else ""
        items.append(f"{kpi.name_zh}{fmt_value(row['value'], kpi.unit)}，低于标准"
                     f"{fmt_value(row['target'], kpi.unit)}{where}。")
        add_row("未达标", kpi.name_zh, "、".join(red_towns) or "全区", kpi_value_cell(row, kpi.unit),
                kpi_value_cell(row, kpi.unit, "target"), "低于标准")
    groups.append(ProblemGroup("（四）未达标的约束性指标", items or ["无。各项约束性指标均达标或接近标准。"]))

    # (五) submissions
    items = []
    for state, sentence in (("missing", "本月未报送进度表，相关指标沿用此前数据"), ("late", "逾期报送（晚于次月5日）")):
        towns = [t.name for t in data.towns if submission_state(data.town_row(t.code, SUBMISSION)) == state]
        if towns:
            items.append(f"{'、'.join(towns)}{sentence}。")
            for name in towns:
                add_row("报送", "月度进度表", name, text(SUBMISSION_LABELS[state][0]), text(DASH), sentence)
    groups.append(ProblemGroup("（五）报送问题", items or ["无。各镇街均按时报送。"]))

    table = Table("存在问题", "存在问题清单", ["类别", "指标或项目", "镇街", "本月值", "目标或标准", "说明"],
                  table_rows)
    return groups, table


# ---------------------------------------------------------------- 6. 预警

FORECAST_METHOD = ("预计值按近三个月的平均月进度线性外推：本月值 + 月均进度 × 距里程碑到期的月数；"
                   "预计完成月份为按此进度首次达到目标的月份。")


def early_warning(data: ReportData) -> tuple[str, Table]:
    """Towns and progress KPIs projected to miss their next milestone (预计逾期), and the lead sentence."""
    rows = data.forecast_late or []
    table_rows = []
    for row in rows:
        unit = kpi.unit if (kpi := data.kpi(row["kpi_id"])) else None
        rate = is_rate(unit)
        pace = row["pace_per_month"]
        table_rows.append([
            text(row["town_name"]),
            text(kpi.name_zh if kpi else row["kpi_id"]),
            Cell(fmt_value(row["value"], unit), row["value"], "percent" if rate else "count"),
            Cell(fmt_change(pace, 0, unit) + "/月", pace, "change_percent" if rate else "change_count"),
            date_cell(row["milestone_due_date"]),
            Cell(fmt_value(row["milestone_target"], unit), row["milestone_target"], "percent" if rate else "count"),
            Cell(fmt_value(row["projected_value"], unit), row["projected_value"], "percent" if rate else "count",
                 status="red"),
            text(fmt_month(row["expected_completion_month"]) if row["expected_completion_month"]
                 else "按当前进度无法完成"),
        ])
    if data.forecast_late is None:
        lead = "已发布数据库中没有进度预测（marts.kpi_forecast_monthly），本期未作预警；重新刷新后即可生成。"
    elif not rows:
        lead = (f"按近三个月的平均进度线性外推，{fmt_month(data.month)}没有预计在里程碑到期日前"
                "无法完成的镇街和指标。")
    else:
        towns = len({row["town_code"] for row in rows})
        kpis = len({row["kpi_id"] for row in rows})
        lead = (f"按近三个月的平均进度线性外推，{towns}个镇街的{kpis}项进度指标（共{len(rows)}项次）"
                "预计在里程碑到期日前无法完成目标（预计逾期），需提前督促：")
    table = Table("预警", "预警：预计逾期的镇街和指标",
                  ["镇街", "指标", "本月值", "月均进度（近三个月）", "里程碑到期日", "里程碑目标", "到期预计值",
                   "预计完成月份"],
                  table_rows, [FORECAST_METHOD] if rows else [lead])
    return lead, table


# ---------------------------------------------------------------- 7. 数据质量与报送

def severity_totals(data: ReportData, town_code: str | None) -> dict[str, int]:
    totals = Counter()
    for (code, _, severity), n in (data.finding_counts or {}).items():
        if code == town_code:
            totals[severity] += n
    return totals


def main_rules(data: ReportData, town_code: str | None, count: int = 2) -> str:
    by_rule = Counter()
    for (code, rule_id, _), n in (data.finding_counts or {}).items():
        if code == town_code:
            by_rule[rule_id] += n
    top = sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))[:count]
    return "；".join(f"{rule_label(r)}{n}条" for r, n in top) or DASH


def submissions_table(data: ReportData) -> Table:
    rows = []
    for town in data.towns:
        state = submission_state(data.town_row(town.code, SUBMISSION))
        label, colour = SUBMISSION_LABELS[state]
        submission = (data.submissions or {}).get(town.code)
        totals = severity_totals(data, town.code)
        rows.append([
            text(town.name), Cell(label, None, "text", colour),
            date_cell(submission.first_submission if submission else None),
            number(submission.accepted_files if submission else 0),
            number(submission.rejected_files if submission else 0),
            number(totals["error"]), number(totals["warning"]), number(totals["info"]),
            text(main_rules(data, town.code)),
        ])
    unresolved = severity_totals(data, None)
    if unresolved:
        rows.append([text("未识别镇街的文件"), text(DASH), text(DASH), text(DASH), text(DASH),
                     number(unresolved["error"]), number(unresolved["warning"]), number(unresolved["info"]),
                     text(main_rules(data, None))])
    notes = [f"报送期限为次月{DEADLINE_DAY}日（{fmt_date(submission_deadline(data.month))}）；报送日期为进度表填报日期。"
             "错误指可能影响指标准确性的问题，警告指存疑数据，需镇街核实；明细见各镇街数据质量反馈表。"]
    if data.finding_counts is None:
        notes.append("本期数据库尚无数据质量检查结果。")
    return Table("数据质量与报送", "表5  各镇街报送及数据质量情况",
                 ["镇街", "报送情况", "报送日期", "有效文件", "退回文件", "错误（条）", "警告（条）", "提示（条）",
                  "主要问题"], rows, notes)


def findings_by_rule_table(data: ReportData) -> Table:
    counts = data.finding_counts or {}
    rules = sorted({(rule, severity) for (_, rule, severity) in counts})
    has_unresolved = any(code is None for (code, _, _) in counts)
    columns = ["规则", "问题", "级别", *[short_town(t.name) for t in data.towns]]
    codes: list[str | None] = [t.code for t in data.towns]
    if has_unresolved:
        columns.append("未识别")
        codes.append(None)
    columns.append("合计")
    rows = []
    for rule, severity in rules:
        per_town = [counts.get((code, rule, severity), 0) for code in codes]
        rows.append([text(rule.split("_")[0]), text(rule_label(rule)), text(SEVERITY_LABELS.get(severity, severity)),
                     *[number(n) for n in per_town], number(sum(per_town))])
    if rows:
        totals = [sum(counts.get((code, r, s), 0) for r, s in rules) for code in codes]
        rows.append([text("合计"), text(""), text(""), *[number(n) for n in totals], number(sum(totals))])
    return Table("问题分类统计", "表6  数据质量问题分规则统计（条）", columns, rows,
                 [] if rows else ["本月未发现数据质量问题。"])


# ---------------------------------------------------------------- 8. 附：指标说明

def definitions_table(data: ReportData) -> Table:
    rows = [[text(k.kpi_id.split("_")[0]), text(k.name_zh), text(KIND_LABELS.get(k.kind, k.kind)),
             text(k.unit or DASH), text(k.definition_zh or DASH)] for k in data.kpis]
    return Table("指标说明", "附表  指标口径说明", ["编号", "指标", "类别", "单位", "计算口径"], rows)


def status_legend(limits: StatusLimits) -> list[str]:
    """The colours' meaning, worded from the limits int_kpi__status.sql decides them by."""
    green, yellow = -limits.progress_green_gap * 100, -limits.progress_yellow_gap * 100
    margin = limits.threshold_yellow_margin * 100
    return [
        f"进度指标：已完成（蓝）= 达到最终目标；正常推进（绿）= 落后序时进度不超过目标的{green:g}%；"
        f"进度滞后（黄）= 落后{green:g}%至{yellow:g}%；严重滞后（红）= 落后超过{yellow:g}%。",
        f"约束性指标：达标（绿）= 不低于标准；接近标准（黄）= 低于标准不超过{margin:g}个百分点；未达标（红）= 其余情形。",
        "无数据（灰）= 分母为0或尚无报表；※ = 镇街未按期报送，沿用此前报表数据。",
    ]


# ---------------------------------------------------------------- lead paragraphs

def summary(data: ReportData) -> list[str]:
    end = month_end(data.month)
    paragraphs = []

    def said(kpi_id: str, template: str) -> str | None:
        row = data.district_row(kpi_id)
        kpi = data.kpi(kpi_id)
        if row is None or kpi is None or row["value"] is None:
            return None
        target = fmt_value(row["target"], kpi.unit) if row["target"] is not None else DASH
        return template.format(value=fmt_value(row["value"], kpi.unit), target=target)

    facts = [s for s in (
        said(CENTRES, "建成镇养老服务中心{value}个（目标{target}个）"),
        said(POINTS, "建成村级互助养老点{value}个（目标{target}个）"),
        said(VILLAGE_COVERAGE, "村级互助养老服务覆盖率{value}"),
        said(ONE_TO_ONE, "重点对象一对一结对率{value}"),
        said(MANAGERS, "累计培训院长主管{value}人"),
        said(CAREGIVERS, "养老护理员{value}人"),
    ) if s]
    if facts:
        paragraphs.append(f"截至{fmt_date(end)}，全区{len(data.towns)}个镇街农村养老服务全覆盖工作有序推进："
                          + "，".join(facts) + "。")

    statuses = Counter(r["status"] for k in data.kpis if k.kind == "progress"
                       and (r := data.district_row(k.kpi_id)) is not None and r["target"] is not None)
    thresholds = Counter(r["status"] for k in data.kpis if k.kind == "threshold"
                         and (r := data.district_row(k.kpi_id)) is not None and r["target"] is not None)
    if statuses or thresholds:
        paragraphs.append(
            f"纳入序时进度考核的{sum(statuses.values())}项进度指标中，已完成{statuses['done']}项，"
            f"正常推进{statuses['green']}项，进度滞后{statuses['yellow']}项，严重滞后{statuses['red']}项；"
            f"{sum(thresholds.values())}项约束性指标中，达标{thresholds['green']}项，"
            f"接近标准{thresholds['yellow']}项，未达标{thresholds['red']}项。")

    money = []
    subsidy = data.district_row(CITY_SUBSIDY)
    if subsidy and subsidy["numerator"] is not None:
        money.append(f"市级奖补资金到位{fmt_wan_yuan(subsidy['numerator'])}（到位率{fmt_percent(subsidy['value'])}）")
    funds = data.district_row(RUNNING_FUNDS)
    if funds and funds["numerator"] is not None:
        money.append(f"敬老院运转经费到位{fmt_wan_yuan(funds['numerator'])}，"
                     f"为应保障额的{fmt_percent(funds['value'])}")
    if money:
        paragraphs.append("资金方面，" + "；".join(money) + "。")

    states = {t.code: submission_state(data.town_row(t.code, SUBMISSION)) for t in data.towns}
    on_time = sum(1 for s in states.values() if s == "on_time")
    sentence = f"报送方面，{on_time}个镇街按时报送{fmt_month(data.month)}进度表"
    late = [t.name for t in data.towns if states[t.code] == "late"]
    missing = [t.name for t in data.towns if states[t.code] == "missing"]
    if late:
        sentence += f"，{'、'.join(late)}逾期报送"
    if missing:
        sentence += f"，{'、'.join(missing)}未报送（相关数据沿用此前报表，标注※）"
    paragraphs.append(sentence + "。")
    return paragraphs


def as_of_text(data: ReportData) -> str:
    text_ = f"数据截至{fmt_date(month_end(data.month))}"
    if data.refreshed_at is not None:
        text_ += f"（{data.refreshed_at:%Y-%m-%d %H:%M}更新）"
    return text_


def build_report(data: ReportData) -> Report:
    problem_groups, problems_table_ = problems(data)
    warning_lead, warnings = early_warning(data)
    return Report(
        month=data.month,
        title=report_title(data.month, data.district.name),
        issuer=f"{data.district.name}民政局",
        as_of=as_of_text(data),
        summary=summary(data),
        overall=overall_table(data),
        monitoring=monitoring_table(data),
        towns=towns_table(data),
        points_chart=points_chart_data(data),
        trend=trend_table(data),
        project_mix=project_mix_table(data),
        projects=projects_table(data),
        problems=problem_groups,
        problems_table=problems_table_,
        warning_lead=warning_lead,
        warnings=warnings,
        submissions=submissions_table(data),
        findings_by_rule=findings_by_rule_table(data),
        definitions=definitions_table(data),
        legend=status_legend(status_limits()),
    )
