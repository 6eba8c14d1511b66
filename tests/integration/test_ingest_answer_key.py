"""The loader against the generator's answer key (docs/contracts.md §2).

What ingestion loaded in the session's refreshes of the generator's default and `clean`
inboxes (tests/conftest.py): file and sheet statuses, planted ingest-layer findings, the raw
tables cell by cell against `answer_key/truth/*.parquet`, and an idempotent second
`run_ingest` on the same inbox.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.contract import load_contract, raw_tables
from pipelines.ingest import run_ingest
from pipelines.ingest.findings import mask
from pipelines.ingest.inbox import REASONS
from pipelines.settings import Settings

pytestmark = pytest.mark.slow

INGEST_LAYER = "ingest"
FINDING_KEY = ("rule_id", "source_file", "sheet", "row_number", "column_name")
EXAMPLES = 3
PERSONAL = {c.field: c.personal for s in load_contract().sources for c in s.columns if c.personal}


@dataclass(frozen=True)
class IngestRun:
    generated: Path  # the generator's output folder (answer_key/ lives here)
    settings: Settings

    @property
    def answer_key(self) -> Path:
        return self.generated / "answer_key"

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.work_db), read_only=True)


@pytest.fixture(scope="session")
def default_ingest(generated_sources: Path, refreshed_warehouse: Settings) -> IngestRun:
    """The session's refresh of the generated inbox: its raw tables are what `run_ingest` loaded."""
    return IngestRun(generated_sources, refreshed_warehouse)


@pytest.fixture(scope="session")
def clean_ingest(clean_sources: Path, refreshed_clean_warehouse: Settings) -> IngestRun:
    return IngestRun(clean_sources, refreshed_clean_warehouse)


# --- reading both sides -------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str | None]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)]


REASON_CODES = {zh: code for code, (zh, _) in REASONS.items()}


