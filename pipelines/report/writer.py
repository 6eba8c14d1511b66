"""write_report: one district's month report from the published database, in the formats asked for;
write_city_summary: the month's table ranking the districts of a city warehouse; write_month_reports:
all of them, as the scheduled asset writes them."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from pipelines.report.content import build_report
from pipelines.report.data import load_report_data, report_districts

FORMATS = ("html", "pdf", "xlsx")


def report_stem(month: date, district_name: str) -> str:
    return f"{district_name}农村养老服务全覆盖工作进展情况通报_{month:%Y-%m}"


def parse_formats(text: str) -> tuple[str, ...]:
    """'html,pdf' → ('html', 'pdf'); an unknown format is an error naming the valid ones."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown report format {', '.join(unknown) or text!r}: choose from {', '.join(FORMATS)}")
    return formats


def write_report(published_db: Path, month: date, out_dir: Path,
                 formats: Sequence[str] = FORMATS, district: str | None = None) -> dict[str, Path]:
    """Write the month's report of `district` (code or name; may be left out when the warehouse
    holds one district) into out_dir; returns {format: path}."""
    formats = parse_formats(",".join(formats))
    data = load_report_data(Path(published_db), month.replace(day=1), district)
    # Renderers load matplotlib, Jinja and fontTools: only once the month is known to exist.
    from pipelines.report.html import draw_charts, render_html
    from pipelines.report.xlsx import write_xlsx

    report = build_report(data)
    return _write_files(Path(out_dir) / report_stem(data.month, data.district.name), formats,
                        lambda: render_html(report, draw_charts(report, data)),
                        lambda path: write_xlsx(report, path))


def write_city_summary(published_db: Path, month: date, out_dir: Path,
                       formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """Write the month's table ranking the districts, with the city as a whole, into out_dir."""
    from pipelines.catalogue import status_limits
    from pipelines.report.city import as_of_text, city_stem, city_table, city_title, load_city_summary
    from pipelines.report.content import status_legend

    formats = parse_formats(",".join(formats))
    summary = load_city_summary(Path(published_db), month.replace(day=1))
    # As in write_report: the renderers only once the month is known to exist.
    from pipelines.report.html import CITY_TEMPLATE, render_page
    from pipelines.report.xlsx import write_tables

    table = city_table(summary)
    return _write_files(Path(out_dir) / city_stem(summary.month), formats,
                        lambda: render_page(CITY_TEMPLATE, title=city_title(summary.month), as_of=as_of_text(summary),
                                            table=table, legend=status_legend(status_limits())),
                        lambda path: write_tables([table], path))


def write_month_reports(published_db: Path, month: date, out_dir: Path,
                        formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """Every district's report and, with several districts, their ranking: {"html": path, …} for one
    district, {"<code> html": path, …, "city html": path, …} for several."""
    districts = report_districts(Path(published_db))
    written = {}
    for district in districts:
        files = write_report(published_db, month, out_dir, formats, district.code)
        written.update({fmt if len(districts) == 1 else f"{district.code} {fmt}": path for fmt, path in files.items()})
    if len(districts) > 1:
        written.update({f"city {fmt}": path for fmt, path in write_city_summary(published_db, month, out_dir, formats).items()})
    return written


def _write_files(stem: Path, formats: tuple[str, ...], html_page: Callable[[], str],
                 write_workbook: Callable[[Path], Path]) -> dict[str, Path]:
    """stem.html, stem.pdf (printed from the HTML) and stem.xlsx, as asked; returns {format: path}."""
    from pipelines.report.pdf import html_to_pdf

    stem.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "html" in formats or "pdf" in formats:
        html = html_page()
        if "html" in formats:
            written["html"] = stem.with_name(f"{stem.name}.html")
            written["html"].write_text(html, encoding="utf-8")
        if "pdf" in formats:
            with tempfile.TemporaryDirectory(prefix="ruralcare-report-") as scratch:
                source = written.get("html") or Path(scratch) / "page.html"
                if "html" not in formats:
                    source.write_text(html, encoding="utf-8")
                written["pdf"] = html_to_pdf(source, stem.with_name(f"{stem.name}.pdf"))
    if "xlsx" in formats:
        written["xlsx"] = write_workbook(stem.with_name(f"{stem.name}.xlsx"))
    return {f: written[f] for f in formats}
