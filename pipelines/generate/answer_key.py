"""The answer key: what the loader must report and produce, computed from the model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .contract import SheetContract

INGEST_RULES = ("DQ01", "DQ02", "DQ08", "DQ09", "DQ10", "DQ11", "DQ12", "DQ14", "DQ19", "DQ21")
POLARS_TYPES = {
    "text": pl.Utf8, "phone": pl.Utf8, "category": pl.Utf8, "village": pl.Utf8, "categories": pl.List(pl.Utf8),
    "integer": pl.Int64, "teams": pl.Int64, "ability": pl.Int64, "number": pl.Float64, "area": pl.Float64,
    "money": pl.Float64, "yesno": pl.Boolean, "date": pl.Date,
}


def table_schema(contract: SheetContract, registry: bool) -> dict[str, pl.DataType]:
    if registry:
        schema: dict[str, pl.DataType] = {"file_id": pl.Utf8, "row_number": pl.Int64, "export_date": pl.Date}
    else:
        schema = {"file_id": pl.Utf8, "sheet_name": pl.Utf8, "row_number": pl.Int64, "town_code": pl.Utf8,
                  "month": pl.Date}
    for column in contract.columns:
        if column.type == "id":
            schema.update(id_number=pl.Utf8, id_valid=pl.Boolean, id_legacy15=pl.Boolean)
        else:
            schema[column.field] = POLARS_TYPES[column.type]
        if column.type == "village" and not registry:
            schema[f"{column.field}_code"] = pl.Utf8
            if column.field == "village_name":
                schema["village_level"] = pl.Utf8
    if registry and any(c.field == "town_name" for c in contract.columns):
        schema.update(town_code=pl.Utf8, village_name_code=pl.Utf8, village_level=pl.Utf8)
    return schema


def town_truth_frames(truth: dict[str, list[dict]], sheets: dict[str, SheetContract]) -> dict[str, pl.DataFrame]:
    """The rows the loader must produce from the workbooks, one frame per sheet kind."""
    return {kind: frame(truth.get(f"town_{kind}", []), table_schema(contract, registry=False))
            for kind, contract in sheets.items()}


def write_town_truth(truth_dir: Path, parts: list[dict[str, pl.DataFrame]]) -> None:
    """`town_truth_frames` of several processes, in town order, one Parquet file per sheet kind."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    for kind in parts[0]:
        pl.concat([part[kind] for part in parts]).write_parquet(truth_dir / f"town_{kind}.parquet")


class TruthParquet:
    """Truth tables written a batch at a time (city scale: never all rows in memory), one
    Parquet file per table; `close` writes an empty file for a table that got no rows."""

    def __init__(self, truth_dir: Path, schemas: dict[str, dict[str, pl.DataType]]) -> None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.truth_dir, self.schemas = truth_dir, schemas
        self.writers: dict[str, pq.ParquetWriter] = {}

    def append(self, table: str, rows: pl.DataFrame) -> None:
        if rows.is_empty():
            return
        arrow = rows.select(list(self.schemas[table])).cast(self.schemas[table]).to_arrow()
        if table not in self.writers:
            self.writers[table] = pq.ParquetWriter(self.truth_dir / f"{table}.parquet", arrow.schema)
        self.writers[table].write_table(arrow)

    def close(self) -> None:
        for table, schema in self.schemas.items():
            if table in self.writers:
                self.writers[table].close()
            else:
                pl.DataFrame(schema=schema).write_parquet(self.truth_dir / f"{table}.parquet")


def write_file_truth(truth_dir: Path, files: list[dict], sheet_rows: list[dict]) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    file_schema = {"file_id": pl.Utf8, "file_name": pl.Utf8, "relative_path": pl.Utf8, "sha256": pl.Utf8,
                   "kind": pl.Utf8, "registry": pl.Utf8, "town_code": pl.Utf8, "month": pl.Date,
                   "export_date": pl.Date, "submission_date": pl.Date, "modified_at": pl.Datetime("us"),
                   "status": pl.Utf8, "reason": pl.Utf8, "rows": pl.Int64}
    file_rows = [{**f, "file_id": f["relative_path"], "status": f["expected_status"]} for f in files]
    pl.DataFrame({k: [r.get(k) for r in file_rows] for k in file_schema}, schema=file_schema).write_parquet(
        truth_dir / "files.parquet")
    sheet_schema = {"file_id": pl.Utf8, "sheet_kind": pl.Utf8, "sheet_name": pl.Utf8, "status": pl.Utf8,
                    "reason": pl.Utf8, "header_row": pl.Int64, "rows": pl.Int64}
    srows = [{**s, "file_id": s["relative_path"], "status": s["expected_status"]} for s in sheet_rows]
    pl.DataFrame({k: [r.get(k) for r in srows] for k in sheet_schema}, schema=sheet_schema).write_parquet(
        truth_dir / "sheets.parquet")


def write_registry_truth(truth_dir: Path, truth: dict[str, list[pl.DataFrame]],
                         registries: dict[str, SheetContract]) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    for registry, contract in registries.items():
        frames = truth.get(registry) or [pl.DataFrame(schema=table_schema(contract, registry=True))]
        pl.concat(frames).write_parquet(truth_dir / f"registry_{registry}.parquet")


_ARROW_TYPES = {pl.Utf8: pa.large_string(), pl.Int64: pa.int64(), pl.Float64: pa.float64(),
                pl.Boolean: pa.bool_(), pl.Date: pa.date32(), pl.List(pl.Utf8): pa.large_list(pa.large_string())}


def frame(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows of dicts as a typed frame (through Arrow: polars' from_dicts builds a Series per list cell)."""
    if not rows:
        return pl.DataFrame(schema=schema)
    arrow_schema = pa.schema([(name, _ARROW_TYPES[dtype]) for name, dtype in schema.items()])
    return pl.from_arrow(pa.Table.from_pylist(rows, schema=arrow_schema)).cast(schema)


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row.get(h) is None else _text(row.get(h)) for h in header])


def _text(value) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_answer_key(key_dir: Path, files: list[dict], sheet_rows: list[dict], findings: list[dict],
                     manifest: dict, rules: list[dict]) -> None:
    key_dir.mkdir(parents=True, exist_ok=True)
    file_rows = [{**f, "month": f["month"].strftime("%Y-%m") if f["month"] else None} for f in files]
    write_csv(key_dir / "files.csv", ["relative_path", "kind", "registry", "town_code", "month", "export_date",
                                      "expected_status", "reason", "submission_date", "sha256"], file_rows)
    write_csv(key_dir / "sheets.csv", ["relative_path", "sheet_name", "sheet_kind", "expected_status", "reason",
                                       "header_row", "rows"], sheet_rows)
    ordered = sorted(findings, key=lambda f: (f["rule_id"], f["source_file"] or "", f["sheet"] or "",
                                              f["row_number"] or 0, f["column_name"] or "", f["month"] or ""))
    write_csv(key_dir / "findings.csv", ["rule_id", "layer", "town_code", "month", "source_file", "sheet",
                                         "row_number", "column_name"], ordered)
    write_csv(key_dir / "rules.csv", ["rule_id", "layer", "exhaustive", "planted"], rules)
    (key_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True),
                                           encoding="utf-8")
