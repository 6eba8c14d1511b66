"""Any seed generates: the plants pick rows they can edit, a plant that fits nowhere is named in
the summary, and a short run of a handful of seeds completes with a consistent answer key."""

import csv
import datetime as dt
import hashlib
import os
from collections import Counter
from pathlib import Path

import pytest

from pipelines.generate import generate
from pipelines.generate.build import REGISTRY_PLANTS, Run, _plant_registry
from pipelines.generate.contract import load_contract
from pipelines.generate.ids import make_id
from pipelines.generate.plants import LEDGER_PLANTS, PlantContext
from pipelines.generate.render import DataRow
from pipelines.settings import CONTRACT_FILE

SHEETS, REGISTRIES = load_contract(CONTRACT_FILE)
# In this range seed 11's scientific-notation plant starts from a person whose ID ends in X.
SHORT_MONTHS = "2022-09..2022-10"
SEEDS = (2, 11, 20230101)
# The shortest range whose workbooks hold a row for every plant (few towns have 4+ facilities).
ALL_PLANTS_MONTHS = "2022-05..2022-12"
PLANT_NAMES = ({name for plants in LEDGER_PLANTS.values() for name in plants}
               | {f"{registry}:{name}" for registry, exports in REGISTRY_PLANTS.items()
                  for names in exports.values() for name in names})


def ids_ending(in_x: bool, count: int) -> list[str]:
    ids = (make_id("500112", dt.date(1950, 1, 1), n) for n in range(1000))
    return [i for i in ids if i.endswith("X") == in_x][:count]


def elderly_rows(id_numbers: list[str]) -> list[DataRow]:
    columns = REGISTRIES["elderly"].columns
    return [DataRow([i if c.field == "id_number" else "" for c in columns],
                    {c.field: None for c in columns} | {"id_number": i, "id_valid": True})
            for i in id_numbers]


def plant_scientific_id(rows: list[DataRow]) -> Run:
    run = Run(Path("unused"), 11, False, None, SHEETS, REGISTRIES)
    _plant_registry(run, "elderly", "sci", rows, [], REGISTRIES["elderly"], dt.date(2022, 10, 28))
    return run


def test_the_scientific_notation_plant_takes_the_next_id_of_digits_after_one_ending_in_x():
    ids = ids_ending(False, 29)
    start = 30 // 3 + len("sci")  # where the plant starts looking
    ids.insert(start, ids_ending(True, 1)[0])
    rows = elderly_rows(ids)
    run = plant_scientific_id(rows)
    header = REGISTRIES["elderly"].column("id_number").header
    id_column = [c.field for c in REGISTRIES["elderly"].columns].index("id_number")
    assert [i for i, r in enumerate(rows) if r.findings] == [start + 1]
    planted = rows[start + 1]
    assert planted.findings == [("DQ01", header)]
    assert planted.cells[id_column] == f"{float(ids[start + 1]):.5E}" and planted.cells[id_column].endswith("E+17")
    assert planted.truth["id_number"] is None and planted.truth["id_valid"] is False
    assert rows[start].cells[id_column] == ids[start] and run.lost_plants == []


def test_a_registry_plant_without_a_row_it_can_edit_is_named_not_applied():
    rows = elderly_rows(ids_ending(True, 12))
    run = plant_scientific_id(rows)
    assert run.lost_plants == ["elderly:sci"]
    assert not any(r.findings for r in rows)


def test_a_duplicated_village_point_is_one_without_sub_point_rows_under_it():
    contract = SHEETS["village_points"]
    fields = [c.field for c in contract.columns]

    def row(name: str, sub_point: bool = False, merged: bool = False) -> DataRow:
        cells = [name if f == "village_name" else None for f in fields]
        truth = {"village_name": name, "village_level": "village", "is_sub_point": sub_point}
        return DataRow(cells, truth, merged_village=merged)

    rows = [row("前锋村"), row("前锋村", sub_point=True, merged=True), row("红星村")]
    ctx = PlantContext(None, None, 0, contract, fields)
    assert LEDGER_PLANTS["village_points"]["vp_duplicate"](ctx, rows)
    assert [r.truth["village_name"] for r in rows] == ["前锋村", "前锋村", "红星村", "红星村"]
    assert rows[-1].findings == [("DQ19", contract.column("village_name").header)]


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def inbox_hashes(out: Path) -> list[str]:
    """sha256 of every file the loader would open (no lock or dot files, no links)."""
    hashes = []
    for folder in ("towns", "registries"):
        for directory, _, names in os.walk(os.fsencode(out / folder)):
            for name in names:
                path = os.path.join(directory, name)
                if not (name.startswith((b"~$", b".")) or os.path.islink(path)):
                    with open(path, "rb") as handle:
                        hashes.append(hashlib.sha256(handle.read()).hexdigest())
    return sorted(hashes)


def assert_consistent_answer_key(out: Path, summary: dict) -> None:
    key = out / "answer_key"
    files = read_csv(key / "files.csv")
    assert sorted(f["sha256"] for f in files) == inbox_hashes(out)
    findings = read_csv(key / "findings.csv")
    assert len(findings) == summary["findings"] > 0
    listed = {f["relative_path"] for f in files}
    assert {f["source_file"] for f in findings if f["source_file"]} <= listed
    counted = Counter(f["rule_id"] for f in findings)
    rules = read_csv(key / "rules.csv")
    assert {r["rule_id"]: int(r["planted"]) for r in rules} == {r["rule_id"]: counted[r["rule_id"]] for r in rules}
    assert set(counted) <= {r["rule_id"] for r in rules}
    assert set(summary["plants_not_applied"]) <= PLANT_NAMES
    # DQ23 judges a month once a later submission is dated after the 5th of the next month
    latest = max(dt.date.fromisoformat(f["submission_date"]) for f in files if f["submission_date"])
    for finding in findings:
        if finding["rule_id"] == "DQ23_submission_missing":
            year, month = map(int, finding["month"].split("-"))
            deadline = dt.date(year + month // 12, month % 12 + 1, 5)
            assert latest > deadline, finding


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_a_short_run_of_any_seed_completes_and_names_the_plants_that_fit_nowhere(tmp_path, seed):
    summary = generate(tmp_path, seed=seed, months=SHORT_MONTHS)
    assert_consistent_answer_key(tmp_path, summary)
    # one facility plant per workbook, 11 towns and one month after the baseline: the rest are named
    facility_plants = [n for n in summary["plants_not_applied"] if n in LEDGER_PLANTS["facilities"]]
    assert len(facility_plants) >= len(LEDGER_PLANTS["facilities"]) - 11
    assert not [n for n in summary["plants_not_applied"] if ":" in n]  # registries have rows for all


@pytest.mark.slow
def test_every_plant_is_applied_from_eight_months_on(tmp_path):
    summary = generate(tmp_path, seed=11, months=ALL_PLANTS_MONTHS)
    assert_consistent_answer_key(tmp_path, summary)
    assert summary["plants_not_applied"] == []
