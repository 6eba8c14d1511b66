"""Dagster: the ingest stage as one multi-asset (every raw table) with one check per suite."""


from collections import Counter

import dagster as dg

from pipelines import progress
from pipelines.contract import load_contract, raw_tables
from pipelines.ingest.inbox import stray_files
from pipelines.ingest.run import run_ingest
from pipelines.ingest.suites import load_suite
from pipelines.resources import WarehouseResource
from pipelines.runs import refresh_id_for

RAW_KEYS = {table: dg.AssetKey(["raw", table]) for table in raw_tables()}
SUITE_TABLES = [source.table for source in load_contract().sources]


def _check_spec(table: str) -> dg.AssetCheckSpec:
    rules = sorted({e["meta"]["rule_id"] for e in load_suite(table)["expectations"]})
    return dg.AssetCheckSpec(
        name=f"suite_{table}",
        asset=RAW_KEYS[table],
        description=f"Great Expectations suite {table} ({', '.join(rules)}) on this refresh's new rows",
    )


@dg.multi_asset(
    name="ingest_inbox",
    group_name="ingest",
    specs=[dg.AssetSpec(key, group_name="ingest", description=f"raw.{table}") for table, key in RAW_KEYS.items()],
    check_specs=[_check_spec(table) for table in SUITE_TABLES],
    can_subset=False,
)
def ingest_inbox(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Load every new inbox file (town workbooks, registry exports) into the raw layer."""
    settings = warehouse.settings()
    refresh_id = refresh_id_for(context)
    with warehouse.connect() as con:
        summary = run_ingest(settings, con, refresh_id, IngestProgress(context.log.info))
        by_table = _findings_by_table_rule_town(con, refresh_id)
    context.log.info(
        f"files {summary.files_by_status}, rows {summary.rows_by_table}, findings {summary.findings_by_rule}"
    )
    stray = stray_files(settings.sources_dir)
    if stray:
        context.log.warning(f"{len(stray)} file(s) in the inbox outside towns/ and registries/ are not read "
                            f"(move them there): {', '.join(stray[:10])}{' …' if len(stray) > 10 else ''}")
    for table, key in RAW_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"new_rows": summary.rows_by_table.get(table, 0), "refresh_id": refresh_id},
        )
    for table in SUITE_TABLES:
        counts = by_table.get(table, {})
        errors = {rule: n for (rule, severity), n in _by_rule(counts).items() if severity == "error"}
        yield dg.AssetCheckResult(
            asset_key=RAW_KEYS[table],
            check_name=f"suite_{table}",
            passed=not errors,
            severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
            metadata={
                "findings_by_rule": {rule: n for (rule, _), n in _by_rule(counts).items()},
                "findings_by_town": dict(_by_town(counts)),
            },
        )


# A city's registry export is millions of rows read in half a minute or more, between two file lines.
ROWS_LOGGED_EVERY = 1_000_000


class IngestProgress:
    """The loader's progress (run.Progress) for a person watching: files n/N to whoever listens in
    this process (the CLI's bar) and every tenth of them to the run's log (each log line is an
    event Dagster stores: one per file would cost more than the file); inside a large registry
    export its rows read so far, on the bar as they come and in the log every million."""

    def __init__(self, log) -> None:
        self._log = log
        self._files = (0, 0)
        self._rows_logged = 0

    def __call__(self, text: str, done: int, total: int) -> None:
        if total:
            self._files, self._rows_logged = (done, total), 0
            progress.report("files", done, total)
            if done == total or done % max(1, total // 10) == 0:
                self._log(f"file {done}/{total}: {text}")
            return
        # total 0: `done` rows of the export being read, `text` says which
        progress.report(f"files ({text})", *self._files)
        if done // ROWS_LOGGED_EVERY > self._rows_logged // ROWS_LOGGED_EVERY:
            self._log(text)
            self._rows_logged = done


def _findings_by_table_rule_town(con, refresh_id: str) -> dict[str, dict[tuple[str, str, str | None], int]]:
    """This refresh's findings on rows of each raw table, by (rule, severity, town)."""
    rows = con.execute(
        """
        SELECT CASE WHEN f.sheet IS NULL THEN 'registry_' || fl.registry ELSE 'town_' || s.sheet_kind END,
               f.rule_id, f.severity, f.town_code, count(*)
        FROM raw.ingest_findings f
        JOIN raw.files fl USING (file_id)
        LEFT JOIN raw.sheets s ON s.file_id = f.file_id AND s.sheet_name = f.sheet
        WHERE f.refresh_id = ? AND f.row_number IS NOT NULL
        GROUP BY ALL
        """,
        [refresh_id],
    ).fetchall()
    out: dict[str, dict] = {}
    for table, rule, severity, town, n in rows:
        out.setdefault(table, {})[(rule, severity, town)] = n
    return out


def _by_rule(counts: dict) -> Counter:
    result: Counter = Counter()
    for (rule, severity, _), n in counts.items():
        result[(rule, severity)] += n
    return result


def _by_town(counts: dict) -> Counter:
    result: Counter = Counter()
    for (_, _, town), n in counts.items():
        result[town or "-"] += n
    return result


INGEST_ASSETS = [ingest_inbox]
INGEST_CHECKS: list = []  # the suites' checks are check_specs of ingest_inbox
