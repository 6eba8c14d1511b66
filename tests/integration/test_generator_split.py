"""How the district generator shares its work: a second process writes the registries and the
last towns' workbooks, and the large registry exports are built as Polars frames. Neither may
change what is written."""

import csv
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.generate import generate
from pipelines.generate.answer_key import frame, table_schema
from pipelines.generate.build import Run, generate_registries, generate_workbooks
from pipelines.generate.contract import load_contract
from pipelines.generate.divisions import load_towns
from pipelines.generate.model import build_programme, parse_months
from pipelines.generate.registry_frames import export_rows, people_frame
from pipelines.settings import BUILTIN_DIVISIONS, CONTRACT_FILE, SEEDS_DIR

SEED = 20221231
MONTHS = "2022-10..2022-12"
KINDS = ("facilities", "village_points", "pairings", "trainings", "funds")


@pytest.fixture(scope="module")
def programme():
    return build_programme(SEED, parse_months(MONTHS), load_towns(BUILTIN_DIVISIONS), SEEDS_DIR)


@pytest.mark.slow
def test_two_processes_write_what_one_process_writes(tmp_path, programme):
    generate(tmp_path / "split", seed=SEED, months=MONTHS)
    sheets, registries = load_contract(CONTRACT_FILE)
    run = Run(tmp_path / "one", SEED, False, programme, sheets, registries)
    generate_workbooks(run, None)
    generate_registries(run, None)

    with (tmp_path / "split" / "answer_key" / "files.csv").open(encoding="utf-8") as handle:
        listed = [(r["relative_path"], r["sha256"], r["expected_status"]) for r in csv.DictReader(handle)]
    written = [(f["relative_path"], f["sha256"], f["expected_status"]) for f in run.files]
    assert len(written) > 40
    assert listed[: len(written)] == written  # same files, same bytes, same (town) order
    truth_dir = tmp_path / "split" / "answer_key" / "truth"
    for kind in KINDS:
        expected = frame(run.truth[f"town_{kind}"], table_schema(sheets[kind], registry=False))
        assert_frame_equal(pl.read_parquet(truth_dir / f"town_{kind}.parquet"), expected)
    for registry in registries:
        assert_frame_equal(pl.read_parquet(truth_dir / f"registry_{registry}.parquet"),
                           pl.concat(run.registry_truth[registry]))


def test_elderly_and_doctor_frames_list_the_people_the_model_lists(programme):
    people = people_frame(programme.people)
    for export in programme.elderly_exports + [dt.date(2022, 2, 28)]:
        expected = [p.id_number for p in programme.people if programme.in_elderly_export(p, export)]
        assert export_rows(people, "elderly", export)["id_number"].to_list() == expected
        signed = [p.id_number for p in programme.people if p.doctor_signed is not None and p.doctor_signed <= export]
        assert export_rows(people, "family_doctor", export)["id_number"].to_list() == signed
        assert 0 < len(signed) < len(expected) <= len(programme.people)
