"""Pure pieces of the progress site: page paths, relative links, the month picker, colours,
sparklines and the members' summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from pipelines.report.fmt import fmt_month, fmt_value

# Colour of each forecast status, as the traffic lights of the report.
FORECAST_CLASSES = {"已完成": "st-done", "预计按期": "st-green", "预计逾期": "st-red", "数据不足": "st-na"}
# Line colour of a sparkline by the KPI's status this month (the text colours of report.css).
SPARK_COLOURS = {"done": "#1f4e8c", "green": "#1e6b2a", "yellow": "#a07800", "red": "#9b1c1c"}
SPARK_NEUTRAL = "#5d6d7e"


# ---------------------------------------------------------------- paths and links

def month_dir(month: date) -> str:
    return f"{month:%Y-%m}"


def overview_path(month: date) -> str:
    return f"{month_dir(month)}/index.html"


def town_path(month: date, town_code: str) -> str:
    return f"{month_dir(month)}/town/{town_code}.html"


def members_path(month: date, town_code: str, kpi_id: str) -> str:
    return f"{month_dir(month)}/town/{town_code}/{kpi_id}.html"


def warnings_path(month: date) -> str:
    return f"{month_dir(month)}/warnings.html"


STATUS_PATH = "status.html"
INDEX_PATH = "index.html"
NAV_SCRIPT_PATH = "site-nav.js"  # reports/templates/site/site-nav.js with the site's months


def relative(from_page: str, to_page: str) -> str:
    """The link from one page of the site to another, both given from the site's root:
    relative, so the site opens from a shared folder (file://) as from a web server."""
    return "../" * from_page.count("/") + to_page


def same_page_in(page: str, month: date) -> str:
    """The page of the same kind for another month: '2022-11/town/x.html' → '2022-12/town/x.html'."""
    first, _, rest = page.partition("/")
    if len(first) == 7 and first[4] == "-" and rest:
        return f"{month_dir(month)}/{rest}"
    return overview_path(month)


@dataclass(frozen=True)
class MonthLink:
    label: str
    href: str
    current: bool


def month_picker(page: str, month: date | None, months: Sequence[date], written: set[str]) -> list[MonthLink]:
    """One link per loaded month, newest first, to the same page in that month (its overview
    where that month has no such page)."""
    links = []
    for other in sorted(months, reverse=True):
        target = same_page_in(page, other)
        if target not in written:
            target = overview_path(other)
        links.append(MonthLink(fmt_month(other), relative(page, target), other == month))
    return links


def neighbour(months: Sequence[date], month: date, step: int) -> date | None:
    """The loaded month before (step −1) or after (step +1) `month`, if any."""
    ordered = sorted(months)
    position = ordered.index(month) + step
    return ordered[position] if 0 <= position < len(ordered) else None


# ---------------------------------------------------------------- colours

def status_class(status: str | None) -> str:
    """CSS class of a KPI status (done/green/yellow/red/na); none for info and missing rows."""
    return f"st-{status}" if status in ("done", "green", "yellow", "red", "na") else ""


def forecast_class(forecast_status: str | None) -> str:
    return FORECAST_CLASSES.get(forecast_status or "", "")


# ---------------------------------------------------------------- sparkline

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 28, 3


def spark_points(values: Sequence[float | None], top: float, width: int = SPARK_WIDTH,
                 height: int = SPARK_HEIGHT, pad: int = SPARK_PAD) -> list[list[tuple[float, float]]]:
    """(x, y) in pixels of each value, one list per unbroken run (a month without a value
    breaks the line); y grows downwards from `top` at the upper edge to 0 at the lower."""
    if top <= 0:
        top = 1.0
    step = (width - 2 * pad) / (len(values) - 1) if len(values) > 1 else 0.0
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        share = min(max(value / top, 0.0), 1.0)
        x = pad + i * step if len(values) > 1 else width / 2
        current.append((round(x, 1), round(height - pad - share * (height - 2 * pad), 1)))
    if current:
        runs.append(current)
    return runs


def sparkline_svg(values: Sequence[float | None], months: Sequence[date], unit: str | None,
                  target: float | None = None, status: str | None = None) -> str:
    """A small inline SVG of a KPI month by month: rates on a 0–100% scale, counts from 0 to
    the larger of the highest value and the target; the target as a dashed line, the last
    value as a dot. Its <title> names the first and last months' values (tooltip, screen readers)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    rate = unit == "%"
    top = 1.0 if rate else max([*known, target or 0.0])
    runs = spark_points(values, top)
    colour = SPARK_COLOURS.get(status or "", SPARK_NEUTRAL)
    first = next(i for i, v in enumerate(values) if v is not None)
    last = max(i for i, v in enumerate(values) if v is not None)
    title = (f"{fmt_month(months[first])} {fmt_value(values[first], unit)} → "
             f"{fmt_month(months[last])} {fmt_value(values[last], unit)}")
    parts = [f'<svg class="spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
             f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img"><title>{escape(title)}</title>']
    if target is not None and 0 < target <= top:
        y = spark_points([target], top)[0][0][1]
        parts.append(f'<line x1="{SPARK_PAD}" x2="{SPARK_WIDTH - SPARK_PAD}" y1="{y}" y2="{y}" '
                     'stroke="#9aa5b1" stroke-width="1" stroke-dasharray="3 2"/>')
    for run in runs:
        if len(run) == 1:
            continue
        points = " ".join(f"{x},{y}" for x, y in run)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
    end_x, end_y = runs[-1][-1]
    parts.append(f'<circle cx="{end_x}" cy="{end_y}" r="2.4" fill="{colour}"/></svg>')
    return "".join(parts)


# ---------------------------------------------------------------- members

@dataclass(frozen=True)
class MemberSummary:
    counted: int  # members in the numerator
    not_counted: int  # members in the denominator but not the numerator (the ones a town asks about)
    numerator: float
    denominator: float | None


def summarise_members(rows: Sequence[dict]) -> MemberSummary:
    """Counts and sums of a KPI's members (a grouped person row counts for its `members`). Not
    counted: in the denominator but not the numerator; for a count KPI (no denominator), every
    member outside the numerator (a village whose point is not built)."""
    with_denominator = [r["denominator_value"] for r in rows if r["denominator_value"] is not None]
    counted = sum(r["members"] for r in rows if r["in_numerator"])
    not_counted = sum(r["members"] for r in rows
                      if not r["in_numerator"] and (r["in_denominator"] or not with_denominator))
    numerator = sum(r["numerator_value"] or 0 for r in rows)
    return MemberSummary(counted, not_counted, numerator, sum(with_denominator) if with_denominator else None)


def source_text(row: dict) -> str:
    """'统景镇_2022年12月_….xlsx · 互助养老点 · 第12行', or '—' for a member no row speaks of."""
    parts = [row.get("source_file"), row.get("source_sheet")]
    if row.get("source_row") is not None:
        parts.append(f"第{row['source_row']}行")
    shown = [str(p) for p in parts if p]
    return " · ".join(shown) if shown else "—"
