"""Synthetic sources for ruralcare: `generate()` writes towns/, registries/ and answer_key/.

The programme is modelled first (`model.py`), then rendered into the files towns and
district systems send (`render.py`, `registries.py`), with the variations of docs/inputs.md
and — unless `clean` — the planted problems of docs/rules.md (`plants.py`). The answer key
is computed from the model, never by running the pipeline.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path
from typing import Callable

from ..settings import BUILTIN_DIVISIONS, CONTRACT_FILE, SEEDS_DIR

Progress = Callable[[str, int, int], None]


# The registries take about as long as 5 of the 11 towns' workbooks; the answer key is written
# by the first process after both finish.
SECOND_PROCESS_TOWN_SHARE = 0.2


def generate(out_dir: Path, *, seed: int = 20221231, months: str = "2021-07..2022-12", scale: str = "district",
             clean: bool = False, progress: Progress | None = None, city_towns: int | None = None,
             city_people: int | None = None) -> dict:
    """Write synthetic sources and their answer key under `out_dir`; return a summary.

    `scale="city"` writes about 800 synthetic towns and 3 million people with their own
    division list (`reference/divisions.csv`); `city_towns`/`city_people` shrink it (tests).
    """
    from .answer_key import (INGEST_RULES, town_truth_frames, write_answer_key, write_file_truth,
                              write_town_truth)
    from .build import Run, generate_odd_files, generate_workbooks
    from .contract import load_contract
    from .divisions import load_towns
    from .model import build_programme, parse_months
    from .render import RULE_IDS, layer_of

    if scale == "city":
        from .city import CITY_PEOPLE, CITY_TOWNS, generate_city

        return generate_city(out_dir, seed=seed, months=months, clean=clean, progress=progress,
                             towns=city_towns or CITY_TOWNS, people=city_people or CITY_PEOPLE)
    if scale != "district":
        raise ValueError(f"unknown scale {scale!r}: district or city")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    for sub in ("towns", "registries", "answer_key"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    month_list = parse_months(months)
    towns = load_towns(BUILTIN_DIVISIONS)
    # A second process (spawned: polars' threads do not survive a fork) builds the same model
    # from the seed and writes the registries and the last towns' workbooks while this one
    # writes the first towns' workbooks: about equal shares of the work on two cores.
    split = len(towns) - round(len(towns) * SECOND_PROCESS_TOWN_SHARE)
    second = _start(_second_process_job, out_dir, seed, months, clean, split)
    sheets, registries = load_contract(CONTRACT_FILE)
    prog = build_programme(seed, month_list, towns, SEEDS_DIR)
    run = Run(out_dir, seed, clean, prog, sheets, registries)
    key_dir = out_dir / "answer_key"
    generate_workbooks(run, progress, prog.towns[:split])
    first_towns = town_truth_frames(run.truth, sheets)
    run.truth.clear()  # the rows live on as frames
    if progress:
        progress("registries and the last towns' workbooks", 0, 0)
    last_towns = _merge(run, _join(second))
    if progress:
        progress("answer key", 0, 0)
    write_town_truth(key_dir / "truth", [first_towns, last_towns])
    generate_odd_files(run)
    if not clean:
        _natural_findings(run)
    planted = {}
    for f in run.recorder.findings:
        planted[f["rule_id"]] = planted.get(f["rule_id"], 0) + 1
    rules = [{"rule_id": r, "layer": layer_of(r), "exhaustive": r[:4] in INGEST_RULES, "planted": planted.get(r, 0)}
             for r in RULE_IDS]
    write_file_truth(key_dir / "truth", run.files, run.sheet_rows)
    write_answer_key(key_dir, run.files, run.sheet_rows, run.recorder.findings, run.recorder.manifest, rules)
    _write_answer_kpis(key_dir)
    counts: dict[str, int] = {}
    for f in run.files:
        key = f"{f['kind']}:{f['expected_status']}"
        counts[key] = counts.get(key, 0) + 1
    return {"files": counts, "findings": len(run.recorder.findings), "people": len(prog.people),
            "plants_not_applied": sorted(run.lost_plants),
            "elapsed_seconds": round(time.perf_counter() - started, 2), "out_dir": str(out_dir)}


def _second_process_job(out_dir: Path, seed: int, months: str, clean: bool, split: int) -> dict:
    """Workbooks of the towns from `split` on, then the registries; returns what the answer key needs."""
    from .answer_key import town_truth_frames, write_registry_truth
    from .build import Run, generate_registries, generate_workbooks
    from .contract import load_contract
    from .divisions import load_towns
    from .model import build_programme, parse_months

    sheets, registries = load_contract(CONTRACT_FILE)
    prog = build_programme(seed, parse_months(months), load_towns(BUILTIN_DIVISIONS), SEEDS_DIR)
    run = Run(out_dir, seed, clean, prog, sheets, registries)
    generate_workbooks(run, None, prog.towns[split:])
    generate_registries(run, None)
    write_registry_truth(out_dir / "answer_key" / "truth", run.registry_truth, registries)
    return {"files": run.files, "sheet_rows": run.sheet_rows, "town_truth": town_truth_frames(run.truth, sheets),
            "lost_plants": run.lost_plants,
            "findings": run.recorder.findings + _unpaired_key_examples(run), "manifest": run.recorder.manifest}


def _run_and_send(sender, target, args) -> None:
    try:
        sender.send(("ok", target(*args)))
    except BaseException as error:  # reported to the parent, which raises
        import traceback

        sender.send(("error", f"{error!r}\n{traceback.format_exc()}"))
    finally:
        sender.close()


def _start(target, *args):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run_and_send, args=(sender, target, args), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def _join(job):
    process, receiver = job
    try:
        status, payload = receiver.recv()
    except EOFError as error:
        raise RuntimeError("the second generation process died") from error
    process.join()
    if status != "ok":
        raise RuntimeError(f"the second generation process failed: {payload}")
    return payload


def _merge(run, result: dict) -> dict:
    """The second process's output after this one's (files and manifest places in town order);
    returns its towns' truth frames."""
    run.files.extend(result["files"])
    run.sheet_rows.extend(result["sheet_rows"])
    run.lost_plants.extend(result["lost_plants"])
    run.recorder.findings.extend(result["findings"])
    run.recorder.absorb(result["manifest"])
    return result["town_truth"]


