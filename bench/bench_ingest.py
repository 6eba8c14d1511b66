"""Benchmark: ingest a district-scale inbox (11 towns x 18 months) and compare with a plain
pandas + openpyxl reader of the same workbooks. Prints time, peak memory and the ratio.

    .venv/bin/python bench/bench_ingest.py [--inbox DIR]

Without --inbox the generator's default output is used (pipelines.generate.generate);
each measurement runs in its own process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _measure_ingest(inbox: str, work: str) -> dict:
    import duckdb

    from pipelines.ingest import run_ingest
    from pipelines.settings import Settings

    os.environ.setdefault("RURALCARE_PII_KEY", "bench")
    settings = Settings.from_env(sources_dir=Path(inbox), warehouse_dir=Path(work))
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(settings.work_db))
    summary = run_ingest(settings, con, "bench")
    con.close()
    return {"seconds": time.perf_counter() - started, "files": summary.files_by_status,
            "rows": sum(summary.rows_by_table.values())}


def _measure_baseline(inbox: str) -> dict:
    import pandas as pd

    started = time.perf_counter()
    rows = 0
    for path in sorted(Path(inbox, "towns").rglob("*.xls*")):
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl" if path.suffix != ".xls" else None, dtype=str)
        except Exception:  # broken files: the baseline just skips them
            continue
        rows += sum(len(frame) for frame in sheets.values())
    for path in sorted(Path(inbox, "registries").rglob("*.csv")):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                rows += len(pd.read_csv(path, dtype=str, encoding=encoding, on_bad_lines="skip"))
                break
            except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
                continue
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _child(kind: str, inbox: str, work: str) -> None:
    result = _measure_ingest(inbox, work) if kind == "ingest" else _measure_baseline(inbox)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, ensure_ascii=False))


def _run(kind: str, inbox: Path, work: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--inbox", str(inbox), "--work", str(work)],
                         check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inbox")
    parser.add_argument("--child")
    parser.add_argument("--work")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if args.child:
        _child(args.child, args.inbox, args.work)
        return
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(args.inbox) if args.inbox else Path(tmp) / "sources"
        if not args.inbox:
            from pipelines.generate import generate

            generate(inbox, seed=1)
        # Ingest moves rejected files aside: give each run its own copy of the inbox.
        import shutil

        ingest_inbox = Path(tmp) / "ingest_inbox"
        shutil.copytree(inbox, ingest_inbox, symlinks=True)
        ingest = _run("ingest", ingest_inbox, Path(tmp) / "warehouse")
        baseline = _run("baseline", inbox, Path(tmp))
    print(f"ingest (calamine + polars + GX + DuckDB): {ingest['seconds']:.1f} s, peak {ingest['peak_rss_mb']:.0f} MB, "
          f"{ingest['rows']} rows, files {ingest['files']}")
    print(f"baseline (pandas + openpyxl, read only):  {baseline['seconds']:.1f} s, peak {baseline['peak_rss_mb']:.0f} MB, "
          f"{baseline['rows']} rows")
    print(f"time ratio ingest/baseline: {ingest['seconds'] / baseline['seconds']:.2f}; "
          f"memory ratio: {ingest['peak_rss_mb'] / baseline['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
