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
of the process tree, sampled every 50 ms. Prints a table of medians and ratios to the peer
measured in the same run, and writes every measurement as JSON.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RURALCARE = Path(sys.executable).parent / "ruralcare"

# One stage-timed refresh in its own process: prints one JSON line of per-stage figures.
REFRESH_DRIVER = r"""
import json, os, resource, sys, threading, time
from pathlib import Path

def tree_rss_kb(root):
    pids, total = [root], 0
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                pids += [int(p) for p in children.read().split()]
        except (OSError, StopIteration):
            pass
    return total

def cpu_seconds():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

started = time.perf_counter()
peak = {"value": 0}
stop = threading.Event()
def sample():
    while not stop.wait(0.05):
        peak["value"] = max(peak["value"], tree_rss_kb(os.getpid()))
threading.Thread(target=sample, daemon=True).start()

from pipelines.refresh import run_refresh
from pipelines.resources import WarehouseResource
stages, marks = {}, {}
def on_stage(stage, event):
    if event == "skipped":
        return
    now = (time.perf_counter(), cpu_seconds())
    if event == "start":
        marks[stage] = now
        peak["value"] = tree_rss_kb(os.getpid())
    else:
        wall, cpu = now[0] - marks[stage][0], now[1] - marks[stage][1]
        stages[stage] = {"wall": wall, "cpu": cpu, "peak_rss_mb": peak["value"] / 1024}
imported = time.perf_counter() - started
result = run_refresh(WarehouseResource(sources_dir=sys.argv[1], warehouse_dir=sys.argv[2]), on_stage=on_stage)
stop.set()
own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
total = {"wall": time.perf_counter() - started, "cpu": cpu_seconds(),
         "peak_rss_mb": max([own_peak] + [figures["peak_rss_mb"] for figures in stages.values()])}
print(json.dumps({"success": result.success, "error": result.error, "import": imported,
                  "stages": stages, "total": total}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each case (medians reported)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "refresh.json")
    parser.add_argument("--months", default=None, help="generator months FIRST..LAST (default: its 18 months)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("RURALCARE_PII_KEY", "bench")
    work = args.keep or Path(tempfile.mkdtemp(prefix="ruralcare-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    (work / "dagster_home").mkdir(exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", work / "dagster_home" / "dagster.yaml")

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
        nothing = {"stages": {}, "total": {**quiet, "peak_rss_mb": None}}
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


def split_last_month(inbox: Path) -> tuple[list[str], list[str], str]:
    """Inbox files by the answer key: those of the last report month (its workbooks and the
    registry exports dated in it) and all the others."""
    with (inbox / "answer_key" / "files.csv").open(encoding="utf-8") as handle:
        rows = [(row["relative_path"], row["month"] or row["export_date"][:7]) for row in csv.DictReader(handle)]
    last = max(month for _, month in rows)
    return [path for path, month in rows if month != last], [path for path, month in rows if month == last], last


def copy_inbox(inbox: Path, target: Path, leave_out: list[str] = ()) -> Path:
    skip = {inbox / path for path in leave_out}
    for folder in ("towns", "registries"):
        for source in (inbox / folder).rglob("*"):
            if source.is_file() and source not in skip:
                destination = target / source.relative_to(inbox)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)  # the modification time is data (late submissions)
    return target


def copy_files(inbox: Path, target: Path, paths: list[str]) -> None:
    for path in paths:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(inbox / path, target / path)


def refresh(sources: Path, warehouse: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", REFRESH_DRIVER, str(sources), str(warehouse)],
                          capture_output=True, text=True, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"refresh process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    measured = json.loads(lines[-1])
    if not measured["success"]:
        raise SystemExit(f"refresh failed: {measured['error']}")
    return measured


def timed(command: list[str]) -> dict:
    """Wall and CPU seconds of one command, and its peak RSS (the largest child so far)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def published_state(path: Path) -> dict:
    import duckdb

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select schema_name, table_name, estimated_size from duckdb_tables() "
                             "order by 1, 2").fetchall()
        rows = {f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                for schema, table, _ in tables}
    return {"sha256": digest, "rows": rows}


def show(name: str, measured: dict) -> None:
    parts = "  ".join(f"{stage} {figures['wall']:.1f}s" for stage, figures in measured["stages"].items())
    print(f"  {name}: {measured['total']['wall']:.1f} s  ({parts})", flush=True)


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


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    main()
