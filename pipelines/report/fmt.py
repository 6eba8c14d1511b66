"""How numbers, money and dates read in a Chinese bureau report (pure functions)."""

from __future__ import annotations

from datetime import date

DASH = "—"


def is_rate(unit: str | None) -> bool:
    return unit == "%"


def fmt_percent(fraction: float | None) -> str:
    """0.8534 → '85.3%' (one decimal, as the bureau writes rates)."""
    if fraction is None:
        return DASH
    return f"{fraction * 100:.1f}%"


def fmt_count(number: float | None) -> str:
    """Whole numbers without decimals (7.0 → '7'), fractional ones (序时进度) with one."""
    if number is None:
        return DASH
    rounded = round(number, 6)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{number:,.1f}"


def fmt_value(value: float | None, unit: str | None) -> str:
    return fmt_percent(value) if is_rate(unit) else fmt_count(value)


def fmt_wan_yuan(yuan: float | None) -> str:
    """Money in 万元 with at most two decimals: 1000000 → '100万元', 356000 → '35.6万元'."""
    if yuan is None:
        return DASH
    text = f"{yuan / 10000:,.2f}".rstrip("0").rstrip(".")
    return f"{text}万元"


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


def fmt_change(current: float | None, previous: float | None, unit: str | None) -> str:
    """Change since last month: '+2', '−1', '+1.5个百分点', '持平'; '—' without both values."""
    difference = change(current, previous)
    if difference is None:
        return DASH
    if is_rate(unit):
        points = round(difference * 100, 1)
        if points == 0:
            return "持平"
        return f"{'+' if points > 0 else '−'}{abs(points):.1f}个百分点"
    steps = round(difference, 6)
    if steps == 0:
        return "持平"
    return f"{'+' if steps > 0 else '−'}{fmt_count(abs(steps))}"


def fmt_date(day: date | None) -> str:
    """2022-06-30 → '2022年6月30日'."""
    if day is None:
        return DASH
    return f"{day.year}年{day.month}月{day.day}日"


def fmt_month(month: date) -> str:
    """2022-06-01 → '2022年6月'."""
    return f"{month.year}年{month.month}月"


def month_end(month: date) -> date:
    following = add_months(month, 1)
    return date.fromordinal(following.toordinal() - 1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> date:
    """'2022-06' → date(2022, 6, 1); anything else is an error that says what to write."""
    try:
        year, month = text.strip().split("-")
        return date(int(year), int(month), 1)
    except ValueError as error:
        raise ValueError(f"month must be written YYYY-MM (e.g. 2022-06), not {text!r}") from error


def report_title(month: date, district_name: str) -> str:
    return f"{district_name}农村养老服务全覆盖工作进展情况通报（{month.year}年{month.month}月）"


def short_town(name: str) -> str:
    """王家街道 → 王家, 玉峰山镇 → 玉峰山 (narrow column headers)."""
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# A town's workbook for a month is on time until the 5th of the next month (K30;
# dbt_project/macros/programme_rules.sql, submission_deadline_day).
DEADLINE_DAY = 5


def submission_deadline(month: date) -> date:
    """The last day a town's workbook for the month is on time."""
    return add_months(month, 1).replace(day=DEADLINE_DAY)
