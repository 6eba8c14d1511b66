"""The report's three charts as inline SVG (text drawn as outlines: no font needed to view)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from pipelines.report.fonts import FAMILY  # noqa: E402

BLUE, GREY, GREEN = "#2f5f98", "#c9d3df", "#3c8d40"
LINE_COLOURS = ("#2f5f98", "#d9822b", "#3c8d40", "#8e44ad", "#b83232", "#5d6d7e")
STATUS_COLOURS = {"未开工": "#b83232", "在建": "#e0a526", "已建成": "#6fa8dc", "已运营": "#2f5f98",
                  "已撤并": "#7f8c8d", "未填报": "#dddddd"}
WIDTH_IN = 7.0
STYLE = {
    "font.family": [FAMILY],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "svg.fonttype": "path",
    "svg.hashsalt": "ruralcare",  # same data, same SVG
}


def _check_font() -> None:
    try:
        font_manager.findfont(font_manager.FontProperties(family=FAMILY), fallback_to_default=False)
    except ValueError as error:
        raise RuntimeError(f"the chart font {FAMILY} is missing: install the Debian package "
                           "`fonts-noto-cjk` (scripts/apt-packages.txt)") from error


def _svg(figure) -> str:
    buffer = io.StringIO()
    with plt.rc_context(STYLE):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    # Inline in HTML: drop the XML prolog and DOCTYPE, keep the <svg> element.
    return svg[svg.index("<svg"):]


def points_chart(points: Sequence[tuple[str, float | None, float | None]]) -> str:
    return _svg(points_figure(points))


def points_figure(points: Sequence[tuple[str, float | None, float | None]]):
    """Figure 1: bars of village points built per town, beside each town's target."""
    _check_font()
    with plt.rc_context(STYLE):
        # Constrained: room is made for the slanted names and the legend below them.
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 3.1), layout="constrained")
        names = [p[0] for p in points]
        built = [p[1] or 0 for p in points]
        targets = [p[2] or 0 for p in points]
        x = range(len(points))
        axes.bar([i - 0.2 for i in x], targets, width=0.4, color=GREY, label="目标")
        bars = axes.bar([i + 0.2 for i in x], built, width=0.4, color=BLUE, label="已建成")
        for bar, point, value, target in zip(bars, points, built, targets):
            colour = GREEN if target and value >= target else "#222222"
            # A town with no figure is not a town with none built.
            label = "无数据" if point[1] is None else f"{value:g}"
            axes.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          ha="center", va="bottom", fontsize=8, color=colour,
                          xytext=(0, 1), textcoords="offset points")
        # Eleven Chinese names side by side collide at A4 width: set them at a slant.
        axes.set_xticks(list(x), names, rotation=30, ha="right", rotation_mode="anchor")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title("图1  各镇街村级互助养老点建成数与目标（个）")
        # Below the names: inside the plot it would cover the bars of the towns on the right.
        figure.legend(frameon=False, ncols=2, loc="outside lower center")
        return figure


TREND_LABEL_SIZE = 7.5
# Label centres at least this many font sizes apart: a line of text and a little air.
TREND_LABEL_SPACING = 1.25
TREND_LABEL_OFFSET = 10  # points from a line's last point to its label


def trend_chart(months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> str:
    return _svg(trend_figure(months, series))


def trend_figure(months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]):
    """Figure 2: lines of the district's coverage rates month by month (values are fractions),
    each line's last value beside it."""
    _check_font()
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 3.0))
        x = list(range(len(months)))
        ends = []
        for (name, values), colour in zip(series, LINE_COLOURS):
            points = [(i, v * 100) for i, v in zip(x, values) if v is not None]
            if points:
                axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3,
                          color=colour, label=name, linewidth=1.6)
                ends.append((points[-1], colour))
        axes.set_ylim(0, 105)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
        axes.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        axes.set_xlim(-0.5, len(months) - 0.2)
        _label_months(figure, axes, months)
        axes.set_title("图2  全区覆盖类指标逐月变化")
        _label_line_ends(figure, axes, ends)
        # Below the plot, where no line or value label can run under it.
        axes.legend(frameon=False, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8)
        return figure


def _label_months(figure, axes, months: Sequence[str]) -> None:
    """Every month's name if they fit side by side, else every second (third, …) one counted
    back from the report month, so the month reported on is always named."""
    axes.set_xticks(range(len(months)), months)
    renderer = figure.canvas.get_renderer()
    widest = max((label.get_window_extent(renderer).width for label in axes.get_xticklabels()), default=0)
    month_width = axes.transData.transform((1, 0))[0] - axes.transData.transform((0, 0))[0]
    air = plt.rcParams["font.size"] * figure.dpi / 72
    step = max(1, math.ceil((widest + air) / month_width))
    named = list(range(len(months) - 1, -1, -step))[::-1]
    axes.set_xticks(named, [months[i] for i in named])


