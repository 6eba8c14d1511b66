"""The report's three charts as inline SVG (text drawn as outlines: no font needed to view)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from pipelines.report.fonts import FAMILY  # noqa: E402

BLUE, GREY, GREEN, ORANGE, RED = "#2f5f98", "#c9d3df", "#3c8d40", "#d9822b", "#b83232"
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
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    # Inline in HTML: drop the XML prolog and DOCTYPE, keep the <svg> element.
    return svg[svg.index("<svg"):]


def points_chart(points: Sequence[tuple[str, float | None, float | None]]) -> str:
    """Bars of village points built per town, beside each town's target."""
    _check_font()
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 3.1))
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
        axes.legend(frameon=False, ncols=2, loc="upper right")
        return _svg(figure)


def trend_chart(months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> str:
    """Lines of the district's coverage rates month by month (values are fractions)."""
    _check_font()
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(WIDTH_IN, 3.0))
        x = list(range(len(months)))
        for (name, values), colour in zip(series, LINE_COLOURS):
            points = [(i, v * 100) for i, v in zip(x, values) if v is not None]
            if points:
                axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3,
                          color=colour, label=name, linewidth=1.6)
                last_x, last_y = points[-1]
                axes.annotate(f"{last_y:.1f}%", (last_x, last_y), xytext=(4, 0), textcoords="offset points",
                              fontsize=7.5, color=colour, va="center")
        step = max(1, len(months) // 9)
        axes.set_xticks(x[::step], [months[i] for i in x[::step]])
        axes.set_ylim(0, 105)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
        axes.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        axes.set_xlim(-0.5, len(months) - 0.2)
        axes.set_title("图2  全区覆盖类指标逐月变化")
        axes.legend(frameon=False, ncols=2, loc="lower right", fontsize=8)
        return _svg(figure)


def project_mix_chart(groups: Sequence[str], statuses: Sequence[str],
                      counts: dict[tuple[str, str], int]) -> str:
    """Stacked bars: how many projects of each kind are at each construction status."""
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
        return _svg(figure)
