"""A refresh is incremental and honest about it: month by month publishes what one full refresh
publishes, a night with nothing new leaves the published file untouched, and anything new —
even a file that is only rejected — makes the later stages run."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest

from pipelines.ingest import run_ingest
from pipelines.orchestration import REFRESH_STAGES, nightly_refresh_schedule
from pipelines.publish.inputs import published_is_current, record_if_unchanged
from pipelines.refresh import REFRESH_RUNS, run_refresh
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

RURALCARE = str(Path(sys.executable).parent / "ruralcare")
# Columns that say when or by which refresh a row was made, not what it holds.
RUN_COLUMNS = {"refresh_id", "loaded_at", "started", "finished", "published_at"}


def _split_last_month(sources: Path) -> tuple[list[str], list[str]]:
    """The inbox's files before the last month, and those of the last month (its workbooks and
    the registry exports dated in it), by the generator's answer key."""
    with (sources / "answer_key" / "files.csv").open(encoding="utf-8") as handle:
        rows = [(row["relative_path"], row["month"] or row["export_date"][:7]) for row in csv.DictReader(handle)]
    last = max(month for _, month in rows)
    return [path for path, month in rows if month != last], [path for path, month in rows if month == last]


def _copy(sources: Path, into: Path, paths: list[str]) -> None:
    for path in paths:
        (into / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sources / path, into / path)  # modification times are data (late submissions)


def _refresh(inbox: Path, warehouse: Path) -> None:
    resource = WarehouseResource(sources_dir=str(inbox), warehouse_dir=str(warehouse),
                                 work_db=str(warehouse / "work.duckdb"))
    result = run_refresh(resource)
    assert result.success, f"refresh failed in {result.failed_stage}: {result.error}"


def _published_tables(path: Path) -> dict[str, list[tuple]]:
    """Every published table's rows (sorted), without the columns that name the refresh."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
        out = {}
        for schema, table in tables:
            if (schema, table) == ("meta", "refresh"):
                continue  # one row per refresh: two refreshes are not one
            columns = [c for c, in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                "order by column_index", [schema, table]).fetchall() if c not in RUN_COLUMNS]
            selected = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {selected} from {schema}."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_refresh_runs_cover_every_stage_once_in_order() -> None:
    assert tuple(stage for run in REFRESH_RUNS for stage in run) == REFRESH_STAGES


@pytest.fixture(scope="module")
def month_by_month(small_clean_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The two-month inbox refreshed one month at a time (the second month's files arrive after
    the first is published): (inbox, warehouse)."""
    root = tmp_path_factory.mktemp("month_by_month")
    inbox, warehouse = root / "inbox", root / "warehouse"
    for paths in _split_last_month(small_clean_sources):
        _copy(small_clean_sources, inbox, paths)
        _refresh(inbox, warehouse)
    return inbox, warehouse


def test_month_by_month_publishes_what_one_full_refresh_publishes(
    month_by_month: tuple[Path, Path], refreshed_small_warehouse: Settings
) -> None:
    expected = _published_tables(refreshed_small_warehouse.published_db)
    got = _published_tables(month_by_month[1] / "ruralcare.duckdb")
    assert sorted(got) == sorted(expected)
    assert sum(len(rows) for rows in expected.values()) > 1000
    differing = [table for table in expected if got[table] != expected[table]]
    assert differing == []


