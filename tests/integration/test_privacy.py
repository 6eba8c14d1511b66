"""No full ID number, name or phone number of the sources reaches what leaves the working database:
the published database, the monthly report, the towns' feedback workbooks (masked values only) and
the logs of a refresh (the refresh log, dbt's logs, the Dagster home).

Everything scanned is made here by the real `ruralcare` command on a copy of the generated district;
the people to look for are the generator's truth, not what the pipeline happened to load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pypdf
import pytest


REPORT_TITLE = "渝北区农村养老服务全覆盖工作进展情况通报"

PERSON_COLUMNS = {  # truth table: (ID, name, phone) columns
    "registry_tekun": ("id_number", ["person_name"], []),
    "registry_dibao": ("id_number", ["person_name"], []),
    "registry_elderly": ("id_number", ["person_name"], ["phone"]),
    "registry_family_doctor": ("id_number", [], []),
    "town_pairings": ("id_number", ["elder_name", "helper_name"], ["helper_phone"]),
    "town_trainings": ("id_number", ["trainee_name"], []),
}


@dataclass(frozen=True)
class People:
    ids: frozenset[str]  # 18 characters, upper-case X
    legacy_ids: frozenset[str]  # the same people's 15-digit IDs (before 1999)
    phones: frozenset[str]
    names: frozenset[str]


def people_in(truth_dir: Path) -> People:
    ids, phones, names = set(), set(), set()
    for table, (id_column, name_columns, phone_columns) in PERSON_COLUMNS.items():
        frame = pl.read_parquet(truth_dir / f"{table}.parquet")
        ids |= {v.upper() for v in frame[id_column].drop_nulls() if len(v) == 18}
        for column in name_columns:
            names |= {v.strip() for v in frame[column].drop_nulls() if len(v.strip()) >= 2}
        for column in phone_columns:
            phones |= set(frame[column].drop_nulls())
    return People(frozenset(ids), frozenset(i[:6] + i[8:17] for i in ids), frozenset(phones), frozenset(names))


# What counts as a leak (the reading pinned by test_leaks_in_text):
# - an ID: its 18 characters or its 15-digit form anywhere inside a run of digits (a random
#   15+-digit match is practically impossible, so no boundaries are needed);
# - a phone: a run of exactly 11 digits, or 13 with the country code 86, outside a hash (a run of 32
#   or more hex characters: a person_key); inside longer runs and hashes, 11 digits match by chance
#   (one of a seed's 1.4 M person keys held a run equal to a generated phone);
# - a name of 3 or more characters: anywhere inside Chinese text;
# - a 2-character name: only standing alone, a whole run of Chinese characters (a cell, a field
#   `姓名: 王芳`); inside longer text 2-character names are ordinary words too (王家, 文明).
ID_RUN = re.compile(r"[0-9]{15,}[Xx]?")
DIGIT_RUN = re.compile(r"[0-9]+")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
HASH = re.compile(r"[0-9A-Fa-f]{32,}")


def leaks_in_text(text: str, people: People) -> list[str]:
    """The personal values in the text, each shown masked."""
    found = []
    for run in ID_RUN.findall(text):
        run = run.upper()
        found += [f"ID {run[i:i + 6]}…" for i in range(len(run) - 17) if run[i:i + 18] in people.ids]
        found += [f"legacy ID {run[i:i + 6]}…" for i in range(len(run) - 14) if run[i:i + 15] in people.legacy_ids]
    found += [f"phone {run[-11:-8]}…" for run in DIGIT_RUN.findall(HASH.sub(" ", text))
              if (len(run) == 11 or len(run) == 13 and run.startswith("86")) and run[-11:] in people.phones]
    for run in CJK_RUN.findall(text):
        if len(run) == 2:
            found += [f"name {run[0]}*"] if run in people.names else []
            continue
        for length in (3, 4):
            found += [f"name {run[i]}**" for i in range(len(run) - length + 1) if run[i:i + length] in people.names]
    return found


def readable_text(path: Path) -> str:
    """The text a reader of the file sees: workbooks unzipped, PDFs extracted, anything else as bytes."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml"))
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return path.read_bytes().decode("utf-8", errors="ignore")


