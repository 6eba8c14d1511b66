"""The monthly progress report (进展通报): HTML, PDF and Excel from the published database."""

from pipelines.report.writer import FORMATS, parse_formats, write_city_summary, write_report

__all__ = ["FORMATS", "parse_formats", "write_city_summary", "write_report"]
