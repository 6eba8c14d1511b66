"""Benchmark: `ruralcare generate` at district scale (default seed, 18 months) against the same
work done in one process.

    .venv/bin/python bench/bench_generate.py [--repeat N]

Each measurement is a fresh process writing into a temporary folder. The baseline does the
generator's steps one after the other in one process (model, every town's workbooks,
registries, answer key); `generate` shares them with a second process. The issue's target is
30 s for the default run. Figures on a shared machine move by ±20 % from run to run: the
ratio, measured in the same run, is the steadier number.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_SECONDS = 30.0

GENERATE = """
import sys
from pathlib import Path
from pipelines.generate import generate
generate(Path(sys.argv[1]))
"""

ONE_PROCESS = """
import sys
from pathlib import Path
from pipelines.generate import _natural_findings, _unpaired_key_examples, _write_answer_kpis
from pipelines.generate.answer_key import (town_truth_frames, write_answer_key, write_file_truth,
                                           write_registry_truth, write_town_truth)
from pipelines.generate.build import Run, generate_odd_files, generate_registries, generate_workbooks
from pipelines.generate.contract import load_contract
from pipelines.generate.divisions import load_towns
from pipelines.generate.model import build_programme, parse_months
from pipelines.settings import BUILTIN_DIVISIONS, CONTRACT_FILE, SEEDS_DIR
out = Path(sys.argv[1])
sheets, registries = load_contract(CONTRACT_FILE)
prog = build_programme(20221231, parse_months("2021-07..2022-12"), load_towns(BUILTIN_DIVISIONS), SEEDS_DIR)
run = Run(out, 20221231, False, prog, sheets, registries)
generate_workbooks(run, None)
generate_registries(run, None)
run.recorder.findings.extend(_unpaired_key_examples(run))
truth = out / "answer_key" / "truth"
write_registry_truth(truth, run.registry_truth, registries)
write_town_truth(truth, [town_truth_frames(run.truth, sheets)])
generate_odd_files(run)
_natural_findings(run)
write_file_truth(truth, run.files, run.sheet_rows)
write_answer_key(out / "answer_key", run.files, run.sheet_rows, run.recorder.findings, run.recorder.manifest, [])
_write_answer_kpis(out / "answer_key")
"""


# Runs one measurement in its own process, so the resource figures cover only its children.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], check=True)
wall = time.perf_counter() - started
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(use.ru_utime + use.ru_stime, 2),
                  "peak_rss_mb_largest_process": round(use.ru_maxrss / 1024)}))
"""


def measure(script: str) -> dict:
    """Wall and CPU seconds of a run and the process it spawns, the larger peak RSS, files written."""
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run([sys.executable, "-c", MEASURE, script, out], check=True, capture_output=True,
                                text=True, env={**os.environ, "DO_NOT_TRACK": "1"})
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        figures["files"] = sum(1 for p in Path(out).rglob("*") if p.is_file())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rounds = []
    for n in range(args.repeat):  # alternate, so both see the same machine
        rounds.append({"generate": measure(GENERATE), "one_process": measure(ONE_PROCESS)})
        print(f"round {n + 1}: {json.dumps(rounds[-1])}", file=sys.stderr)
    best = {name: min((r[name] for r in rounds), key=lambda m: m["wall_s"]) for name in ("generate", "one_process")}
    print(json.dumps({
        "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
        "generate": best["generate"], "one_process_baseline": best["one_process"],
        "wall_ratio_generate_to_baseline": round(best["generate"]["wall_s"] / best["one_process"]["wall_s"], 2),
        "wall_ratio_generate_to_target": round(best["generate"]["wall_s"] / TARGET_SECONDS, 2),
    }, indent=1))


if __name__ == "__main__":
    main()
