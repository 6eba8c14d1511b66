"""No full ID number, name or phone number of the sources leaves the working database."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

ID_TOKEN = re.compile(r"\d{17}[\dXx]")
PHONE_TOKEN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

PERSONAL_COLUMNS = {
    "registry_tekun": ["id_number", "id_number_raw", "person_name"],
    "registry_dibao": ["id_number", "id_number_raw", "person_name"],
    "registry_elderly": ["id_number", "id_number_raw", "person_name", "phone"],
    "registry_family_doctor": ["id_number", "id_number_raw"],
    "town_pairings": ["id_number", "id_number_raw", "elder_name", "helper_name", "helper_phone"],
    "town_trainings": ["id_number", "id_number_raw", "trainee_name"],
}


@pytest.fixture(scope="module")
def personal_values(refreshed_warehouse) -> dict[str, set[str]]:
    """Every ID, name and phone the pipeline loaded, read from the working database."""
    con = duckdb.connect(str(refreshed_warehouse.work_db), read_only=True)
    ids, names, phones = set(), set(), set()
    try:
        for table, columns in PERSONAL_COLUMNS.items():
            for column in columns:
                values = {v for (v,) in con.execute(f"select distinct {column} from raw.{table} where {column} is not null").fetchall()}
                if column.startswith("id_number"):
                    ids |= {t for v in values for t in ID_TOKEN.findall(str(v))}
                elif "phone" in column:
                    phones |= {t for v in values for t in PHONE_TOKEN.findall(str(v))}
                else:
                    names |= {str(v).strip() for v in values if len(str(v).strip()) >= 2}
    finally:
        con.close()
    assert len(ids) > 1000 and len(names) > 1000 and len(phones) > 100, "the sources should be full of people"
    return {"ids": ids, "names": names, "phones": phones}


def leaks_in_text(text: str, personal: dict[str, set[str]]) -> list[str]:
    found = [f"ID {t[:6]}…" for t in ID_TOKEN.findall(text) if t.upper() in personal["ids"] or t in personal["ids"]]
    found += [f"phone {t[:3]}…" for t in PHONE_TOKEN.findall(text) if t in personal["phones"]]
    found += [f"name {n[0]}…" for n in names_in(text, personal["names"])]
    return found


CJK_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")


def names_in(text: str, names: set[str]) -> set[str]:
    """Full names of 3–4 characters inside the text's runs of Chinese characters (2-character
    names are left out: they are also ordinary words such as 王家)."""
    hits = set()
    for run in CJK_RUN.findall(text):
        for length in (3, 4):
            hits |= {run[i:i + length] for i in range(len(run) - length + 1)} & names
    return hits


def test_published_database_holds_no_personal_data(refreshed_warehouse, personal_values) -> None:
    con = duckdb.connect(str(refreshed_warehouse.published_db), read_only=True)
    leaks = []
    try:
        text_columns = con.sql(
            "select schema_name, table_name, column_name from duckdb_columns() where data_type = 'VARCHAR'"
        ).fetchall()
        assert text_columns
        for schema, table, column in text_columns:
            values = {v for (v,) in con.execute(f'select distinct "{column}" from {schema}."{table}" where "{column}" is not null').fetchall()}
            exact_names = values & personal_values["names"]
            if exact_names:
                leaks.append(f"{schema}.{table}.{column}: {len(exact_names)} names")
            for value in values:
                found = leaks_in_text(value, {**personal_values, "names": set()})
                if found:
                    leaks.append(f"{schema}.{table}.{column}: {found[0]}")
                    break
    finally:
        con.close()
    assert not leaks, leaks


def text_files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def test_logs_and_reports_hold_no_personal_data(refreshed_warehouse, personal_values) -> None:
    settings = refreshed_warehouse
    places = [Path(os.environ["DAGSTER_HOME"]), settings.warehouse_dir / "logs",
              settings.warehouse_dir.parent / "reports"]
    scanned = 0
    leaks = []
    for place in places:
        if not place.exists():
            continue
        for path in text_files_under(place):
            text = path.read_bytes().decode("utf-8", errors="ignore")
            scanned += 1
            found = leaks_in_text(text, personal_values)
            if found:
                leaks.append(f"{path}: {found[:3]}")
    assert scanned > 0
    assert not leaks, leaks
