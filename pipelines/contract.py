"""The inbox contract (sources/contract/sheets.yaml) and the raw-layer schema derived from it.

The raw layer is what the loader writes and dbt's staging models read (docs/contracts.md §1).
Its column list is derived here, once, from the contract's field types, so the loader, the
generator's truth tables and dbt's sources cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipelines.settings import CONTRACT_FILE

if TYPE_CHECKING:
    import polars as pl

DUCKDB_TYPES = {
    "text": "VARCHAR",
    "phone": "VARCHAR",
    "category": "VARCHAR",
    "categories": "VARCHAR[]",
    "village": "VARCHAR",
    "id": "VARCHAR",
    "integer": "BIGINT",
    "teams": "BIGINT",
    "ability": "BIGINT",
    "number": "DOUBLE",
    "area": "DOUBLE",
    "money": "DOUBLE",
    "yesno": "BOOLEAN",
    "date": "DATE",
}

# Registry text fields are stored once: the parsed value is the trimmed text itself.
_REGISTRY_TYPES_WITHOUT_RAW = {"text", "phone"}

TOWN_LINEAGE = [
    ("file_id", "VARCHAR"),
    ("sheet_name", "VARCHAR"),
    ("row_number", "INTEGER"),
    ("refresh_id", "VARCHAR"),
    ("town_code", "VARCHAR"),
    ("month", "DATE"),
]
REGISTRY_LINEAGE = [
    ("file_id", "VARCHAR"),
    ("row_number", "INTEGER"),
    ("refresh_id", "VARCHAR"),
    ("export_date", "DATE"),
]

FILES_COLUMNS = [
    ("file_id", "VARCHAR"),
    ("file_name", "VARCHAR"),
    ("relative_path", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("registry", "VARCHAR"),
    ("town_code", "VARCHAR"),
    ("month", "DATE"),
    ("export_date", "DATE"),
    ("submission_date", "DATE"),
    ("modified_at", "TIMESTAMP"),
    ("status", "VARCHAR"),
    ("reason_zh", "VARCHAR"),
    ("reason_en", "VARCHAR"),
    ("rows", "BIGINT"),
    ("loaded_at", "TIMESTAMP"),
    ("refresh_id", "VARCHAR"),
]
SHEETS_COLUMNS = [
    ("file_id", "VARCHAR"),
    ("sheet_kind", "VARCHAR"),
    ("sheet_name", "VARCHAR"),
    ("status", "VARCHAR"),
    ("reason_zh", "VARCHAR"),
    ("reason_en", "VARCHAR"),
    ("header_row", "INTEGER"),
    ("rows", "BIGINT"),
]
FINDINGS_COLUMNS = [
    ("rule_id", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("town_code", "VARCHAR"),
    ("month", "DATE"),
    ("file_id", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("sheet", "VARCHAR"),
    ("row_number", "INTEGER"),
    ("column_name", "VARCHAR"),
    ("value", "VARCHAR"),
    ("message_zh", "VARCHAR"),
    ("message_en", "VARCHAR"),
    ("refresh_id", "VARCHAR"),
]


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    type: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    personal: str | None = None
    max: float | None = None
    default_unit: str | None = None
    fill_down: bool = False
    not_after_month_end: bool = False


@dataclass(frozen=True)
class SourceSpec:
    """One sheet kind of the town workbook, or one registry."""

    kind: str
    name: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    group_labels: tuple[str, ...] = ()
    is_registry: bool = False

    @property
    def table(self) -> str:
        return f"registry_{self.kind}" if self.is_registry else f"town_{self.kind}"

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


@dataclass(frozen=True)
class Contract:
    sheets: dict[str, SourceSpec]
    registries: dict[str, SourceSpec]
    ability_levels: dict[int, str]
    words: dict

    @property
    def sources(self) -> list[SourceSpec]:
        return [*self.sheets.values(), *self.registries.values()]


def _column(raw: dict) -> Column:
    values = raw.get("values") or {}
    return Column(
        field=raw["field"],
        header=raw["header"],
        type=raw["type"],
        aliases=tuple(raw.get("aliases") or ()),
        required=bool(raw.get("required", False)),
        values={str(k): tuple(str(a) for a in (v or ())) for k, v in values.items()},
        personal=raw.get("personal"),
        max=raw.get("max"),
        default_unit=raw.get("default_unit"),
        fill_down=bool(raw.get("fill_down", False)),
        not_after_month_end=bool(raw.get("not_after_month_end", False)),
    )


def _source(kind: str, raw: dict, is_registry: bool) -> SourceSpec:
    return SourceSpec(
        kind=kind,
        name=raw["name"],
        aliases=tuple(raw.get("aliases") or ()),
        columns=tuple(_column(c) for c in raw["columns"]),
        group_labels=tuple(raw.get("group_labels") or ()),
        is_registry=is_registry,
    )


@lru_cache(maxsize=4)
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Contract(
        sheets={k: _source(k, v, False) for k, v in raw["sheets"].items()},
        registries={k: _source(k, v, True) for k, v in raw["registries"].items()},
        ability_levels={int(k): v for k, v in raw["ability_levels"].items()},
        words=raw["words"],
    )


def raw_columns(source: SourceSpec) -> list[tuple[str, str]]:
    """Columns of a raw table, in order: lineage, then each field with its resolved extras."""
    columns = list(REGISTRY_LINEAGE if source.is_registry else TOWN_LINEAGE)
    if source.is_registry:
        columns.append(("town_code", "VARCHAR"))
    for col in source.columns:
        columns.append((col.field, DUCKDB_TYPES[col.type]))
        keep_raw = not (source.is_registry and col.type in _REGISTRY_TYPES_WITHOUT_RAW)
        if keep_raw:
            columns.append((f"{col.field}_raw", "VARCHAR"))
        if col.type == "village":
            columns.append((f"{col.field}_code", "VARCHAR"))
            if col.field == "village_name":
                columns.append(("village_level", "VARCHAR"))
        if col.type == "id":
            columns += [("id_valid", "BOOLEAN"), ("id_legacy15", "BOOLEAN"), ("person_key", "VARCHAR")]
    return columns


# The raw tables that record what was loaded; the others hold a source's rows (`row_tables()`).
LEDGER_TABLES = ("files", "sheets", "ingest_findings")


def row_tables() -> list[str]:
    """The raw tables of the sources' rows: `town_*` and `registry_*`."""
    return [table for table in raw_tables() if table not in LEDGER_TABLES]


