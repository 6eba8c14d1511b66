"""City-scale registry exports, streamed: people arrive a batch of towns at a time and each
export file gets the batch's rows appended, so memory is bounded by one batch.

Cells come from `registry_frames` (the district's columns, forms and category values); exports
whose district style is a spreadsheet or UTF-16 are written as GB18030 CSV instead (a
spreadsheet holds at most 1,048,576 rows). NUL bytes and repeated headers are not planted.
The rows the loader must produce go to the answer key's truth Parquet the same batch at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .answer_key import TruthParquet, table_schema
from .contract import SheetContract
from .divisions import Town
from .registries import REGISTRY_PREFIX, ExportStyle, export_style, headers
from .registry_frames import export_cells, export_rows, export_truth, place_names

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
CSV_ENCODINGS = ("gb18030", "utf-8", "utf-8-sig")


def city_style(registry: str, index: int) -> ExportStyle:
    style = export_style(registry, index)
    if style.encoding not in CSV_ENCODINGS:
        style.encoding = "gb18030"
    style.nul_bytes = False
    style.repeated_header = False
    return style


@dataclass
class ExportFile:
    registry: str
    export: dt.date
    style: ExportStyle
    relative: str
    handle: io.BufferedWriter
    digest: "hashlib._Hash"
    rows: int = 0


class RegistryStream:
    """Every export file of the run, open for appending batches of people."""

    def __init__(self, out: Path, registries: dict[str, SheetContract], monthly: list[dt.date],
                 quarterly: list[dt.date], towns: list[Town], home_of: dict[str, str]) -> None:
        self.town_names, self.village_names = place_names(towns)
        self.homes = pl.DataFrame({"town_code": list(home_of), "home_name": list(home_of.values())})
        jobs = ([("tekun", d) for d in monthly] + [("dibao", d) for d in monthly]
                + [("elderly", d) for d in quarterly] + [("family_doctor", d) for d in quarterly])
        counters: dict[str, int] = {}
        self.files: list[ExportFile] = []
        (out / "registries").mkdir(parents=True, exist_ok=True)
        self.truth = TruthParquet(out / "answer_key" / "truth", {
            f"registry_{registry}": table_schema(contract, registry=True) for registry, contract in registries.items()})
        for registry, export in jobs:
            index = counters.get(registry, 0)
            counters[registry] = index + 1
            style = city_style(registry, index)
            relative = f"registries/{REGISTRY_PREFIX[registry]}_{export:%Y%m%d}.csv"
            handle = (out / relative).open("wb")
            file = ExportFile(registry, export, style, relative, handle, hashlib.sha256())
            self._write(file, (",".join(headers(registries[registry], style)) + "\r\n").encode(style.encoding))
            self.files.append(file)
        self.out = out

    @staticmethod
    def _write(file: ExportFile, data: bytes) -> None:
        file.handle.write(data)
        file.digest.update(data)

    def append(self, people: pl.DataFrame) -> None:
        for file in self.files:
            rows = export_rows(people, file.registry, file.export)
            if rows.is_empty():
                continue
            cells = export_cells(rows, file.registry, file.style, file.export, self.town_names,
                                 self.village_names, self.homes)
            text = cells.write_csv(include_header=False, quote_style="never", line_terminator="\r\n")
            # the byte-order mark of utf-8-sig belongs before the header only
            self._write(file, text.encode("utf-8" if file.style.encoding == "utf-8-sig" else file.style.encoding))
            table = f"registry_{file.registry}"
            self.truth.append(table, export_truth(rows, file.registry, file.style, file.export, file.relative,
                                                  self.town_names, self.village_names, self.truth.schemas[table],
                                                  first_row=file.rows + 2, homes=self.homes))
            file.rows += rows.height

    def close(self) -> list[dict]:
        """Close every file (mtime: export day 18:30 Shanghai); one answer-key entry per file."""
        entries = []
        self.truth.close()
        for file in self.files:
            file.handle.close()
            export = file.export
            mtime = dt.datetime(export.year, export.month, export.day, 18, 30, tzinfo=SHANGHAI)
            os.utime(self.out / file.relative, (mtime.timestamp(), mtime.timestamp()))
            entries.append({"relative": file.relative, "sha256": file.digest.hexdigest(), "mtime": mtime,
                            "registry": file.registry, "export_date": export, "rows": file.rows})
        return entries
