"""`generate(..., scale="city")`: hundreds of synthetic towns and millions of older people.

The towns' ledgers come from the district model (`model.build_programme`) run over the
synthetic division list with one centre and one home per town; the people are generated
town by town with numpy (`city_people`) instead of one Python object each, so memory stays
bounded. Registries stream to CSV in a second process while this one renders the workbooks
(every town, every requested month; unless clean, the district's planted workbook problems,
each placed once in the first PLANT_TOWNS towns, and its rejected and skipped files). Unless
clean, the registries take the district's one-cell and one-row registry plants (DQ01, DQ02,
DQ04, DQ08, DQ11; `city_registries.CITY_PLANTS`) in rows of the first PLANT_TOWNS towns; the
second process returns their findings with the file entries, and the plants no workbook or
registry row could take are reported as `plants_not_applied`. The answer key holds the files,
sheets, findings, the row truth
(Parquet, written a batch of towns or people at a time) and kpis.csv / town_rank.csv / district_rank.csv, computed
from that truth by the streaming answer-key KPIs (`answer_kpis`). The city's plan
(`reference/plan/`, `city_plan`) names exactly the projects built here, for
`ruralcare refresh --plan`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import random
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl

from ..settings import CONTRACT_FILE, SEEDS_DIR
from .city_people import age_at_least, age_at_month_end, town_people, town_sizes
from .city_plan import city_point_targets, plan_row, project_rows, target_rows, write_city_plan
from .divisions import Town, Village, load_towns
from .ids import make_name, make_phone
from .model import NEVER, Programme, Project, am_of, day_in, load_projects, month_end, parse_months

CITY_TOWNS = 800
CITY_PEOPLE = 3_000_000
BATCH_PEOPLE = 100_000
TRUTH_BATCH_TOWNS = 50  # towns whose workbook rows are held before they go to the truth Parquet
PLANT_TOWNS = 12  # the planted problems go to a handful of towns (placing them over 800 is slow)


def divisions_path(out_dir: Path) -> Path:
    return Path(out_dir) / "reference" / "divisions.csv"


def plan_path(out_dir: Path) -> Path:
    return Path(out_dir) / "reference" / "plan"


def home_name(town: Town) -> str:
    return f"{town.short}敬老院"


def city_projects(towns: list[Town], months: list[int]) -> list[Project]:
    """Per town: an existing nursing home and a town centre renovated inside it, due in a
    month that rotates over the requested range so every build status occurs."""
    projects = []
    for town in towns:
        due = months[0] + 1 + town.index % (len(months) + 6)
        projects.append(Project(f"H{town.index:04d}", town.code, home_name(town), "敬老院", "现有", "", None, None, ""))
        projects.append(Project(f"C{town.index:04d}", town.code, f"{town.name}养老服务中心", "镇养老服务中心", "改建",
                                home_name(town), 800.0, due, ""))
    return projects


@dataclasses.dataclass
class CityProgramme(Programme):
    """The district model's ledgers, with people (pairings, 特困 residents) from `town_people`."""

    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    _cached: tuple[str, pl.DataFrame] | None = None
    _by_town: dict[str, dict[str, list]] = dataclasses.field(default_factory=dict)

    def people_of(self, town: Town) -> pl.DataFrame:
        """The town's people with their pairing schedule (one town cached: workbooks go town by town)."""
        if self._cached is None or self._cached[0] != town.code:
            people = town_people(self.seed, town, self.sizes[town.code], self.months)
            self._cached = (town.code, with_pairing_schedule(people, self.seed, town, self.pace[town.code],
                                                             self.months))
        return self._cached[1]

    def pairing_rows(self, town: Town, am: int) -> list[dict]:
        export = self.elderly_export_for(am)
        if export is None:
            return []
        listed = pairing_frame(self.people_of(town), am, export)
        helpers = town_helpers(self.seed, town)
        units = {u.code: u for u in town.villages + town.communities}
        rows = []
        for r in listed.iter_rows(named=True):
            village: Village = units[r["village_code"]]
            draw = (int(r["id_number"][:17]) * 7919 + am * 104729) % 1000003 / 1000003
            visits = (1, 1, 2, 2, 3, 4)[int(draw * 6)] if r["key"] else (0, 1, 1, 2)[int(draw * 4)]
            if r["key"] and (draw * 977) % 1 < r["visit_bias"]:
                visits = 0
            helper = helpers[r["helper"]]
            rows.append({
                "elder_name": r["person_name"], "id_number": r["id_number"], "village_name": village.short,
                "categories": r["categories"], "pairing_mode": "一对一" if r["key"] or r["one_to_one"] else "网格化",
                "helper_name": helper[0], "helper_phone": helper[1],
                "pairing_date": day_in(r["pairing_am"], r["pairing_day"]), "visits_this_month": visits,
                "_village": village,
            })
        return rows

    def tekun_count(self, facility_name: str, am: int) -> int:
        town = next((t for t in self.towns if home_name(t) == facility_name), None)
        if town is None:
            return 0
        people = self.people_of(town)
        return people.filter(pl.col("tekun_home") & (pl.col("tekun_end_am") > am) & (pl.col("death_am") > am)
                             & age_at_least(pl.col("birth_ymd"), month_end(am), 60)).height

    def _of_town(self, name: str, items: list, town: Town) -> list:
        """Indexed by town once: hundreds of towns would each scan the whole list."""
        if name not in self._by_town:
            index: dict[str, list] = {}
            for item in items:
                index.setdefault(item.town_code, []).append(item)
            self._by_town[name] = index
        return self._by_town[name].get(town.code, [])