def frame_of(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    return pl.from_arrow(con.sql(query).to_arrow_table())


def loaded_files(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rows = con.execute(
        "SELECT relative_path, kind, registry, town_code, strftime(month, '%Y-%m'), CAST(export_date AS VARCHAR), "
        "status, reason_zh, CAST(submission_date AS VARCHAR), sha256, rows FROM raw.files").fetchall()
    return {
        path: {"kind": kind, "registry": registry, "town_code": town, "month": month, "export_date": export,
               "expected_status": status, "reason": REASON_CODES.get(reason, reason), "submission_date": submitted,
               "sha256": sha, "rows": rows}
        for path, kind, registry, town, month, export, status, reason, submitted, sha, rows in rows
    }


def loaded_sheets(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    rows = con.execute(
        "SELECT f.relative_path, s.sheet_name, s.sheet_kind, s.status, s.header_row, s.rows "
        "FROM raw.sheets s JOIN raw.files f USING (file_id)").fetchall()
    return {(path, name): {"sheet_kind": kind, "expected_status": status, "header_row": header, "rows": count}
            for path, name, kind, status, header, count in rows}


def loaded_findings(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return frame_of(con,
        "SELECT g.rule_id, g.town_code, strftime(g.month, '%Y-%m') AS month, f.relative_path AS source_file, "
        "g.sheet, g.row_number, g.column_name FROM raw.ingest_findings g JOIN raw.files f USING (file_id)").to_dicts()


def finding_key(finding: dict) -> tuple:
    row = finding["row_number"]
    return (finding["rule_id"], finding["source_file"], finding["sheet"] or None,
            int(row) if row not in (None, "") else None, finding["column_name"] or None)


def rules(answer_key: Path) -> dict[str, dict]:
    return {r["rule_id"]: r for r in read_csv(answer_key / "rules.csv")}


# --- comparing ----------------------------------------------------------------------------


def differences(expected: dict, actual: dict, fields: list[str]) -> list[str]:
    """`key: field expected X, got Y` for every differing field of keys present on both sides;
    keys present on one side only are reported too."""
    out = []
    for key in sorted(expected.keys() | actual.keys(), key=str):
        if key not in actual:
            out.append(f"{key}: expected, not loaded")
            continue
        if key not in expected:
            out.append(f"{key}: loaded, not in the answer key")
            continue
        for name in fields:
            want, got = expected[key].get(name), actual[key].get(name)
            if str(want) != str(got) and not (want is None and got is None):
                out.append(f"{key}: {name} expected {want!r}, got {got!r}")
    return out


def _same(expected: pl.Expr, actual: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Float64:
        equal = (expected - actual).abs() < 1e-6
    elif isinstance(dtype, pl.List):
        equal = expected.list.join("|") == actual.list.join("|")
    else:
        equal = expected == actual
    both_null = expected.is_null() & actual.is_null()
    return both_null | (equal.fill_null(False) & expected.is_not_null() & actual.is_not_null())


def shown(column: str, value):
    """A value as a test message may show it: personal values masked."""
    return mask(value, PERSONAL.get(column)) if isinstance(value, str) else value


def table_mismatches(truth: pl.DataFrame, loaded: pl.DataFrame, keys: list[str], table: str) -> list[str]:
    """One line per (table, column) that differs: count and a few examples (keys, expected, got)."""
    joined = truth.join(loaded, on=keys, how="full", suffix="__got", coalesce=True,
                        nulls_equal=True)
    lines = []
    only_truth = joined.filter(pl.col("__in_loaded").is_null())
    only_loaded = joined.filter(pl.col("__in_truth").is_null())
    for label, part in (("rows missing from the raw table", only_truth), ("rows not in the truth", only_loaded)):
        if part.height:
            examples = part.select(keys).head(EXAMPLES).rows()
            lines.append(f"{table}: {label}: {part.height}, e.g. {examples}")
    both = joined.filter(pl.col("__in_loaded").is_not_null() & pl.col("__in_truth").is_not_null())
    for name, dtype in truth.schema.items():
        if name in keys or name.startswith("__"):
            continue
        if name not in loaded.columns:
            lines.append(f"{table}.{name}: column missing from the raw table")
            continue
        differ = both.filter(~_same(pl.col(name), pl.col(f"{name}__got"), dtype))
        if differ.height:
            examples = [
                f"{dict(zip(keys, row[:-2]))} expected {shown(name, row[-2])!r} got {shown(name, row[-1])!r}"
                for row in differ.select(*keys, name, f"{name}__got").head(EXAMPLES).rows()
            ]
            lines.append(f"{table}.{name}: {differ.height} differ, e.g. " + "; ".join(examples))
    return lines


def raw_table_for_truth(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> pl.DataFrame:
    """The raw table with `file_id` replaced by the file's relative path (as the truth has it)."""
    available = {name for name, _ in raw_tables()[table]}
    wanted = [c for c in columns if c != "file_id" and c in available]
    select = ", ".join(f't."{c}"' for c in wanted)
    return frame_of(
        con, f"SELECT f.relative_path AS file_id, {select} FROM raw.{table} t JOIN raw.files f USING (file_id)")


ROW_TABLES = [t for t in raw_tables() if t.startswith(("town_", "registry_"))]


def all_table_mismatches(run: IngestRun) -> list[str]:
    """Every raw row table against its truth table; an empty side is a mismatch, not a pass."""
    truth_tables = {path.stem: path for path in (run.answer_key / "truth").glob("*.parquet")}
    lines = [f"{table}: no truth table in the answer key" for table in ROW_TABLES if table not in truth_tables]
    lines += [f"truth/{table}.parquet: no raw table of that name"
              for table in sorted(truth_tables.keys() - {*ROW_TABLES, "files", "sheets"})]
    with run.connect() as con:
        for table in ROW_TABLES:
            if table not in truth_tables:
                continue
            truth = pl.read_parquet(truth_tables[table])
            keys = ["file_id", "row_number"] if table.startswith("registry_") else ["file_id", "sheet_name", "row_number"]
            loaded = raw_table_for_truth(con, table, truth.columns)
            if truth.is_empty() or loaded.is_empty():
                lines.append(f"{table}: {truth.height} truth rows, {loaded.height} loaded rows; both must have rows")
                continue
            truth = truth.with_columns(pl.col("row_number").cast(pl.Int64), __in_truth=pl.lit(True))
            loaded = loaded.with_columns(pl.col("row_number").cast(pl.Int64), __in_loaded=pl.lit(True))
            lines += table_mismatches(truth, loaded, keys, table)
    return lines


# --- tests: default output ------------------------------------------------------------------


def test_every_file_status_matches_the_answer_key(default_ingest: IngestRun, generated_run):
    expected = {r["relative_path"]: r for r in read_csv(default_ingest.answer_key / "files.csv")}
    generated_files = sum(generated_run[1]["files"].values())
    assert generated_files > 0 and len(expected) == generated_files, (
        f"files.csv lists {len(expected)} files, the generator wrote {generated_files}")
    with default_ingest.connect() as con:
        actual = loaded_files(con)
    fields = ["kind", "registry", "town_code", "month", "export_date", "expected_status", "reason",
              "submission_date", "sha256"]
    problems = differences(expected, actual, fields)
    assert not problems, "\n".join(problems)


def test_every_sheet_status_matches_the_answer_key(default_ingest: IngestRun):
    expected = {(r["relative_path"], r["sheet_name"]): r for r in read_csv(default_ingest.answer_key / "sheets.csv")}
    assert expected, "sheets.csv lists no sheets"
    with default_ingest.connect() as con:
        actual = loaded_sheets(con)
    problems = differences(expected, actual, ["sheet_kind", "expected_status", "header_row", "rows"])
    assert not problems, "\n".join(problems)


def test_every_planted_ingest_finding_is_found_and_no_more_for_exhaustive_rules(default_ingest: IngestRun):
    planted = [f for f in read_csv(default_ingest.answer_key / "findings.csv") if f["layer"] == INGEST_LAYER]
    assert planted, "the answer key plants ingest findings"
    with default_ingest.connect() as con:
        found = loaded_findings(con)
    found_keys = {finding_key(f) for f in found}
    planted_keys = {finding_key(f) for f in planted}
    missing = sorted((k for k in planted_keys if k not in found_keys), key=str)
    exhaustive = {rule for rule, r in rules(default_ingest.answer_key).items()
                  if r["layer"] == INGEST_LAYER and r["exhaustive"] == "true"}
    extra = sorted((k for k in found_keys - planted_keys if k[0] in exhaustive), key=str)
    assert not missing and not extra, (
        f"planted but not found ({len(missing)}):\n" + "\n".join(map(str, missing))
        + f"\nfound but not planted ({len(extra)}):\n" + "\n".join(map(str, extra))
    )


def test_findings_carry_the_answer_keys_town_and_month(default_ingest: IngestRun):
    planted = {finding_key(f): f for f in read_csv(default_ingest.answer_key / "findings.csv")
               if f["layer"] == INGEST_LAYER}
    with default_ingest.connect() as con:
        found = {finding_key(f): f for f in loaded_findings(con)}
    assert planted.keys() & found.keys(), "no planted ingest finding was found: nothing to compare"
    problems = [f"{key}: (town, month) expected {(p['town_code'], p['month'])}, got "
                f"{(found[key]['town_code'], found[key]['month'])}"
                for key, p in planted.items()
                if key in found and (p["town_code"], p["month"]) != (found[key]["town_code"], found[key]["month"])]
    assert not problems, "\n".join(problems)


def test_raw_tables_equal_the_truth_tables(default_ingest: IngestRun):
    mismatches = all_table_mismatches(default_ingest)
    assert not mismatches, "\n".join(mismatches)


def test_a_second_run_on_the_same_inbox_loads_nothing_and_changes_nothing(default_ingest: IngestRun):
    settings = default_ingest.settings
    tables = list(raw_tables())
    con = duckdb.connect(str(settings.work_db))
    try:
        def snapshot() -> dict[str, pl.DataFrame]:
            return {t: frame_of(con, f"SELECT * FROM raw.{t} ORDER BY ALL") for t in tables}

        before = snapshot()
        empty = [t for t in tables if before[t].is_empty()]
        assert not empty, f"the first run left these raw tables empty: {empty}"
        summary = run_ingest(settings, con, "second-run")
        after = snapshot()
    finally:
        con.close()
    assert summary.files == [] and summary.rows_by_table == {} and summary.findings_by_rule == {}
    changed = [t for t in tables if not before[t].equals(after[t])]
    assert not changed, f"raw tables changed by a second run: {changed}"


# --- tests: clean output --------------------------------------------------------------------


def test_clean_output_has_no_ingest_findings_beyond_its_answer_key(clean_ingest: IngestRun):
    ingest_rules = {rule for rule, r in rules(clean_ingest.answer_key).items() if r["layer"] == INGEST_LAYER}
    listed = {finding_key(f) for f in read_csv(clean_ingest.answer_key / "findings.csv")
              if f["layer"] == INGEST_LAYER}
    assert ingest_rules, "rules.csv lists no ingest rules"
    with clean_ingest.connect() as con:
        ((loaded,),) = con.execute("select count(*) from raw.files where status = 'loaded'").fetchall()
        found = [f for f in loaded_findings(con) if f["rule_id"] in ingest_rules]
    assert loaded > 0, "the clean inbox loaded no file: no findings would be trivially true"
    unexpected = sorted((finding_key(f) for f in found if finding_key(f) not in listed), key=str)
    assert not unexpected, f"{len(unexpected)} ingest findings on clean output:\n" + "\n".join(
        map(str, unexpected[:50]))


def test_clean_output_statuses_and_tables_match_the_answer_key(clean_ingest: IngestRun):
    expected = {r["relative_path"]: r for r in read_csv(clean_ingest.answer_key / "files.csv")}
    assert expected, "the clean answer key lists no files"
    with clean_ingest.connect() as con:
        actual = loaded_files(con)
    problems = differences(expected, actual, ["town_code", "month", "export_date", "expected_status",
                                              "submission_date"])
    problems += all_table_mismatches(clean_ingest)
    assert not problems, "\n".join(problems)
