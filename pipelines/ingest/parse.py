"""Typed raw-layer rows from cell text: one frame of `<field>_raw` strings in, contract columns out.

Shared by town sheets and registry chunks. Besides the contract columns the result carries
helper columns for the validation suites (dropped before storing):
`_given_<field>` (the cell holds something other than an empty marker), `_as_of`
(the date nothing may be after) and `_id_destroyed`.
"""

from __future__ import annotations

import polars as pl

from pipelines.contract import Column, Contract, SourceSpec, polars_schema, raw_columns
from pipelines.ingest import values
from pipelines.ingest.divisions import Divisions
from pipelines.ingest.findings import masked_in_text_expr
from pipelines.ingest.idnumber import with_id_columns
from pipelines.ingest.person_key import person_keys

HELPER_PREFIX = "_"

# A cell's value is a function of its text alone: columns with few distinct texts (dates, yes/no,
# categories, counts) are parsed once per distinct text and joined back. On 537k rows of a city's
# elderly registry that halved the cell parsing (1.14 → 0.58 s; parse_rows 2.2 → 1.5 s). Free
# text, ID numbers and phones (nearly one text per row) and money (which also depends on the
# header's unit) are parsed in place.
PARSED_PER_DISTINCT_TEXT = frozenset({"date", "village", "category", "categories", "yesno", "ability",
                                      "integer", "teams", "number", "area"})
DISTINCT_SHARE_FOR_TEXT = 4  # free text is parsed per distinct text when each repeats 4 times on average


def _parsed_per_distinct_text(column: Column, raw: pl.Series) -> bool:
    """Whether to parse the column once per distinct text: always for the types above; for free
    text (a registry's 性别, 乡镇, 签约机构) when its texts repeat (a cheap estimate of the count)."""
    if column.type in PARSED_PER_DISTINCT_TEXT:
        return True
    return column.type == "text" and raw.approx_n_unique() * DISTINCT_SHARE_FOR_TEXT <= raw.len()


def unit_multiplier(column: Column, header_unit: str | None) -> float:
    """Yuan per unit of a money column: the header's unit, else the column's default."""
    unit = header_unit or column.default_unit or "元"
    return 10000.0 if unit == "万元" else 1.0


def multiplier_column(field: str) -> str:
    return f"{HELPER_PREFIX}multiplier_{field}"


def multiplier_columns(source: SourceSpec, header_units: dict[str, str | None]) -> dict[str, pl.Expr]:
    """One helper column per money field: yuan per unit of that file's header (rows of many
    files are parsed together)."""
    return {
        multiplier_column(c.field): pl.lit(unit_multiplier(c, header_units.get(c.field)), pl.Float64)
        for c in source.columns if c.type == "money"
    }


def _typed(column: Column, raw: pl.Expr, contract: Contract, multiplier: pl.Expr) -> pl.Expr:
    kind = column.type
    if kind == "village":
        return values.village(raw, contract)
    if kind == "text" and column.personal is None:
        # free text reaches the published tables (a facility's name): no ID or phone in it
        return masked_in_text_expr(values.text(raw, contract))
    if kind in ("text", "phone"):
        return values.text(raw, contract)
    if kind == "id":
        return values.text(raw, contract, errors_unreadable=False)
    if kind in ("number", "area"):
        return values.number(raw)
    if kind == "money":
        return values.number(raw, multiplier)
    if kind == "integer":
        return values.integer(raw, contract)
    if kind == "teams":
        return values.teams(raw, contract)
    if kind == "yesno":
        return values.yes_no(raw, contract)
    if kind == "date":
        return values.date(raw)
    if kind == "category":
        return values.category(raw, column, contract)
    if kind == "categories":
        return values.categories(raw, column, contract)
    if kind == "ability":
        return values.ability(raw, contract)
    raise ValueError(f"unknown column type {kind!r}")


def _given(column: Column, raw: pl.Expr, contract: Contract) -> pl.Expr:
    """A cell that holds a value: not blank, not an empty marker (`无` counts as given in yes/no and counts)."""
    empties = list(contract.words["empty"])
    if column.type not in ("yesno", "teams", "integer"):
        empties += contract.words["empty_but_no_in_yesno_and_counts"]
    return ~values.is_empty(raw, empties)


def parse_rows(
    frame: pl.DataFrame,
    source: SourceSpec,
    contract: Contract,
    divisions: Divisions,
    pii_key: bytes,
) -> pl.DataFrame:
    """Parse `<field>_raw` columns into the raw table's columns (+ validation helpers).

    `frame` holds the lineage columns, `town_code` (registries: resolved here from
    `town_name_raw`), `_as_of`, one `<field>_raw` per field (null when the column is absent)
    and, for money fields, the header unit's multiplier (`multiplier_columns`; default unit
    when absent).
    """
    for column in source.columns:
        if f"{column.field}_raw" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(f"{column.field}_raw"))
    in_place = []
    for column in source.columns:
        raw_name = f"{column.field}_raw"
        raw = pl.col(raw_name)
        multiplier = (pl.col(multiplier_column(column.field)) if multiplier_column(column.field) in frame.columns
                      else pl.lit(unit_multiplier(column, None)))
        parsed = [_typed(column, raw, contract, multiplier).alias(column.field),
                  _given(column, raw, contract).alias(f"_given_{column.field}")]
        if not _parsed_per_distinct_text(column, frame[raw_name]):
            in_place += parsed
            continue
        # Lazily, so common sub-expressions (the squeezed cell text) are computed once.
        distinct = frame.lazy().select(raw.unique()).with_columns(parsed).collect()
        frame = frame.drop(column.field, f"_given_{column.field}", strict=False).join(
            distinct, on=raw_name, how="left", nulls_equal=True, maintain_order="left")
    frame = frame.lazy().with_columns(in_place).collect()

    if source.is_registry and "town_name" in frame.columns:
        # Per distinct name (a few hundred in millions of rows), then joined back.
        lookup = divisions.town_lookup.rename({"spelling": "_town_key", "town_code": "_resolved_town"})
        resolved = (frame.select(pl.col("town_name").unique().drop_nulls())
                    .with_columns(_town_key=values.squeezed(pl.col("town_name")))
                    .join(lookup, on="_town_key", how="left").drop("_town_key"))
        frame = frame.join(resolved, on="town_name", how="left", maintain_order="left")
        frame = frame.with_columns(town_code=pl.col("_resolved_town")).drop("_resolved_town")

    for column in source.columns:
        if column.type == "village":
            frame = divisions.match_villages(frame, "town_code", column.field)
            frame = frame.rename({f"{column.field}__code": f"{column.field}_code"})
            if column.field == "village_name":
                frame = frame.rename({f"{column.field}__level": "village_level"})
            else:
                frame = frame.drop(f"{column.field}__level")
        if column.type == "id":
            frame = with_id_columns(frame.drop(column.field), f"{column.field}_raw", "_as_of")
            if column.field != "id_number":
                frame = frame.rename({"id_number": column.field})
            frame = frame.with_columns(person_keys(pii_key, frame[column.field]))

    if source.kind == "village_points":
        frame = frame.with_columns(pl.col("is_sub_point").fill_null(False))  # empty means a main row
    wanted = polars_schema(raw_columns(source))
    helpers = [c for c in frame.columns if c.startswith(HELPER_PREFIX)]
    return frame.select(
        *[pl.col(name).cast(dtype) for name, dtype in wanted.items()],
        *helpers,
    )