def test_nothing_new_leaves_the_published_file_alone_and_anything_new_is_news(
    month_by_month: tuple[Path, Path],
) -> None:
    inbox, warehouse = month_by_month
    published = warehouse / "ruralcare.duckdb"
    before, modified = _sha256(published), published.stat().st_mtime_ns

    def cli_refresh() -> subprocess.CompletedProcess:
        return subprocess.run([RURALCARE, "refresh", "--sources", str(inbox), "--warehouse", str(warehouse)],
                              capture_output=True, text=True, timeout=900, check=False, env=os.environ.copy())

    quiet = cli_refresh()
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert "nothing new" in quiet.stderr
    assert (_sha256(published), published.stat().st_mtime_ns) == (before, modified)
    # The same decision in the nightly schedule's tick (no run at all) and inside a Dagster-run
    # refresh (ingest runs and finds nothing; the rest does not run).
    resource = WarehouseResource(sources_dir=str(inbox), warehouse_dir=str(warehouse),
                                 work_db=str(warehouse / "work.duckdb"))
    tick = nightly_refresh_schedule.evaluate_tick(dg.build_schedule_context(resources={"warehouse": resource}))
    assert not tick.run_requests and "nothing new" in tick.skip_message
    result = run_refresh(resource)
    assert result.success and result.unchanged and list(result.stage_seconds) == ["ingest"]
    assert (_sha256(published), published.stat().st_mtime_ns) == (before, modified)
    con = duckdb.connect(str(warehouse / "work.duckdb"), read_only=True)
    try:
        statuses = [s for s, in con.execute("select status from meta.refresh order by started").fetchall()]
    finally:
        con.close()
    assert statuses == ["success", "success", "unchanged", "unchanged"]

    # A file that will only be rejected is still news: its finding must reach the town.
    (inbox / "towns" / "大湾镇_2022年12月_进度表（空）.xlsx").write_bytes(b"")
    settings = Settings.from_env(sources_dir=inbox, warehouse_dir=warehouse)
    assert record_if_unchanged(settings) is None, "a new file must not be skipped"
    con = duckdb.connect(str(settings.work_db))
    try:
        assert published_is_current(con, settings)
        summary = run_ingest(settings, con, "test-rejected-file")
        assert summary.files_by_status == {"rejected": 1}
        assert not published_is_current(con, settings), "after ingest the stages must run"
    finally:
        con.close()


