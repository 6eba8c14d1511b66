"""Benchmark: time to write one month's report (HTML, PDF, XLSX) from a published database.

    .venv/bin/python bench/bench_report.py [--warehouse DIR] [--month YYYY-MM] [--repeat N]

Defaults: the repository's warehouse/ (run `ruralcare demo` or `ruralcare refresh` first) and
its latest month. Each run is a fresh process, so the figure includes loading the libraries
and cutting the font, as the CLI and the scheduled asset pay them; the stages are timed
inside one of those processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_RUN = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from pipelines.report.fmt import parse_month
from pipelines.report.data import load_report_data
from pipelines.report.content import build_report
from pipelines.report.html import draw_charts, render_html
from pipelines.report.pdf import html_to_pdf
from pipelines.report.xlsx import write_xlsx
db, month, out = Path(sys.argv[1]), parse_month(sys.argv[2]), Path(sys.argv[3])
stages = {"import": time.perf_counter() - started}
def lap(name, since):
    stages[name] = time.perf_counter() - since
    return time.perf_counter()
t = time.perf_counter()
data = load_report_data(db, month); report = build_report(data); t = lap("data", t)
charts = draw_charts(report, data); t = lap("charts", t)
html = render_html(report, charts); (out / "r.html").write_text(html, encoding="utf-8"); t = lap("html", t)
html_to_pdf(out / "r.html", out / "r.pdf"); t = lap("pdf", t)
write_xlsx(report, out / "r.xlsx"); t = lap("xlsx", t)
stages["total"] = time.perf_counter() - started
print(json.dumps(stages))
"""


def main() -> None:
    from pipelines.report.data import report_months
    from pipelines.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="folder of ruralcare.duckdb (default: warehouse/)")
    parser.add_argument("--month", help="YYYY-MM (default: the latest month in the database)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env(warehouse_dir=args.warehouse)
    month = args.month or f"{report_months(settings.published_db)[-1]:%Y-%m}"
    runs = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", ONE_RUN, str(settings.published_db), month, out],
                                  check=True, capture_output=True, text=True)
            stages = json.loads(done.stdout.strip().splitlines()[-1])
            stages["process"] = time.perf_counter() - started
            runs.append(stages)
            print(" ".join(f"{k}={v:.2f}s" for k, v in stages.items()), flush=True)
    best = min(runs, key=lambda r: r["process"])
    print(f"report {month}: best of {len(runs)} = {best['process']:.2f} s for html+pdf+xlsx "
          f"(median {sorted(r['process'] for r in runs)[len(runs) // 2]:.2f} s)")


if __name__ == "__main__":
    main()
