"""The report as one self-contained HTML file: charts inline as SVG, the font embedded."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipelines.report.charts import points_chart, project_mix_chart, trend_chart
from pipelines.report.content import Cell, Report, project_mix, trend_kpis
from pipelines.report.data import ReportData
from pipelines.report.fonts import embedded_fonts
from pipelines.report.labels import REPORT_CSS
from pipelines.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "reports" / "templates"
TEMPLATE = "monthly_report.html.j2"
CITY_TEMPLATE = "city_summary.html.j2"
NUMERIC_FORMATS = {"count", "percent", "decimal"}


@dataclass(frozen=True)
class Charts:
    points: Markup
    trend: Markup
    projects: Markup


# Short texts (town names, statuses) stay on one line; longer ones wrap.
NOWRAP_UP_TO = 8


def cell_class(cell: Cell) -> str:
    kind = "num" if cell.fmt in NUMERIC_FORMATS else cell.fmt
    if kind == "text" and len(cell.text) <= NOWRAP_UP_TO:
        kind = "text short"
    return f"{kind} st-{cell.status}" if cell.status else kind


def draw_charts(report: Report, data: ReportData) -> Charts:
    months = sorted({m for (m, _) in data.district_kpis})
    series = [(k.name_zh, [(data.district_row(k.kpi_id, m) or {}).get("value") for m in months])
              for k in trend_kpis(data)]
    return Charts(
        points=Markup(points_chart(report.points_chart)),
        trend=Markup(trend_chart([f"{m.year % 100:02d}年{m.month}月" for m in months], series)),
        projects=Markup(project_mix_chart(*project_mix(data))),
    )


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=False,
    )
    environment.globals["cell_class"] = cell_class
    return environment


def render_page(template_name: str, **context) -> str:
    """The finished page: rendered once to learn its characters, then with the font cut to them."""
    template = _environment().get_template(template_name)
    css = Markup(REPORT_CSS.read_text(encoding="utf-8"))
    draft = template.render(**context, css=css, font_css="")
    font_css = Markup("\n".join(font.css() for font in embedded_fonts(draft)))
    return template.render(**context, css=css, font_css=font_css)


def render_html(report: Report, charts: Charts) -> str:
    return render_page(TEMPLATE, report=report, charts=charts)