def raw_tables(contract: Contract | None = None) -> dict[str, list[tuple[str, str]]]:
    """Every raw table of docs/contracts.md §1 with its columns."""
    contract = contract or load_contract()
    tables = {
        "files": FILES_COLUMNS,
        "sheets": SHEETS_COLUMNS,
        "ingest_findings": FINDINGS_COLUMNS,
    }
    for source in contract.sources:
        tables[source.table] = raw_columns(source)
    return tables


@lru_cache(maxsize=1)
def _polars_types() -> dict[str, pl.DataType]:
    import polars as pl  # here, not at the top: the CLI and the templates read the contract without polars

    return {
        "VARCHAR": pl.String,
        "VARCHAR[]": pl.List(pl.String),
        "BIGINT": pl.Int64,
        "INTEGER": pl.Int32,
        "DOUBLE": pl.Float64,
        "BOOLEAN": pl.Boolean,
        "DATE": pl.Date,
        "TIMESTAMP": pl.Datetime("us"),
    }


def polars_schema(columns: list[tuple[str, str]]) -> dict[str, pl.DataType]:
    """The polars dtypes of raw-layer columns ((name, DuckDB type) pairs), for the loader's frames
    and the generator's truth tables alike."""
    types = _polars_types()
    return {name: types[dtype] for name, dtype in columns}


def create_raw_tables(con, schema: str = "raw") -> None:
    """Create every raw table that does not exist yet (empty), so dbt always finds its sources
    (and the record of built months, its source `state.built_month_inputs`)."""
    from pipelines.transform.months import ensure_state_table

    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table, columns in raw_tables().items():
        cols = ", ".join(f'"{name}" {dtype}' for name, dtype in columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{table} ({cols})")
    ensure_state_table(con)
