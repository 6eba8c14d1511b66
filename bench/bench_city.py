"""Benchmark: the city end to end — generate, full refresh by stage, one new month, one district's report.

    .venv/bin/python bench/bench_city.py [--towns 800] [--people 3000000] [--months 2022-11..2022-12]
                                         [--district CODE] [--keep DIR] [--json bench/results/city.json]
                                         [--generated DIR]   (measure again on an earlier --keep's city)

Defaults are the issue's city (`ruralcare generate --scale city`: 8 districts, 800 towns, 3,000,000
people, two months). --towns and --people scale it down for a quick look: 100 towns make a
district, so 101 towns already make two. Cases, each a fresh process:

- generate:  the city's sources, division list and plan (the generator's own function, which takes the
             town and people counts the command line leaves at the city's);
- full:      both months refreshed from an empty warehouse with the city's division list and plan;
- new month: the months before the last refreshed, then the last month's workbooks and registry
             exports arrive (bench_refresh.py's incremental case);
- report:    `ruralcare report --district` (html + pdf + xlsx) for the last month, of --district
             (default: the first district);
- city:      `ruralcare report --city` (html + pdf + xlsx), the districts ranked.

Each gets wall seconds, CPU seconds and the peak RSS of its process tree (bench/_measure.py), the
refreshes per stage. Prints them beside the issue's targets for this 2-core, 24 GB machine (full
refresh ≤ 3 min and ≤ 6 GB, one new month ≤ 60 s) and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

from _measure import ROOT, copy_files, copy_inbox, machine, refresh, show, split_last_month, timed, workspace

RURALCARE = Path(sys.executable).parent / "ruralcare"

GENERATE = """
import json, sys
from pathlib import Path
from pipelines.generate import generate
out, seed, months, towns, people = sys.argv[1:]
summary = generate(Path(out), seed=int(seed), months=months, scale="city", city_towns=int(towns),
                   city_people=int(people))
