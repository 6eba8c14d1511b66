"""What the benchmarks share: wall, CPU and peak RSS of a command or of a stage-timed refresh, and
the inbox copies their cases start from.

Run as a program it is the stage-timed refresh itself, in its own process (so its figures cover only
that refresh): `python bench/_measure.py SOURCES WAREHOUSE [DIVISIONS PLAN]` prints one JSON line
of per-stage wall seconds, CPU seconds (the process and its children) and peak RSS of the process
tree, sampled every 50 ms.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.05


def descendants(root: int) -> list[int]:
    """Every process below `root`."""
    found, pids = [], [root]
    while pids:
        pid = pids.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    kids = [int(p) for p in children.read().split()]
                    found += kids
                    pids += kids
        except OSError:
            pass
    return found


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, in kB."""
    total = 0
    for pid in [root, *descendants(root)]:
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def cpu_seconds() -> float:
    """CPU of this process, of its children that ended, and of those still running (the refresh's
    warm dbt process runs from the ingest to the end of the refresh)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    running = 0
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            running += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        except (OSError, IndexError, ValueError):
            pass
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + running / os.sysconf("SC_CLK_TCK")


class PeakSampler:
    """The largest tree RSS of a process seen since the last reset, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))

    def reset(self) -> None:
        self.peak_kb = tree_rss_kb(self.pid)

    def stop(self) -> float:
        """Stops sampling; the peak in MB."""
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def workspace(keep: Path | None, prefix: str) -> Path:
    """The benchmark's folder (kept when given, else a new temporary one) with its own Dagster home;
    no telemetry and a fixed person-key secret."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("RURALCARE_PII_KEY", "bench")
    work = keep or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    (work / "dagster_home").mkdir(exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    return work


def refresh(sources: Path, warehouse: Path, divisions: Path | None = None, plan: Path | None = None) -> dict:
    """One stage-timed refresh in a fresh process (this file as a program)."""
    extra = [str(divisions), str(plan)] if divisions or plan else []
    done = subprocess.run([sys.executable, __file__, str(sources), str(warehouse), *extra],
                          capture_output=True, text=True, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"refresh process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    measured = json.loads(lines[-1])
    if not measured["success"]:
        raise SystemExit(f"refresh failed: {measured['error']}")
    return measured


def timed(command: list[str]) -> dict:
    """Wall and CPU seconds of one command and the peak RSS of its process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    sampler = PeakSampler(process.pid)
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    peak = sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_rss_mb": peak}


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


def show(name: str, measured: dict) -> None:
    parts = "  ".join(f"{stage} {figures['wall']:.1f}s" for stage, figures in measured["stages"].items())
    print(f"  {name}: {measured['total']['wall']:.1f} s  ({parts})", flush=True)


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_1min": round(os.getloadavg()[0], 2)}


def _timed_refresh(sources: str, warehouse: str, divisions: str | None, plan: str | None) -> dict:
    started = time.perf_counter()
    sampler = PeakSampler(os.getpid())
    from pipelines.refresh_helpers import helpers_running
    from pipelines.settings import Settings

    # As `ruralcare refresh` does: the helpers start before Dagster is imported.
    paths = {"sources_dir": sources, "warehouse_dir": warehouse, "divisions_file": divisions, "plan_dir": plan}
    with helpers_running(Settings.from_env(**{k: Path(v) if v else None for k, v in paths.items()})):
        return _timed_refresh_run(started, sampler, **paths)


def _timed_refresh_run(started: float, sampler: PeakSampler, **paths: str | None) -> dict:
    from pipelines.long_lived import loading_long_lived_objects

    with loading_long_lived_objects():  # as `ruralcare refresh` imports Dagster
        from pipelines.refresh import load_for_this_process, run_refresh
        from pipelines.resources import WarehouseResource
    instance = load_for_this_process()

    stages, marks = {}, {}

    def on_stage(stage: str, event: str) -> None:
        if event == "skipped":
            return
        now = (time.perf_counter(), cpu_seconds())
        if event == "start":
            marks[stage] = now
            sampler.reset()
        else:
            wall, cpu = now[0] - marks[stage][0], now[1] - marks[stage][1]
            stages[stage] = {"wall": wall, "cpu": cpu, "peak_rss_mb": sampler.peak_kb / 1024}

    imported = time.perf_counter() - started
    resource_ = WarehouseResource(**paths)
    result = run_refresh(resource_, instance=instance, on_stage=on_stage)
    sampler.stop()
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = {"wall": time.perf_counter() - started, "cpu": cpu_seconds(),
             "peak_rss_mb": max([own_peak] + [figures["peak_rss_mb"] for figures in stages.values()])}
    return {"success": result.success, "error": result.error, "import": imported, "stages": stages, "total": total}


if __name__ == "__main__":
    arguments = sys.argv[1:] + [None] * (4 - len(sys.argv[1:]))
    print(json.dumps(_timed_refresh(*arguments[:4])))
