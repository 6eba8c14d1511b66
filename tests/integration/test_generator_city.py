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
    elderly_file = next(p for p in files if Path(p).name.startswith("农村老年人信息库"))
    planted_ids = {int(f["row_number"]) - 2 for f in read_csv(out / "answer_key" / "findings.csv")
                   if f["source_file"] == elderly_file and f["rule_id"][:4] in ("DQ01", "DQ02")}
    assert len(planted_ids) >= 2  # a scientific-notation ID and a legacy 15-digit ID
    elderly = frames["农村老年人信息库"]
    assert 0.97 * PEOPLE <= elderly.height <= PEOPLE  # everyone is 60+; a few died before the export
    ids = elderly["公民身份号码"].str.replace_all(r"^=\"|\"$|^'", "")
    ids = pl.Series([i for n, i in enumerate(ids) if n not in planted_ids])
    assert ids.n_unique() == elderly.height - len(planted_ids)
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
    prefixes = {"registry_elderly": "农村老年人信息库", "registry_tekun": "特困人员名册", "registry_dibao": "低保对象名册"}
    for table, prefix in prefixes.items():
        planted = Counter(f["rule_id"][:4] for f in key_findings if f["source_file"].startswith(f"registries/{prefix}"))
        total, no_town, no_village, invalid = con.execute(
            f"select count(*), count(*) filter (where town_code is null), "
            f"count(*) filter (where village_name_code is null), count(*) filter (where not id_valid) "
            f"from raw.{table}").fetchone()
        assert total > 0 and (no_town, no_village, invalid) == (0, planted["DQ08"], planted["DQ01"]), table
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


REGISTRY_RULES = {"DQ01", "DQ02", "DQ04", "DQ08", "DQ11"}


def registry_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).split("\r\n")
        except UnicodeDecodeError:
            continue
    raise AssertionError(path)


@pytest.mark.slow
def test_registry_plants_go_to_the_first_plant_towns_rows_only(tmp_path):
    """The registries' planted problems (DQ01, DQ02, DQ04, DQ08, DQ11) are in the answer key, each
    at the line it edits in the first PLANT_TOWNS towns' rows; every other line is as in the clean
    run of the same seed, and the truth rows show each plant as the loader must read it."""
    from pipelines.generate.city import PLANT_TOWNS

    months, towns, people = "2022-11..2022-12", 20, 8_000
    summary = generate(tmp_path / "planted", months=months, scale="city", city_towns=towns, city_people=people)
    clean = generate(tmp_path / "clean", months=months, scale="city", city_towns=towns, city_people=people,
                     clean=True)
    assert not [n for n in summary["plants_not_applied"] if ":" in n]  # every registry plant found its row
    assert clean["plants_not_applied"] == []
    key = [f for f in read_csv(tmp_path / "planted" / "answer_key" / "findings.csv")
           if f["source_file"].startswith("registries/") and f["row_number"]]
    assert {f["rule_id"][:4] for f in key} == REGISTRY_RULES
    assert not [f for f in read_csv(tmp_path / "clean" / "answer_key" / "findings.csv")
                if f["source_file"].startswith("registries/") and f["row_number"]]
    division_towns = [r["code"] for r in read_csv(tmp_path / "planted" / "reference" / "divisions.csv")
                      if r["level"] == "town"]
    plant_towns = set(division_towns[:PLANT_TOWNS])
    rows_of: dict[str, dict[int, str]] = {}
    for f in key:
        assert not f["town_code"] or f["town_code"] in plant_towns, f
        rows_of.setdefault(f["source_file"], {})[int(f["row_number"])] = f["rule_id"][:4]
    files = [f["relative_path"] for f in read_csv(tmp_path / "planted" / "answer_key" / "files.csv")
             if f["kind"] == "registry" and f["expected_status"] == "loaded"]
    # the clean elderly database names every person's town (family-doctor rows have no town column)
    elderly = pl.read_parquet(tmp_path / "clean" / "answer_key" / "truth" / "registry_elderly.parquet")
    town_of_id = dict(zip(elderly["id_number"], elderly["town_code"]))
    for relative in files:
        planted_lines = registry_lines(tmp_path / "planted" / relative)
        clean_lines = registry_lines(tmp_path / "clean" / relative)
        planted_rows = rows_of.get(relative, {})
        twins = [n for n, rule in planted_rows.items() if rule == "DQ04"]
        assert len(planted_lines) == len(clean_lines) + len(twins), relative
        changed = {n + 1 for n, (a, b) in enumerate(zip(planted_lines, clean_lines[:-1])) if a != b}
        assert changed == {n for n, rule in planted_rows.items() if rule != "DQ04"}, relative
        assert all(n == len(clean_lines) for n in twins)  # added after the last record, before the final CRLF
        for n in changed:
            person_id = next(c for c in clean_lines[n - 1].split(",") if c.strip("=\"'").isdigit()
                             or c.strip("=\"'")[:17].isdigit()).strip("=\"'")
            assert town_of_id[person_id] in plant_towns, (relative, n)
    truth = {table: pl.read_parquet(tmp_path / "planted" / "answer_key" / "truth" / f"registry_{table}.parquet")
             for table in ("elderly", "tekun", "dibao", "family_doctor")}
    for f in key:
        table = next(t for t, p in (("elderly", "农村老年人信息库"), ("tekun", "特困人员名册"), ("dibao", "低保对象名册"),
                                    ("family_doctor", "家庭医生签约")) if Path(f["source_file"]).name.startswith(p))
        row = truth[table].filter((pl.col("file_id") == f["source_file"])
                                  & (pl.col("row_number") == int(f["row_number"]))).to_dicts()
        assert len(row) == 1, f
        row = row[0]
        rule = f["rule_id"][:4]
        if rule == "DQ01":
            assert row["id_valid"] is False and row["id_number"] is None
        elif rule == "DQ02":
            assert row["id_legacy15"] is True and row["id_number"]
        elif rule == "DQ08":
            assert row["village_name_code"] is None and row["village_name"]
        elif rule == "DQ04":
            assert row["town_code"] == f["town_code"] and row["id_number"] in town_of_id
            assert town_of_id[row["id_number"]] != f["town_code"] and town_of_id[row["id_number"]] in plant_towns