def leaks_under(places: list[Path], people: People) -> tuple[int, list[str]]:
    """(files scanned, `file: leaks`) for the files given and every file under the folders given."""
    scanned, leaks = 0, []
    for place in places:
        for path in sorted(p for p in [place, *place.rglob("*")] if p.is_file() and not p.is_symlink()):
            scanned += 1
            found = leaks_in_text(readable_text(path), people)
            if found:
                leaks.append(f"{path}: {len(found)}, e.g. {found[:3]}")
    return scanned, leaks


# --- the scanner itself can fail --------------------------------------------------------------

PLANTED = People(ids=frozenset({"50011219501108647X"}), legacy_ids=frozenset({"500112501108647"}),
                 phones=frozenset({"13812345678"}), names=frozenset({"欧阳秀英", "龚昌桂", "韦云"}))


@pytest.mark.parametrize(("text", "expected"), [
    ("第5行 身份证号 50011219501108647x 有误", ["ID 500112…"]),
    ("batch=0050011219501108647X;", ["ID 500112…"]),
    ("旧号码500112501108647需升级", ["legacy ID 500112…"]),
    ("helper_phone: 13812345678", ["phone 138…"]),
    ("电话：+8613812345678", ["phone 138…"]),
    ("order 2013812345678", []),  # inside a longer run of digits
    ("hash 913812345678a", []),
    ("person_key 0e5b4c13812345678ad0f4e2c3b1a09f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b", []),  # inside a hash
    ("person_key 0e5b4c, 13812345678", ["phone 138…"]),
    ("结对老人龚昌桂未走访", ["name 龚**"]),
    ("欧阳秀英", ["name 欧**"]),
    ("姓名: 韦云,", ["name 韦*"]),
    ("韦云村互助点", []),  # a 2-character name inside longer text is not flagged
    ("500112********647X 龚* 138****5678 欧阳**", []),  # masked forms are what may be shown
])
def test_leaks_in_text(text: str, expected: list[str]) -> None:
    assert leaks_in_text(text, PLANTED) == expected