def _label_line_ends(figure, axes, ends: Sequence[tuple[tuple[float, float], str]]) -> None:
    """Each line's last value, moved up or down as little as keeps the labels clear of each
    other and inside the plot; a thin leader runs back to the point."""
    points_per_pixel = 72 / figure.dpi
    at = [axes.transData.transform(point)[1] * points_per_pixel for point, _ in ends]
    gap = TREND_LABEL_SIZE * TREND_LABEL_SPACING
    bottom, top = axes.bbox.y0 * points_per_pixel, axes.bbox.y1 * points_per_pixel
    placed = spread_apart(at, gap, bottom + gap / 2, top - gap / 2)
    for ((last_x, last_y), colour), y, label_y in zip(ends, at, placed):
        axes.annotate(f"{last_y:.1f}%", (last_x, last_y), xytext=(TREND_LABEL_OFFSET, label_y - y),
                      textcoords="offset points", fontsize=TREND_LABEL_SIZE, color=colour, va="center",
                      # The leader leaves the label's left side: it can never cross another label.
                      arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6,
                                  "relpos": (0, 0.5), "shrinkA": 1, "shrinkB": 2.5})


def spread_apart(wanted: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions as near as can be to `wanted` (least squares), in the same order, at
    least `gap` apart and within [low, high]: a close cluster spreads up and down about its middle.

    Equal wishes keep their given order from the top down (the legend's order).
    """
    if gap < 0 or low > high:
        raise ValueError(f"spread_apart needs gap >= 0 and low <= high, got gap={gap}, low={low}, high={high}")
    top_of_bottom = high - (len(wanted) - 1) * gap  # the bottom label's highest place
    if wanted and top_of_bottom < low:
        raise ValueError(f"{len(wanted)} labels {gap:g} apart need {(len(wanted) - 1) * gap:g}, "
                         f"the space between {low:g} and {high:g} is only {high - low:g}")
    bottom_up = sorted(range(len(wanted)), key=lambda i: (wanted[i], -i))
    # Taking k gaps off the k-th label from the bottom turns "at least a gap apart" into "in
    # order": pool adjacent labels that break the order (least squares isotonic regression).
    pools: list[list[float]] = []  # [sum, count]
    for k, i in enumerate(bottom_up):
        pools.append([wanted[i] - k * gap, 1])
        while len(pools) > 1 and pools[-2][0] / pools[-2][1] > pools[-1][0] / pools[-1][1]:
            total, count = pools.pop()
            pools[-1][0] += total
            pools[-1][1] += count
    fitted = [min(max(total / count, low), top_of_bottom) for total, count in pools for _ in range(count)]
    positions = [0.0] * len(wanted)
    for k, i in enumerate(bottom_up):
        positions[i] = fitted[k] + k * gap
    return positions


def project_mix_chart(groups: Sequence[str], statuses: Sequence[str],
                      counts: dict[tuple[str, str], int]) -> str:
    return _svg(project_mix_figure(groups, statuses, counts))


def project_mix_figure(groups: Sequence[str], statuses: Sequence[str], counts: dict[tuple[str, str], int]):
    """Figure 3: stacked bars, how many projects of each kind are at each construction status."""
    _check_font()
    with plt.rc_context(STYLE):
        height = 0.5 + 0.42 * max(1, len(groups))
        figure, axes = plt.subplots(figsize=(WIDTH_IN, height + 0.8))
        y = list(range(len(groups)))[::-1]
        left = [0] * len(groups)
        for status in statuses:
            widths = [counts.get((g, status), 0) for g in groups]
            bars = axes.barh(y, widths, left=left, color=STATUS_COLOURS.get(status, "#999999"),
                             label=status, height=0.6, edgecolor="white")
            for bar, width in zip(bars, widths):
                if width:
                    dark = status in ("未开工", "已运营", "已撤并")
                    axes.text(bar.get_x() + width / 2, bar.get_y() + bar.get_height() / 2, str(width),
                              ha="center", va="center", fontsize=8, color="white" if dark else "#222222")
            left = [a + b for a, b in zip(left, widths)]
        axes.set_yticks(y, list(groups))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("项目数（个）")
        axes.set_title("图3  重点项目建设状态构成")
        axes.legend(frameon=False, ncols=len(statuses), loc="upper center", bbox_to_anchor=(0.5, -0.28),
                    fontsize=8)
        return figure