(Path(out) / "generate-summary.json").write_text(json.dumps(summary, ensure_ascii=False))
"""

# case → (wall seconds, peak RSS MB) at most; None: no target
TARGETS = {"full": (180, 6144), "new_month": (60, None)}


def main() -> None:
    from pipelines.generate.city import CITY_PEOPLE, CITY_TOWNS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=CITY_TOWNS, help="towns of the city (100 per district)")
    parser.add_argument("--people", type=int, default=CITY_PEOPLE, help="older people in the registries")
    parser.add_argument("--months", default="2022-11..2022-12", help="generator months FIRST..LAST (at least two)")
    parser.add_argument("--seed", type=int, default=20221231)
    parser.add_argument("--district", help="district code of the report (default: the first district)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "city.json")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    parser.add_argument("--generated", type=Path,
                        help="measure on this earlier run's generated folder (its --keep DIR/generated) instead of "
                             "generating again; generate is then not measured")
    args = parser.parse_args()
    work = workspace(args.keep, "ruralcare-bench-city-")

    results: dict[str, dict] = {}
    if args.generated:
        generated = args.generated.resolve()
        if not (generated / "generate-summary.json").exists():
            raise SystemExit(f"{generated} is not a generated city folder (no generate-summary.json)")
        print(f"measuring on the city generated in {generated}", flush=True)
    else:
        generated = work / "generated"
        shutil.rmtree(generated, ignore_errors=True)
        generated.mkdir()
        print(f"generating a city of {args.towns} towns and {args.people:,} people ({args.months}) into {generated} …",
              flush=True)
        results["generate"] = timed([sys.executable, "-c", GENERATE, str(generated), str(args.seed), args.months,
                                     str(args.towns), str(args.people)])
    generated_summary = json.loads((generated / "generate-summary.json").read_text(encoding="utf-8"))
    divisions, plan = Path(generated_summary["divisions"]), Path(generated_summary["plan"])
    older, newest, last_month = split_last_month(generated)
    if not older:
        raise SystemExit(f"--months {args.months} is one month: the new-month case needs two or more")
    generate_time = f"{results['generate']['wall']:.1f} s; " if "generate" in results else ""
    print(f"  {generate_time}{len(older)} files before {last_month}, {len(newest)} of it", flush=True)

    full_warehouse = work / "full" / "warehouse"
    shutil.rmtree(work / "full", ignore_errors=True)
    results["full"] = refresh(copy_inbox(generated, work / "full" / "inbox"), full_warehouse, divisions, plan)
    show("full refresh", results["full"])

    shutil.rmtree(work / "incremental", ignore_errors=True)
    sources = copy_inbox(generated, work / "incremental" / "inbox", leave_out=newest)
    warehouse = work / "incremental" / "warehouse"
    results["earlier_months"] = refresh(sources, warehouse, divisions, plan)
    copy_files(generated, sources, newest)
    results["new_month"] = refresh(sources, warehouse, divisions, plan)
    show("one new month", results["new_month"])

    district = args.district or first_district(warehouse / "ruralcare.duckdb")
    report = [str(RURALCARE), "report", "--month", last_month, "--warehouse", str(warehouse), "--out", str(work / "report")]
    results["report"] = timed([*report, "--district", district])
    print(f"  report of district {district}: {results['report']['wall']:.1f} s", flush=True)
    results["city"] = timed([*report, "--city"])
    print(f"  city summary: {results['city']['wall']:.1f} s", flush=True)

    sizes = {"inbox_mb": folder_mb(work / "full" / "inbox"),
             "work_db_mb": (full_warehouse / "work.duckdb").stat().st_size / 2**20,
             "published_db_mb": (full_warehouse / "ruralcare.duckdb").stat().st_size / 2**20}
    print_table(results, sizes)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
        "city": {"towns": generated_summary["towns"], "villages": generated_summary["villages"],
                 "people": generated_summary["people"], "months": None if args.generated else args.months,
                 "generated": str(generated), "report_district": district},
        "targets": {case: {"wall_s": wall, "peak_rss_mb": peak} for case, (wall, peak) in TARGETS.items()},
        "sizes": sizes, "measurements": results,
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwritten: {args.json}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def first_district(published_db: Path) -> str:
    from pipelines.report.data import report_districts

    return report_districts(published_db)[0].code


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def verdict(case: str, wall: float, peak: float | None) -> str:
    """'≤180 s ok, ≤6144 MB ok' against the case's targets; '' without any."""
    if case not in TARGETS:
        return ""
    wall_target, peak_target = TARGETS[case]
    said = [f"≤{wall_target} s {'ok' if wall <= wall_target else 'OVER'}"]
    if peak_target is not None and peak is not None:
        said.append(f"≤{peak_target} MB {'ok' if peak <= peak_target else 'OVER'}")
    return ", ".join(said)


def print_table(results: dict, sizes: dict) -> None:
    print(f"\n{'case':<16}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}  {'target (800-town city)':<26}"
          "stages (wall s / peak MB)")
    for case in ("generate", "full", "earlier_months", "new_month", "report", "city"):
        if case not in results:
            continue
        measured = results[case]
        figures = measured.get("total", measured)
        stages = "  ".join(f"{s} {f['wall']:.1f}/{f['peak_rss_mb']:.0f}" for s, f in measured.get("stages", {}).items())
        print(f"{case:<16}{figures['wall']:>8.1f}{figures['cpu']:>8.1f}{figures['peak_rss_mb']:>9.0f}  "
              f"{verdict(case, figures['wall'], figures['peak_rss_mb']):<26}{stages}")
    print(f"inbox {sizes['inbox_mb']:.0f} MB; after the full refresh: work.duckdb {sizes['work_db_mb']:.0f} MB, "
          f"ruralcare.duckdb {sizes['published_db_mb']:.0f} MB")


if __name__ == "__main__":
    main()