def _unpaired_key_examples(run) -> list[dict]:
    """Five key-group persons with no pairing row in the last month (DQ06 occurs naturally: not exhaustive)."""
    import polars as pl

    if run.clean:
        return []
    prog = run.prog
    last = prog.months[-1]
    export = prog.elderly_export_for(last)
    paired = {r["id_number"] for town in prog.towns for r in prog.pairing_rows(town, last)}
    listed = pl.concat(run.registry_truth["elderly"]).filter(pl.col("export_date") == export)
    rows_by_id = {r["id_number"]: r for r in listed.select("id_number", "file_id", "row_number").iter_rows(named=True)}
    out = []
    for person in prog.people:
        if len(out) >= 5:
            break
        if prog.is_key(person, last) and person.id_number not in paired and person.id_number in rows_by_id:
            row = rows_by_id[person.id_number]
            out.append({"rule_id": "DQ06_key_person_unpaired", "layer": "sql", "town_code": person.town.code,
                        "month": run.month_label(last), "source_file": row["file_id"], "sheet": None,
                        "row_number": row["row_number"], "column_name": "公民身份号码"})
    return out


def _natural_findings(run) -> None:
    """Towns far from their registry's key-group count in the first month (DQ25: examples, not exhaustive)."""
    prog = run.prog
    first = prog.months[0]
    for town in prog.towns[:3]:
        key_total = sum(1 for p in prog.people_by_town[town.code] if prog.is_key(p, first))
        key_paired = sum(1 for p in prog.pairing_people(town, first) if prog.is_key(p, first))
        if key_total and abs(key_paired - key_total) / key_total > 0.5:
            wb = next((f for f in run.files if f["town_code"] == town.code and f["kind"] == "town_workbook"
                       and f["expected_status"] == "loaded" and f["month"] and f["month"].year * 12 + f["month"].month - 1 == first), None)
            if wb:
                run.recorder.finding("DQ25", town.code, run.month_label(first), wb["relative_path"])


def _write_answer_kpis(key_dir: Path) -> None:
    """KPIs of the answer key, when the answer-key module is present (written by its own engineer)."""
    if importlib.util.find_spec(f"{__name__}.answer_kpis") is None:
        return
    from .answer_kpis import compute_answer_kpis

    kpis, town_rank, district_rank = compute_answer_kpis(key_dir / "truth", BUILTIN_DIVISIONS, SEEDS_DIR)
    kpis.write_csv(key_dir / "kpis.csv")
    town_rank.write_csv(key_dir / "town_rank.csv")
    district_rank.write_csv(key_dir / "district_rank.csv")
