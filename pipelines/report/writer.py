"""write_report: one month's report from the published database, in the formats asked for."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pipelines.report.content import build_report
from pipelines.report.data import load_report_data

FORMATS = ("html", "pdf", "xlsx")


def report_stem(month: date) -> str:
    return f"渝北区农村养老服务全覆盖工作进展情况通报_{month:%Y-%m}"


def parse_formats(text: str) -> tuple[str, ...]:
    """'html,pdf' → ('html', 'pdf'); an unknown format is an error naming the valid ones."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown report format {', '.join(unknown) or text!r}: choose from {', '.join(FORMATS)}")
    return formats


def write_report(published_db: Path, month: date, out_dir: Path,
                 formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """Write the month's report into out_dir; returns {format: path}."""
    formats = parse_formats(",".join(formats))
    month = month.replace(day=1)
    data = load_report_data(Path(published_db), month)
    # Renderers load matplotlib, Jinja and fontTools: only once the month is known to exist.
    from pipelines.report.html import draw_charts, render_html
    from pipelines.report.pdf import html_to_pdf
    from pipelines.report.xlsx import write_xlsx

    report = build_report(data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(month)
    written: dict[str, Path] = {}
    if "html" in formats or "pdf" in formats:
        html = render_html(report, draw_charts(report, data))
        if "html" in formats:
            written["html"] = out_dir / f"{stem}.html"
            written["html"].write_text(html, encoding="utf-8")
        if "pdf" in formats:
            with tempfile.TemporaryDirectory(prefix="ruralcare-report-") as scratch:
                source = written.get("html") or Path(scratch) / f"{month:%Y-%m}.html"
                if "html" not in formats:
                    source.write_text(html, encoding="utf-8")
                written["pdf"] = html_to_pdf(source, out_dir / f"{stem}.pdf")
    if "xlsx" in formats:
        written["xlsx"] = write_xlsx(report, out_dir / f"{stem}.xlsx")
    return {f: written[f] for f in formats}