def _dbt_build_was_full(warehouse: Path) -> bool:
    """Whether the warehouse's last dbt build rebuilt every month (its run_results' arguments)."""
    results = json.loads((warehouse / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    return bool(results["args"].get("full_refresh"))


def _resubmit_with_fewer_rows(inbox: Path, relative_path: str) -> str:
    """A town's corrected workbook for the same month (sent later, so it supersedes the first):
    the last two rows of its pairing sheet and the last of its village-point sheet left out."""
    original = inbox / relative_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the generator's workbooks carry no default style
        book = openpyxl.load_workbook(original)
    for title_part, rows in (("结对", 2), ("互助", 1)):
        sheet = next(sheet for sheet in book.worksheets if title_part in sheet.title)
        sheet.delete_rows(sheet.max_row - rows + 1, rows)
    corrected = original.with_name(f"{original.stem}（更正）{original.suffix}")
    book.save(corrected)
    later = original.stat().st_mtime + 86_400
    os.utime(corrected, (later, later))
    return str(corrected.relative_to(inbox))


def _late_export_with_fewer_rows(inbox: Path, relative_path: str, export_date: str) -> str:
    """A registry export dated a day after another one of the same month, five records fewer."""
    original = inbox / relative_path
    raw = original.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "gb18030"
    records = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
    late = original.with_name(original.name.replace(original.stem.rsplit("_", 1)[1], export_date))
    with late.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(records[:-5])
    return str(late.relative_to(inbox))


def test_late_corrections_rebuild_their_months_as_a_full_build_would(
    month_by_month: tuple[Path, Path], tmp_path: Path
) -> None:
    """After December is published, a corrected November workbook and a late December registry
    export arrive (each changes one month's inputs): the build rebuilds only the months whose
    inputs changed, and publishes what building every month again publishes."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    shutil.copytree(month_by_month[0], inbox)
    shutil.copytree(month_by_month[1], warehouse)
    assert not _dbt_build_was_full(warehouse), "December's arrival rebuilt every month"
    before = _published_tables(warehouse / "ruralcare.duckdb")

    workbook = _resubmit_with_fewer_rows(inbox, "towns/木耳镇_2022年11月_农村养老服务全覆盖进度表.xlsx")
    export = _late_export_with_fewer_rows(inbox, "registries/低保对象名册_20221230.csv", "20221231")
    _refresh(inbox, warehouse)
    assert not _dbt_build_was_full(warehouse)
    con = duckdb.connect(str(warehouse / "work.duckdb"), read_only=True)
    try:
        statuses = dict(con.execute("select relative_path, status from raw.files").fetchall())
    finally:
        con.close()
    assert statuses[workbook] == "loaded" and statuses[export] == "loaded"
    assert statuses["towns/木耳镇_2022年11月_农村养老服务全覆盖进度表.xlsx"] == "superseded"
    incremental = _published_tables(warehouse / "ruralcare.duckdb")
    changed = [table for table in before if incremental[table] != before[table]]
    assert {"marts.fct_person_monthly", "marts.kpi_town_monthly", "quality.files"} <= set(changed)

    # What an older version's models made (a mart since renamed, a stopped build's temporary
    # table): a full build drops them, so that they are not published as if current.
    con = duckdb.connect(str(warehouse / "work.duckdb"))
    try:
        con.execute("create table marts.kpi_town_monthly_renamed as select * from marts.kpi_town_monthly")
        con.execute("create table intermediate.int_person_monthly__dbt_tmp as select 1 as x")
    finally:
        con.close()
    resource = WarehouseResource(sources_dir=str(inbox), warehouse_dir=str(warehouse),
                                 work_db=str(warehouse / "work.duckdb"))
    rebuilt = run_refresh(resource, rebuild=True)
    assert rebuilt.success, rebuilt.error
    assert _dbt_build_was_full(warehouse)
    full = _published_tables(warehouse / "ruralcare.duckdb")
    assert [table for table in full if full[table] != incremental[table]] == []
    assert sorted(full) == sorted(incremental)
    con = duckdb.connect(str(warehouse / "work.duckdb"), read_only=True)
    try:
        left = {name for name, in con.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert {"kpi_town_monthly_renamed", "int_person_monthly__dbt_tmp"}.isdisjoint(left)
    assert {"kpi_town_monthly", "files", "built_month_inputs", "refresh"} <= left


def _compiled_test(warehouse: Path, yml: str, name_start: str) -> str:
    """The SQL the warehouse's last dbt build ran for a data test (dbt shortens long names)."""
    folder = warehouse / "dbt_target" / "compiled" / "ruralcare" / "models"
    (path,) = [p for p in folder.rglob(f"{yml}/{name_start}*.sql")]
    return path.read_text(encoding="utf-8")


def test_the_tests_of_month_by_month_models_check_the_months_built(
    month_by_month: tuple[Path, Path], refreshed_small_warehouse: Settings
) -> None:
    """A build of the new month checks that month's person rows (macros/incremental_months.sql,
    get_where_subquery); a full build checks every month."""
    incremental, full = month_by_month[1], refreshed_small_warehouse.warehouse_dir
    assert not _dbt_build_was_full(incremental)
    for yml, test in (("_fact_marts.yml", "unique_combination_fct_person_monthly_"),
                      ("_intermediate.yml", "unique_combination_int_registr"),
                      ("_explain_marts.yml", "unique_combination_kpi_members_")):
        assert "built_month_inputs" in _compiled_test(incremental, yml, test)
        assert "built_month_inputs" not in _compiled_test(full, yml, test)
        # a full build's (and Spark's) filter is `(true)`: without an alias for the tested relation,
        # Spark reads `from t where (true)` as the alias `where` with a column list
        assert " as dbt_tested where (true)" in _compiled_test(full, yml, test)


def _built_in_last_build(warehouse: Path) -> dict[str, str]:
    """unique id → status of every node the warehouse's last dbt build ran."""
    results = json.loads((warehouse / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"]: r["status"] for r in results["results"]}


def test_a_new_month_leaves_the_reference_models_as_they_are_and_still_tests_the_facts_against_them(
    month_by_month: tuple[Path, Path], refreshed_small_warehouse: Settings
) -> None:
    """The division list, plan and catalogues did not change with December: their models and seeds
    are not built again, while every test reading a fact (relationships to dim_town) still runs."""
    incremental = _built_in_last_build(month_by_month[1])
    full = _built_in_last_build(refreshed_small_warehouse.warehouse_dir)
    reference = {"model.ruralcare.dim_town", "model.ruralcare.dim_kpi", "seed.ruralcare.divisions",
                 "test.ruralcare.unique_dim_town_town_code.460e4c941e"}
    assert reference <= set(full) and reference.isdisjoint(incremental)
    to_dim_town = [u for u in incremental if u.startswith("test.ruralcare.relationships_kpi_members_town_code")]
    assert len(to_dim_town) == 1 and incremental[to_dim_town[0]] == "pass"
    assert incremental["model.ruralcare.fct_person_monthly"] == "success"
