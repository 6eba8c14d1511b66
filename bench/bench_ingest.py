"""Benchmark: ingest a district-scale inbox (11 towns x 18 months) and compare with a plain
pandas + openpyxl reader of the same workbooks. Prints time, peak memory and the ratio.

    .venv/bin/python bench/bench_ingest.py [--inbox DIR] [--city-rows N]

Without --inbox the generator's default output is used (pipelines.generate.generate, default
seed); each measurement runs in its own process so peak RSS is its own. `--city-rows N`
also loads a synthetic city-wide 农村老年人信息库 export of N rows (GB18030) on its own,
to show that a registry streams through with bounded memory.
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


DEFAULT_SEED = 20221231  # the generator's default output, as tests/conftest.py makes it


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


def write_city_registry(path: Path, rows: int, seed: int = 7) -> None:
    """A city-scale elderly-database export: valid IDs, real town and village names, GB18030."""
    import polars as pl

    from pipelines.ingest.idnumber import check_char_expr
    from pipelines.settings import BUILTIN_DIVISIONS

    divisions = pl.read_csv(BUILTIN_DIVISIONS, infer_schema=False)
    towns = divisions.filter(pl.col("level") == "town").select(pl.col("code").alias("parent_code"),
                                                              pl.col("name").alias("镇街"))
    places = (divisions.filter(pl.col("level") == "village").select("parent_code", pl.col("name").alias("村社区"))
              .join(towns, on="parent_code").drop("parent_code").with_row_index("place"))
    index = pl.col("i")
    born = pl.date(1922, 1, 1) + pl.duration(days=(index * 7919 + seed) % 25000)
    first17 = pl.concat_str(pl.lit("500112"), born.dt.strftime("%Y%m%d"),
                            ((index * 37 + seed) % 1000).cast(pl.String).str.zfill(3))
    frame = (
        pl.DataFrame({"i": pl.int_range(rows, eager=True)})
        .with_columns(first17=first17, born=born, place=(index % places.height).cast(pl.UInt32))
        .join(places, on="place", how="left")
        .sort("i")
        .select(
            姓名=pl.lit("张*"), 公民身份号码=pl.col("first17") + check_char_expr(pl.col("first17")),
            性别=pl.when(index % 2 == 0).then(pl.lit("男")).otherwise(pl.lit("女")),
            出生日期=pl.col("born").dt.strftime("%Y-%m-%d"), 镇街=pl.col("镇街"), 村社区=pl.col("村社区"),
            居住状况=pl.lit("独居"), 是否留守=pl.lit("否"), 能力等级=(index % 5).cast(pl.String),
            计生特殊家庭=pl.lit("否"), 智能监测设备=pl.lit("是"), 联系电话=pl.lit("138****1234"),
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for start in range(0, rows, 500_000):
            text = frame.slice(start, 500_000).write_csv(include_header=start == 0)
            handle.write(text.encode("gb18030"))


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM): unlike ru_maxrss it does not carry over the
    parent's peak across fork + exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, inbox: str, work: str) -> None:
    result = _measure_ingest(inbox, work) if kind == "ingest" else _measure_baseline(inbox)
    result["peak_rss_mb"] = _peak_rss_mb()
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
    parser.add_argument("--city-rows", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if args.child:
        _child(args.child, args.inbox, args.work)
        return
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(args.inbox) if args.inbox else Path(tmp) / "sources"
        if not args.inbox:
            from pipelines.generate import generate

            generate(inbox, seed=DEFAULT_SEED)
        # Ingest moves rejected files aside: give each run its own copy of the inbox.
        import shutil

        ingest_inbox = Path(tmp) / "ingest_inbox"
        shutil.copytree(inbox, ingest_inbox, symlinks=True)
        ingest = _run("ingest", ingest_inbox, Path(tmp) / "warehouse")
        baseline = _run("baseline", inbox, Path(tmp))
        city = None
        if args.city_rows:
            city_inbox = Path(tmp) / "city_inbox"
            write_city_registry(city_inbox / "registries" / "农村老年人信息库_20221230.csv", args.city_rows)
            size_mb = (city_inbox / "registries" / "农村老年人信息库_20221230.csv").stat().st_size / 2**20
            city = _run("ingest", city_inbox, Path(tmp) / "city_warehouse")
    print(f"ingest (calamine + polars + GX + DuckDB): {ingest['seconds']:.1f} s, peak {ingest['peak_rss_mb']:.0f} MB, "
          f"{ingest['rows']} rows, files {ingest['files']}")
    print(f"baseline (pandas + openpyxl, read only):  {baseline['seconds']:.1f} s, peak {baseline['peak_rss_mb']:.0f} MB, "
          f"{baseline['rows']} rows")
    print(f"time ratio ingest/baseline: {ingest['seconds'] / baseline['seconds']:.2f}; "
          f"memory ratio: {ingest['peak_rss_mb'] / baseline['peak_rss_mb']:.2f}")
    if city:
        print(f"city-scale 农村老年人信息库 ({args.city_rows} rows, {size_mb:.0f} MB GB18030): "
              f"{city['seconds']:.1f} s, peak {city['peak_rss_mb']:.0f} MB, {city['rows']} rows, files {city['files']}")


if __name__ == "__main__":
    main()
