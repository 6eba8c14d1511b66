"""Run a source's expectation suite on parsed rows; turn failures into findings and null bad cells."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.contract import SourceSpec
from pipelines.ingest.findings import Finding, describe, mask
from pipelines.ingest.parse import HELPER_PREFIX
from pipelines.ingest.suites import BIRTH_FLOOR_DATE, DUPLICATE_KEYS, WORKBOOK_FLOOR_DATE, Failure, SuiteRunner
from pipelines.ingest.suite_process import SuiteProcess
from pipelines.ingest.values import squeezed


@dataclass
class Checked:
    rows: pl.DataFrame  # contract columns only, unreadable cells nulled
    findings: list[Finding]


def _with_check_helpers(frame: pl.DataFrame, source: SourceSpec, town_names: dict[str, str]) -> pl.DataFrame:
    floor = BIRTH_FLOOR_DATE if source.is_registry else WORKBOOK_FLOOR_DATE
    frame = frame.with_columns(_floor_date=pl.lit(date.fromisoformat(floor)))
    keys = DUPLICATE_KEYS.get(source.kind)
    if not keys:
        return frame
    key_exprs = [pl.col(k) for k in keys]
    if source.kind == "facilities":
        # 大湾镇红竹敬老院 = 红竹敬老院: the town's full name at the start does not count.
        town_name = pl.col("town_code").replace_strict(town_names, default="", return_dtype=pl.String)
        key_exprs = [squeezed(pl.col("facility_name")).str.strip_prefix(town_name)]
    counted = pl.all_horizontal(k.is_not_null() for k in key_exprs)
    if source.kind == "village_points":
        # 前锋村 = 前锋村委会 = 前锋: the resolved village code is the key; a name that resolves to
        # no village is keyed by its typed text (a code and a text never share a key).
        code = pl.col("village_name_code") if "village_name_code" in frame.columns else pl.lit(None, pl.String)
        key_exprs = [code, pl.when(code.is_null()).then(pl.col("village_name"))]
        counted = pl.col("village_name").is_not_null() & pl.col("is_sub_point").fill_null(False).not_()
    frame = frame.with_columns([e.alias(f"_k{i}") for i, e in enumerate(key_exprs)], _counted=counted)
    partition = ["file_id", "sheet_name", "_counted", *[f"_k{i}" for i in range(len(key_exprs))]]
    occurrence = pl.int_range(1, pl.len() + 1).over(partition)
    return frame.with_columns(
        _occurrence=pl.when(pl.col("_counted")).then(occurrence).otherwise(pl.lit(1, pl.Int64))
    ).drop([f"_k{i}" for i in range(len(key_exprs))] + ["_counted"])


_POSITIONS = "_positions_of_equal_rows"


def _distinct_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """The frame's distinct rows and, for each, the positions of the rows equal to it."""
    grouped = frame.with_row_index(_POSITIONS).group_by(frame.columns).agg(_POSITIONS)
    return grouped.drop(_POSITIONS), grouped[_POSITIONS]


def _rows_equal_to(distinct_rows: list[int], equal_rows: pl.Series) -> list[int]:
    return equal_rows.gather(distinct_rows).explode().sort().to_list() if distinct_rows else []


def check_rows(
    frame: pl.DataFrame,
    source: SourceSpec,
    runner: SuiteRunner | SuiteProcess,
    file_names: dict[str, str],
    town_names: dict[str, str],
) -> Checked:
    """Validate parsed rows (one frame for many files of one kind) and apply the results.

    A registry finding's month is the month of its file's export date.
    """
    frame = _with_check_helpers(frame, source, town_names)
    wanted = runner.columns(source.table)
    presence_only = runner.presence_only_columns(source.table)
    # A column the suite only tests for being filled (names, phones, codes) reaches GX as a
    # presence mark (1 or null): GX fingerprints every frame it validates, and hashing millions
    # of texts took half a registry's validation. List cells (categories) become text: GX
    # fingerprints a frame of hashable cells without pickling it.
    validation = frame.select(
        pl.when(pl.col(c).is_not_null()).then(pl.lit(1, pl.Int8)).alias(c) if c in presence_only
        else pl.col(c).list.join("、") if isinstance(frame.schema[c], pl.List) else pl.col(c)
        for c in frame.columns if c in wanted
    )
    # Each distinct row is validated once (every expectation tests a row on its own values,
    # ROW_BY_ROW_EXPECTATIONS): a district's registry rows are ~3× fewer so, a city's far fewer.
    distinct, equal_rows = _distinct_rows(validation)
    failures = [Failure(failure.meta, _rows_equal_to(failure.rows, equal_rows))
                for failure in runner.validate(source.table, distinct)]
    findings: list[Finding] = []
    nulls: dict[str, list[int]] = {}
    personal = {c.field: c.personal for c in source.columns}
    for failure in failures:
        meta = failure.meta
        field_name = meta.get("field")
        if meta.get("nulls_cell") and field_name:
            nulls.setdefault(field_name, []).extend(failure.rows)
        value_column = None
        if field_name:
            value_column = f"{field_name}_raw" if f"{field_name}_raw" in frame.columns else field_name
        picked = frame[failure.rows].select(
            "file_id", "row_number", "town_code",
            pl.col("sheet_name") if "sheet_name" in frame.columns else pl.lit(None, pl.String).alias("sheet_name"),
            pl.col("month") if "month" in frame.columns else pl.col("export_date").dt.month_start().alias("month"),
            (pl.col(value_column).cast(pl.String) if value_column else pl.lit(None, pl.String)).alias("_value"),
        )
        for row in picked.iter_rows(named=True):
            value = mask(row["_value"], personal.get(field_name)) if field_name else None
            source_file = file_names[row["file_id"]]
            zh, en = describe(source_file, row["sheet_name"], row["row_number"], meta.get("column_name"), value,
                              meta["message_zh"], meta["message_en"])
            findings.append(Finding(
                meta["rule_id"], row["town_code"], row["month"], row["file_id"], source_file, row["sheet_name"],
                row["row_number"], meta.get("column_name"), value, zh, en,
            ))
    if nulls:
        position = pl.int_range(pl.len())
        frame = frame.with_columns(
            pl.when(position.is_in(rows)).then(None).otherwise(pl.col(name)).alias(name)
            for name, rows in nulls.items()
        )
    return Checked(rows=frame.select([c for c in frame.columns if not c.startswith(HELPER_PREFIX)]), findings=findings)
