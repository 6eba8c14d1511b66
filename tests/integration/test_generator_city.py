"""`generate --scale city` reduced (50 towns, 100,000 people, one month), loaded against its own division list."""

import csv
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.generate import generate
from pipelines.generate.ids import is_valid_id
from pipelines.ingest import run_ingest
from pipelines.settings import Settings

TOWNS = 50
PEOPLE = 100_000
ENCODINGS = {"gb18030", "utf-8", "utf-8-sig"}


@pytest.fixture(scope="module")
def city_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    summary = generate(out / "sources", months="2022-12", scale="city", city_towns=TOWNS, city_people=PEOPLE)
    return out / "sources", summary


@pytest.fixture(scope="module")
def loaded(city_run, tmp_path_factory):
    out, _ = city_run
    settings = Settings.from_env(sources_dir=out, warehouse_dir=tmp_path_factory.mktemp("wh"),
                                 divisions_file=out / "reference" / "divisions.csv")
    settings.ensure_warehouse_dir()
    con = duckdb.connect(str(settings.work_db))
    run_ingest(settings, con, "city")
    yield con
    con.close()


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_registry(path: Path) -> pl.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return pl.read_csv(text.encode("utf-8"), infer_schema=False)


@pytest.mark.slow
def test_division_list_shape(city_run):
    out, summary = city_run
    rows = read_csv(out / "reference" / "divisions.csv")
    assert list(rows[0]) == ["code", "name", "level", "parent_code", "urban_rural_code", "is_rural_scope"]
    assert len({r["code"] for r in rows}) == len(rows)
    towns = {r["code"]: r for r in rows if r["level"] == "town"}
    assert len(towns) == TOWNS == summary["towns"]
    units = [r for r in rows if r["level"] in ("village", "community")]
    assert len(units) + len(towns) == len(rows)
    assert all(r["parent_code"] in towns for r in units)
    assert sum(r["level"] == "village" for r in units) == summary["villages"]
    assert all(r["is_rural_scope"] == "true" for r in rows)
    assert len({r["name"] for r in towns.values()}) == TOWNS
    assert max(Counter((r["parent_code"], r["name"]) for r in units).values()) == 1


@pytest.mark.slow
def test_registries_hold_the_people_with_valid_unique_ids(city_run):
    out, _ = city_run
    files = {f["relative_path"]: f for f in read_csv(out / "answer_key" / "files.csv") if f["kind"] == "registry"
             and f["expected_status"] == "loaded"}
    assert {Path(p).name.split("_")[0] for p in files} == {"农村老年人信息库", "特困人员名册", "低保对象名册", "家庭医生签约"}
    frames = {Path(p).name.split("_")[0]: read_registry(out / p) for p in files}
    elderly = frames["农村老年人信息库"]
    assert 0.97 * PEOPLE <= elderly.height <= PEOPLE  # everyone is 60+; a few died before the export
    ids = elderly["公民身份号码"].str.replace_all(r"^=\"|\"$|^'", "")
    assert ids.n_unique() == elderly.height
    assert all(is_valid_id(i) for i in ids)
    assert 0.02 * PEOPLE < frames["特困人员名册"].height < 0.04 * PEOPLE
    assert 0.04 * PEOPLE < frames["低保对象名册"].height < 0.08 * PEOPLE
    assert 0.6 * PEOPLE < frames["家庭医生签约"].height < 0.75 * PEOPLE


@pytest.mark.slow
def test_loader_accepts_the_division_list(city_run, loaded):
    out, _ = city_run
    con = loaded
    expected = {f["relative_path"]: f["expected_status"] for f in read_csv(out / "answer_key" / "files.csv")}
    got = dict(con.execute("select relative_path, status from raw.files").fetchall())
    assert got == expected
    key_findings = read_csv(out / "answer_key" / "findings.csv")
    missing_workbooks = sum(f["rule_id"] == "DQ23_submission_missing" for f in key_findings)  # planted
    assert Counter(expected.values())["loaded"] >= TOWNS - missing_workbooks + 4
    for table in ("registry_elderly", "registry_tekun", "registry_dibao"):
        total, no_town, no_village, invalid = con.execute(
            f"select count(*), count(*) filter (where town_code is null), "
            f"count(*) filter (where village_name_code is null), count(*) filter (where not id_valid) "
            f"from raw.{table}").fetchone()
        assert total > 0 and (no_town, no_village, invalid) == (0, 0, 0), table
    loaded_towns = {r[0] for r in con.execute("select distinct town_code from raw.files where status = 'loaded' "
                                              "and kind = 'town_workbook'").fetchall()}
    assert len(loaded_towns) == TOWNS - missing_workbooks
    pairings, unmatched = con.execute("select count(*), count(*) filter (where village_name_code is null) "
                                      "from raw.town_pairings").fetchone()
    planted_villages = sum(f["rule_id"] == "DQ08_unknown_village" and f["sheet"] == "结对扶老" for f in key_findings)
    assert pairings > 0 and unmatched == planted_villages
    # every listed elder is in the elderly registry (the pairing sheets come from the same people)
    strangers = con.execute("select count(*) from raw.town_pairings p anti join raw.registry_elderly e "
                            "using (id_number)").fetchone()[0]
    assert strangers == 0
    findings = Counter(r[0] for r in con.execute("select rule_id from raw.ingest_findings").fetchall())
    key = Counter(f["rule_id"] for f in key_findings if f["layer"] == "ingest")
    assert findings == key and key["DQ09_file_rejected"] == 11


@pytest.mark.slow
def test_same_seed_same_bytes(tmp_path):
    """files.csv holds every file's sha256, so equal answer keys mean equal sources."""
    keys = []
    for name in ("a", "b"):
        generate(tmp_path / name, months="2022-11..2022-12", scale="city", city_towns=5, city_people=5_000)
        keys.append((tmp_path / name / "answer_key" / "files.csv").read_bytes())
        keys.append((tmp_path / name / "reference" / "divisions.csv").read_bytes())
    assert keys[0] == keys[2] and keys[1] == keys[3]
    other = generate(tmp_path / "c", seed=1, months="2022-11..2022-12", scale="city", city_towns=5,
                     city_people=5_000)
    assert (tmp_path / "c" / "answer_key" / "files.csv").read_bytes() != keys[0]
    assert other["towns"] == 5