def town_helpers(seed: int, town: Town) -> list[tuple[str, str]]:
    rng = random.Random(f"{seed}:helpers:{town.code}")
    return [(make_name(rng, old=False), make_phone(rng)) for _ in range(60)]


def with_pairing_schedule(people: pl.DataFrame, seed: int, town: Town, pace: int, months: list[int]) -> pl.DataFrame:
    """When each person is first paired (as the district model: coverage grows over the months,
    slower in late towns), their helper, mode and visit bias; people never in a group are
    listed as 其他 rarely."""
    rng = np.random.default_rng([seed, int(town.code), 1])
    n = people.height
    first, last = months[0], months[-1]
    span = max(1, last - first)
    final_share = 1.0 if pace <= 1 else (0.93 if pace <= 3 else 0.8)
    u = rng.random(n)
    k = (np.maximum(0.0, (u / final_share - 0.35) / 0.65) * span).astype(int) + max(0, pace // 2)
    pairing_am = np.where((u < final_share) & (first + k <= last), first + k, NEVER)
    ever_in_group = ((pl.col("tekun") & ~pl.col("tekun_home")) | pl.col("dibao")
                     | (pl.col("family_planning") & (pl.col("ability") >= 1))
                     | (age_at_month_end(pl.col("birth_ymd"), last) >= 80) | (pl.col("living") == "独居")
                     | pl.col("left_behind"))
    return people.with_columns(
        pairing_am=pairing_am,
        pairing_day=rng.integers(1, 29, n),
        one_to_one=rng.random(n) < 0.2,
        helper=rng.integers(0, 60, n),
        visit_bias=0.02 if pace <= 2 else 0.1,
        pairing_other=~ever_in_group & pl.Series(rng.random(n) < 0.01),
    )


def pairing_frame(people: pl.DataFrame, am: int, export: dt.date) -> pl.DataFrame:
    """Paired people listed in the month's pairing sheet, with `key` and `categories`."""
    age = age_at_month_end(pl.col("birth_ymd"), am)
    tekun_active = pl.col("tekun") & (pl.col("tekun_end_am") > am) & (pl.col("death_am") > am)
    dibao_active = pl.col("dibao") & (pl.col("dibao_start_am") <= am) & (pl.col("dibao_end_am") > am)
    key = (age >= 60) & ((tekun_active & ~pl.col("tekun_home")) | dibao_active
                         | (pl.col("family_planning") & (pl.col("ability") >= 1)))
    grid = (age >= 60) & ~key & ((age >= 80) | (pl.col("living") == "独居") | pl.col("left_behind"))
    pairable = ((pl.col("death_am") > am) & (age >= 60) & age_at_least(pl.col("birth_ymd"), export, 60)
                & (pl.col("death_am") > am_of(export))
                & ~(pl.col("tekun") & (pl.col("tekun_end_am") <= am))
                & ~(pl.col("dibao") & (pl.col("dibao_start_am") <= am) & (pl.col("dibao_end_am") <= am)))
    categories = pl.concat_list(
        pl.when(tekun_active).then(pl.lit("特困")),
        pl.when(dibao_active).then(pl.col("dibao_category")),
        pl.when(pl.col("family_planning")).then(pl.lit("计生特殊")),
        pl.when(age >= 80).then(pl.lit("高龄")),
        pl.when(pl.col("living").is_in(["独居", "空巢"])).then(pl.col("living")),
        pl.when(pl.col("left_behind")).then(pl.lit("留守")),
    ).list.drop_nulls()
    return (people.with_columns(key=key, grid=grid, pairable=pairable)
            .filter((pl.col("pairing_am") <= am) & pl.col("pairable")
                    & (pl.col("pairing_other") | pl.col("key") | pl.col("grid")))
            .with_columns(categories=pl.when(categories.list.len() > 0).then(categories)
                          .otherwise(pl.concat_list(pl.lit("其他"))))
            .sort("pairing_am", "village_code", "id_number"))


def city_programme(seed: int, months: list[int], towns: list[Town], people_total: int) -> CityProgramme:
    from .model import build_programme

    base = build_programme(seed, months, towns, SEEDS_DIR, people_total=0,
                           projects=city_projects(towns, months), point_targets=city_point_targets(towns, months))
    prog = CityProgramme(**{f.name: getattr(base, f.name) for f in dataclasses.fields(Programme)},
                         sizes=town_sizes(seed, towns, people_total))
    prog._tekun_counts = base._tekun_counts
    return prog


def write_city_registries(out_dir: Path, seed: int, months: str, people_total: int, clean: bool = False) -> dict:
    """Every registry export, a batch of about BATCH_PEOPLE people at a time, with the planted
    problems (unless clean) in the first PLANT_TOWNS towns' rows: {"files": one entry per file,
    "findings": (rule, town code, month, file, sheet, row, column) each, "not_applied": plants}."""
    from .city_registries import RegistryStream
    from .contract import load_contract
    from .model import _export_dates

    month_list = parse_months(months)
    towns = load_towns(divisions_path(out_dir))
    _, registries = load_contract(CONTRACT_FILE)
    quarterly, monthly = _export_dates(month_list)
    sizes = town_sizes(seed, towns, people_total)
    stream = RegistryStream(out_dir, registries, monthly, quarterly, towns, {t.code: home_name(t) for t in towns},
                            plant_towns=None if clean else towns[:PLANT_TOWNS])
    batch: list[pl.DataFrame] = []
    pending = 0
    for town in towns:
        batch.append(town_people(seed, town, sizes[town.code], month_list))
        pending += sizes[town.code]
        if pending >= BATCH_PEOPLE or town is towns[-1]:
            stream.append(pl.concat(batch))
            batch, pending = [], 0
    files = stream.close()
    return {"files": files, "findings": stream.findings, "not_applied": stream.not_applied()}


def generate_city(out_dir: Path, *, seed: int, months: str, clean: bool, progress, towns: int = CITY_TOWNS,
                  people: int = CITY_PEOPLE) -> dict:
    """Division list, workbooks, registries and answer key (files, sheets, file findings) of a city."""
    from . import _join, _start
    from .answer_key import (INGEST_RULES, TruthParquet, table_schema, town_truth_frames, write_answer_key,
                             write_file_truth)
    from .answer_kpis import compute_answer_kpis
    from .build import Run, generate_odd_files, generate_workbooks
    from .city_divisions import city_division_rows, write_divisions
    from .contract import load_contract
    from .render import RULE_IDS, layer_of

    started = time.perf_counter()
    out_dir = Path(out_dir)
    for sub in ("towns", "registries", "answer_key", "reference"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    month_list = parse_months(months)
    division_rows = city_division_rows(seed, towns)
    write_divisions(divisions_path(out_dir), division_rows)
    town_list = load_towns(divisions_path(out_dir))
    write_plan(plan_path(out_dir), seed, month_list, town_list, division_rows)
    sheets, registries = load_contract(CONTRACT_FILE)
    registry_job = _start(write_city_registries, out_dir, seed, months, people, clean)
    prog = city_programme(seed, month_list, town_list, people)
    # the row truth of a batch of towns goes to Parquet before the next batch is rendered
    run = Run(out_dir, seed, clean, prog, sheets, registries, plant_towns=PLANT_TOWNS)
    truth_dir = out_dir / "answer_key" / "truth"
    town_truth = TruthParquet(truth_dir, {f"town_{kind}": table_schema(contract, registry=False)
                                          for kind, contract in sheets.items()})
    for first in range(0, len(town_list), TRUTH_BATCH_TOWNS):
        generate_workbooks(run, progress, prog.towns[first:first + TRUTH_BATCH_TOWNS])
        for table, rows in town_truth_frames(run.truth, sheets).items():
            town_truth.append(f"town_{table}", rows)
        run.truth.clear()
    town_truth.close()
    registry_result = _join(registry_job)
    for entry in registry_result["files"]:
        run.add_file(entry["relative"], b"", entry["mtime"], "registry", "loaded", None, registry=entry["registry"],
                     export_date=entry["export_date"], rows=entry["rows"], sha256=entry["sha256"])
    for finding in registry_result["findings"]:
        run.recorder.finding(*finding)
    run.lost_plants.extend(registry_result["not_applied"])
    generate_odd_files(run)
    planted: dict[str, int] = {}
    for f in run.recorder.findings:
        planted[f["rule_id"]] = planted.get(f["rule_id"], 0) + 1
    rules = [{"rule_id": r, "layer": layer_of(r), "exhaustive": r[:4] in INGEST_RULES, "planted": planted.get(r, 0)}
             for r in RULE_IDS]
    write_answer_key(out_dir / "answer_key", run.files, run.sheet_rows, run.recorder.findings,
                     run.recorder.manifest, rules)
    write_file_truth(truth_dir, run.files, run.sheet_rows)
    if progress:
        progress("answer key KPIs", 0, 0)
    kpis, town_rank, district_rank = compute_answer_kpis(truth_dir, divisions_path(out_dir), plan_path(out_dir))
    kpis.write_csv(out_dir / "answer_key" / "kpis.csv")
    town_rank.write_csv(out_dir / "answer_key" / "town_rank.csv")
    district_rank.write_csv(out_dir / "answer_key" / "district_rank.csv")
    counts: dict[str, int] = {}
    for f in run.files:
        key = f"{f['kind']}:{f['expected_status']}"
        counts[key] = counts.get(key, 0) + 1
    return {"files": counts, "findings": len(run.recorder.findings), "people": people, "towns": len(town_list),
            "villages": sum(len(t.villages) for t in town_list), "plants_not_applied": sorted(run.lost_plants),
            "elapsed_seconds": round(time.perf_counter() - started, 2), "out_dir": str(out_dir),
            "divisions": str(divisions_path(out_dir)), "plan": str(plan_path(out_dir))}


def write_plan(plan_dir: Path, seed: int, months: list[int], towns: list[Town], division_rows: list[dict]) -> None:
    """The city's plan files, the built-in plan's district rows and town count as the reference."""
    projects = city_projects(towns, months)
    district_of = {r["code"]: r["parent_code"] for r in division_rows if r["level"] == "town"}
    with (SEEDS_DIR / "plan_targets.csv").open(encoding="utf-8") as handle:
        reference = [r for r in csv.DictReader(handle) if len(r["scope_code"]) == 6]
    reference_towns = len({p.town_code for p in load_projects(SEEDS_DIR)})
    write_city_plan(plan_dir, plan_row(seed, months, projects), project_rows(towns, projects),
                    target_rows(towns, district_of, months, projects, reference, reference_towns))