def test_leaks_under_flags_a_planted_report_log_and_workbook(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.html").write_text("<td>结对老人龚昌桂</td>", encoding="utf-8")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "refresh.log").write_text("row 7 id=50011219501108647X phone=13812345678\n", encoding="utf-8")
    book = openpyxl.Workbook()
    book.active["C3"] = "韦云"
    book.save(tmp_path / "reports" / "feedback.xlsx")
    (tmp_path / "clean.log").write_text("Done. PASS=185\n", encoding="utf-8")

    scanned, leaks = leaks_under([tmp_path], PLANTED)
    assert scanned == 4
    assert sorted(Path(leak.split(":")[0]).name for leak in leaks) == ["feedback.xlsx", "refresh.log", "report.html"]

    scanned, leaks = leaks_under([tmp_path / "clean.log", tmp_path / "logs" / "refresh.log"], PLANTED)
    assert scanned == 2 and len(leaks) == 1


# --- what the `ruralcare` command leaves behind ---------------------------------------------------


@dataclass(frozen=True)
class CommandRun:
    warehouse: Path
    reports: Path
    feedback: Path
    dbt_logs: list[Path]
    dagster_home: Path


def ruralcare(*args: str) -> None:
    command = [str(Path(sys.executable).parent / "ruralcare"), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def command_run(refreshed_warehouse, runs_of_last_refresh, generated_months) -> CommandRun:
    """The session's `ruralcare refresh` (tests/conftest.py), then `report` and `feedback` for the last month."""
    warehouse = refreshed_warehouse.warehouse_dir
    root = warehouse.parent
    last_month = generated_months[-1].strftime("%Y-%m")
    ruralcare("report", "--month", last_month, "--warehouse", str(warehouse))
    ruralcare("feedback", "--month", last_month, "--warehouse", str(warehouse))
    runs = runs_of_last_refresh(warehouse / "ruralcare.duckdb")
    assert len(runs) == 3, f"a refresh runs ingest, transform+quality and publish; found {len(runs)} runs"
    # dbt's log file and its run results (messages of failed tests) live in the warehouse's dbt
    # target folder; its compiled SQL holds no data, and the manifest the unit tests' made-up rows.
    dbt_target = warehouse / "dbt_target"
    dbt_logs = [*dbt_target.glob("*.log"), dbt_target / "run_results.json"]
    return CommandRun(warehouse, root / "reports" / "out" / last_month, root / "reports" / "feedback" / last_month,
                      dbt_logs, Path(os.environ["DAGSTER_HOME"]))


@pytest.fixture(scope="module")
def people(generated_run: tuple[Path, dict]) -> People:
    found = people_in(generated_run[0] / "answer_key" / "truth")
    assert len(found.ids) > 10_000 and len(found.names) > 10_000 and len(found.phones) > 10_000, (
        "the generated district should be full of people")
    return found


PLACES = {
    "refresh log": lambda run: [run.warehouse / "logs"],
    "dbt logs": lambda run: run.dbt_logs,
    "Dagster home": lambda run: [run.dagster_home],
    "monthly report": lambda run: [run.reports],
    "feedback workbooks": lambda run: [run.feedback],
    "progress site": lambda run: [run.warehouse.parent / "reports" / "site"],  # written by the refresh
}


@pytest.mark.parametrize("place", PLACES)
def test_outputs_and_logs_hold_no_personal_data(command_run: CommandRun, people: People, place: str) -> None:
    scanned, leaks = leaks_under(PLACES[place](command_run), people)
    assert scanned > 0, f"nothing to scan in the {place}: {PLACES[place](command_run)}"
    assert not leaks, "\n".join(leaks[:20])


@pytest.mark.parametrize("suffix", [".html", ".pdf", ".xlsx"])
def test_the_scanner_reads_the_reports_text(command_run: CommandRun, suffix: str) -> None:
    (report,) = command_run.reports.glob(f"*{suffix}")
    assert REPORT_TITLE in readable_text(report)


def test_published_database_holds_no_personal_data(command_run: CommandRun, people: People) -> None:
    con = duckdb.connect(str(command_run.warehouse / "ruralcare.duckdb"), read_only=True)
    leaks, scanned = [], 0
    try:
        columns = con.sql("select schema_name, table_name, column_name from duckdb_columns() "
                          "where not internal and schema_name <> 'information_schema'").fetchall()
        for schema, table, column in columns:
            # Every type as text: an ID or phone stored as a number leaks as much as one stored as text.
            ((values,),) = con.execute(f'select string_agg(distinct cast("{column}" as varchar), chr(10)) '
                                       f'from "{schema}"."{table}"').fetchall()
            scanned += bool(values)
            found = leaks_in_text(values or "", people)
            if found:
                leaks.append(f"{schema}.{table}.{column}: {len(found)}, e.g. {found[:3]}")
    finally:
        con.close()
    assert scanned > 100, f"only {scanned} non-empty columns in the published database"
    assert not leaks, "\n".join(leaks)


def test_the_working_area_is_the_owners_only(refreshed_warehouse) -> None:
    """The working database and the loader's raw Parquet hold full ID numbers: owner only."""
    assert (refreshed_warehouse.work_db.stat().st_mode & 0o777) == 0o600
    raw = refreshed_warehouse.raw_dir
    assert any(raw.rglob("*.parquet")) and (raw.stat().st_mode & 0o777) == 0o700
