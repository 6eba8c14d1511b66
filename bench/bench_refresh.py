"""Benchmark: the district refresh in its three cases, the monthly report, and a pandas peer.

    .venv/bin/python bench/bench_refresh.py [--runs 3] [--json bench/results/refresh.json]

Data: `ruralcare generate` (the default 18-month district inbox) in this run. Cases, each a
fresh process on a copy of the inbox (mtimes kept), repeated --runs times:

- full:        refresh from an empty warehouse;
- new month:   17 months loaded, then the last month's workbooks and registry exports arrive;
- nothing new: `ruralcare refresh` again with the inbox unchanged (the published file's bytes
               and every table's row count are compared before and after);
- report:      `ruralcare report` (html + pdf + xlsx) for the latest month;
- peer:        bench/peer_pandas.py on the same inbox (K09, K10, K14 by pandas + openpyxl).

Each stage gets wall seconds, CPU seconds (the process and its children) and the peak RSS
of the process tree, sampled every 50 ms (bench/_measure.py). Prints a table of medians and
ratios to the peer measured in the same run, and writes every measurement as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

from _measure import ROOT, copy_files, copy_inbox, machine, refresh, show, split_last_month, timed, workspace

RURALCARE = Path(sys.executable).parent / "ruralcare"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each case (medians reported)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "refresh.json")
    parser.add_argument("--months", default=None, help="generator months FIRST..LAST (default: its 18 months)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    work = workspace(args.keep, "ruralcare-bench-")

    inbox = work / "generated"
    shutil.rmtree(inbox, ignore_errors=True)
    results: dict[str, list] = {"generate": [], "full": [], "new_month": [], "nothing_new": [],
                                "report": [], "peer": [], "no_change_check": []}
    print(f"generating the default district inbox into {inbox} …", flush=True)
    months = ["--months", args.months] if args.months else []
    results["generate"].append(timed([str(RURALCARE), "generate", "--out", str(inbox), *months]))
    older, newest, last_month = split_last_month(inbox)
    print(f"  {len(older)} files before {last_month}, {len(newest)} of {last_month}", flush=True)

    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs}", flush=True)
        case = work / f"run{run}"
        shutil.rmtree(case, ignore_errors=True)
        full = refresh(copy_inbox(inbox, case / "full" / "inbox"), case / "full" / "warehouse")
        results["full"].append(full)
        show("full refresh", full)

        sources = copy_inbox(inbox, case / "incremental" / "inbox", leave_out=newest)
        warehouse = case / "incremental" / "warehouse"
        refresh(sources, warehouse)
        copy_files(inbox, sources, newest)
        new_month = refresh(sources, warehouse)
        results["new_month"].append(new_month)
        show("one new month", new_month)

        before = published_state(warehouse / "ruralcare.duckdb")
        # As a clerk runs it: the command line, which stops early when nothing is new.
        quiet = timed([str(RURALCARE), "refresh", "--sources", str(sources), "--warehouse", str(warehouse)])
        nothing = {"stages": {}, "total": quiet}
        after = published_state(warehouse / "ruralcare.duckdb")
        results["nothing_new"].append(nothing)
        results["no_change_check"].append({"published_bytes_same": before["sha256"] == after["sha256"],
                                           "row_counts_same": before["rows"] == after["rows"]})
        show("nothing new", nothing)

        report = timed([str(RURALCARE), "report", "--month", last_month, "--warehouse", str(warehouse),
                        "--out", str(case / "report")])
        results["report"].append(report)
        print(f"  report: {report['wall']:.1f} s", flush=True)

        peer = timed([sys.executable, str(ROOT / "bench" / "peer_pandas.py"), str(inbox)])
        results["peer"].append(peer)
        print(f"  pandas peer: {peer['wall']:.1f} s", flush=True)

    summary = summarise(results)
    print_table(summary)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "runs": args.runs, "summary": summary, "measurements": results,
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwritten: {args.json}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def published_state(path: Path) -> dict:
    import duckdb

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select schema_name, table_name, estimated_size from duckdb_tables() "
                             "order by 1, 2").fetchall()
        rows = {f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                for schema, table, _ in tables}
    return {"sha256": digest, "rows": rows}


def summarise(results: dict) -> dict:
    median = statistics.median
    summary = {}
    for case in ("full", "new_month", "nothing_new"):
        runs = results[case]
        stages = {stage: {key: median(run["stages"][stage][key] for run in runs if stage in run["stages"])
                          for key in ("wall", "cpu", "peak_rss_mb")}
                  for stage in runs[0]["stages"]}
        peaks = [r["total"]["peak_rss_mb"] for r in runs if r["total"]["peak_rss_mb"] is not None]
        summary[case] = {"wall": median(r["total"]["wall"] for r in runs),
                         "cpu": median(r["total"]["cpu"] for r in runs),
                         "peak_rss_mb": median(peaks) if peaks else None,
                         "stages": stages}
    for case in ("generate", "report", "peer"):
        summary[case] = {"wall": median(r["wall"] for r in results[case]),
                         "cpu": median(r["cpu"] for r in results[case])}
    peer = summary["peer"]["wall"]
    for case in ("full", "new_month", "nothing_new", "report"):
        summary[case]["ratio_to_peer"] = summary[case]["wall"] / peer
    summary["no_change"] = {
        "published_bytes_same": all(c["published_bytes_same"] for c in results["no_change_check"]),
        "row_counts_same": all(c["row_counts_same"] for c in results["no_change_check"]),
    }
    return summary


TARGETS = {"full": 30, "new_month": 15, "nothing_new": 5, "report": 6, "generate": 30}


def print_table(summary: dict) -> None:
    print(f"\n{'case':<14}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'× peer':>8}{'target':>8}  stages (wall s)")
    for case in ("full", "new_month", "nothing_new", "report", "generate", "peer"):
        figures = summary[case]
        stages = "  ".join(f"{s} {f['wall']:.1f}" for s, f in figures.get("stages", {}).items())
        ratio = f"{figures['ratio_to_peer']:.2f}" if "ratio_to_peer" in figures else ""
        target = f"≤{TARGETS[case]}" if case in TARGETS else ""
        cpu = f"{figures['cpu']:.1f}" if "cpu" in figures else ""
        peak = f"{figures['peak_rss_mb']:.0f}" if figures.get("peak_rss_mb") is not None else ""
        print(f"{case:<14}{figures['wall']:>8.1f}{cpu:>8}{peak:>9}{ratio:>8}{target:>8}  {stages}")
    print(f"nothing new: published file unchanged = {summary['no_change']['published_bytes_same']}, "
          f"row counts unchanged = {summary['no_change']['row_counts_same']}")


if __name__ == "__main__":
    main()
