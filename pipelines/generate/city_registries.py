"""City-scale registry exports, streamed: people arrive a batch of towns at a time and each
export file gets the batch's rows appended, so memory is bounded by one batch.

Cells come from `registry_frames` (the district's columns, forms and category values); exports
whose district style is a spreadsheet or UTF-16 are written as GB18030 CSV instead (a
spreadsheet holds at most 1,048,576 rows). NUL bytes and repeated headers are not planted.
The rows the loader must produce go to the answer key's truth Parquet the same batch at a time.

Unless clean, the district's registry plants that edit one cell or add one row (`CITY_PLANTS`:
DQ01 scientific-notation ID and bad check digit, DQ02 legacy 15-digit ID, DQ08 unknown village,
DQ11 unreadable cells, DQ04 one person listed under a second town in 低保) go to the same
exports as at district scale (`build.REGISTRY_PLANTS`), each in a row of one of the first
PLANT_TOWNS towns: the cell is edited in the batch's frame, the truth row the same way, and the
finding (row numbered as the loader counts CSV records, header = 1) is returned by `close`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import plants as plant_lib
from .answer_key import TruthParquet, table_schema
from .build import _UNREADABLE_REGISTRY_CELLS, REGISTRY_PLANTS
from .city_people import age_at_least
from .contract import SheetContract
from .divisions import Town
from .ids import legacy15
from .model import am_of
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
    plants: list[str] = field(default_factory=list)  # planted problems not yet placed
    twins: list[pl.DataFrame] = field(default_factory=list)  # rows added at the end (DQ04)


# The district's registry plants the city places: one edited cell, or one added row (other_town).
# Not here: ragged rows (DQ11 with no column) and the young person (DQ03) of the district model.
CITY_PLANTS = ("sci", "legacy15", "bad_check", "unknown_village", "other_town", *_UNREADABLE_REGISTRY_CELLS)


def city_registry_plants(registry: str, index: int, last_index: int) -> list[str]:
    """The plants of one export: as the district (`REGISTRY_PLANTS`), those the city places."""
    return [n for k, names in REGISTRY_PLANTS.get(registry, {}).items()
            if min(k, last_index) == index for n in names if n in CITY_PLANTS]


def _set_row(frame: pl.DataFrame, index: int, **values) -> pl.DataFrame:
    """`frame` with the cells of one row (0-based) replaced."""
    at = pl.int_range(pl.len()) == index
    return frame.with_columns(pl.when(at).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
                              for c, v in values.items())


class RegistryStream:
    """Every export file of the run, open for appending batches of people."""

    def __init__(self, out: Path, registries: dict[str, SheetContract], monthly: list[dt.date],
                 quarterly: list[dt.date], towns: list[Town], home_of: dict[str, str],
                 plant_towns: list[Town] | None = None) -> None:
        """`plant_towns`: the towns whose rows take the planted problems (none: a clean run)."""
        self.town_names, self.village_names = place_names(towns)
        self.registries = registries
        self.towns = {t.code: t for t in towns}
        self.plant_towns = list(plant_towns or [])
        self.quarterly = quarterly
        self.findings: list[tuple] = []  # (rule, town code, month label, file, sheet, row, column header)
        self.placed = 0
        self.twin_ids: list[str] = []  # people listed in a second town (DQ04): no other plant edits their rows
        self.homes = pl.DataFrame({"town_code": list(home_of), "home_name": list(home_of.values())})
        jobs = ([("tekun", d) for d in monthly] + [("dibao", d) for d in monthly]
                + [("elderly", d) for d in quarterly] + [("family_doctor", d) for d in quarterly])
        counters: dict[str, int] = {}
        self.files: list[ExportFile] = []
        (out / "registries").mkdir(parents=True, exist_ok=True)
        self.truth = TruthParquet(out / "answer_key" / "truth", {
            f"registry_{registry}": table_schema(contract, registry=True) for registry, contract in registries.items()})
        last = {r: sum(1 for j, _ in jobs if j == r) - 1 for r, _ in jobs}
        for registry, export in jobs:
            index = counters.get(registry, 0)
            counters[registry] = index + 1
            style = city_style(registry, index)
            relative = f"registries/{REGISTRY_PREFIX[registry]}_{export:%Y%m%d}.csv"
            handle = (out / relative).open("wb")
            file = ExportFile(registry, export, style, relative, handle, hashlib.sha256(),
                              plants=city_registry_plants(registry, index, last[registry]) if self.plant_towns else [])
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
            self._emit(file, rows, people)

    def _emit(self, file: ExportFile, rows: pl.DataFrame, people: pl.DataFrame | None = None) -> None:
        """`rows` of the export written after its rows so far, with their truth; the file's pending
        plants placed in them when `people` (the batch) is given."""
        cells = export_cells(rows, file.registry, file.style, file.export, self.town_names,
                             self.village_names, self.homes)
        table = f"registry_{file.registry}"
        truth = export_truth(rows, file.registry, file.style, file.export, file.relative,
                             self.town_names, self.village_names, self.truth.schemas[table],
                             first_row=file.rows + 2, homes=self.homes)
        if people is not None and file.plants:
            cells, truth = self._plant(file, people, rows, cells, truth)
        self._write_rows(file, cells)
        self.truth.append(table, truth)
        file.rows += rows.height

    def _write_rows(self, file: ExportFile, cells: pl.DataFrame) -> None:
        text = cells.write_csv(include_header=False, quote_style="never", line_terminator="\r\n")
        # the byte-order mark of utf-8-sig belongs before the header only
        self._write(file, text.encode("utf-8" if file.style.encoding == "utf-8-sig" else file.style.encoding))

    def _finding(self, file: ExportFile, rule: str, town_code: str | None, row_number: int, column: str | None) -> None:
        am = am_of(file.export)
        self.findings.append((rule, town_code, f"{am // 12}-{am % 12 + 1:02d}", file.relative, None, row_number,
                              column))

    def _plant(self, file: ExportFile, people: pl.DataFrame, rows: pl.DataFrame, cells: pl.DataFrame,
               truth: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The batch's cells and truth with the file's pending plants placed in plant towns' rows
        (a plant whose towns are not in the batch waits for a later batch)."""
        contract = self.registries[file.registry]
        col = {c.field: f"c{i}" for i, c in enumerate(contract.columns)}
        id_header = contract.column("id_number").header
        used: set[int] = set()
        for name in list(file.plants):
            self.placed += 1
            if name == "other_town":
                if self._twin(file, people, rows):
                    file.plants.remove(name)
                continue
            i = self._plant_row(name, rows, used)
            if i is None:
                continue
            file.plants.remove(name)
            used.add(i)
            number = file.rows + 2 + i
            row_truth = truth.row(i, named=True)
            town_code = row_truth.get("town_code")
            good = row_truth["id_number"]
            if name == "sci":
                cells = _set_row(cells, i, **{col["id_number"]: f"{float(good):.5E}"})
                truth = _set_row(truth, i, id_number=None, id_valid=False)
                self._finding(file, "DQ01", town_code, number, id_header)
            elif name == "legacy15":
                cells = _set_row(cells, i, **{col["id_number"]: legacy15(good)})
                truth = _set_row(truth, i, id_legacy15=True)
                self._finding(file, "DQ02", town_code, number, id_header)
            elif name == "bad_check":
                cells = _set_row(cells, i, **{col["id_number"]: good[:17] + ("1" if good[17] != "1" else "2")})
                truth = _set_row(truth, i, id_number=None, id_valid=False)
                self._finding(file, "DQ01", town_code, number, id_header)
            elif name == "unknown_village":
                town = self.towns[rows["town_code"][i]]
                known = {v.short for v in town.villages + town.communities} | {v.name for v in town.villages
                                                                              + town.communities}
                unknown = next(n for n in plant_lib.UNKNOWN_VILLAGE_NAMES if n not in known)
                cells = _set_row(cells, i, **{col["village_name"]: unknown})
                truth = _set_row(truth, i, village_name=unknown, village_name_code=None, village_level=None)
                self._finding(file, "DQ08", town_code, number, contract.column("village_name").header)
            else:
                field_name, text = _UNREADABLE_REGISTRY_CELLS[name]
                cells = _set_row(cells, i, **{col[field_name]: text})
                truth = _set_row(truth, i, **{field_name: None})
                self._finding(file, "DQ11", town_code, number, contract.column(field_name).header)
        return cells, truth

    def _plant_row(self, name: str, rows: pl.DataFrame, used: set[int]) -> int | None:
        """A row of the batch for the plant: in a plant town (from one that rotates with the plant's
        number), a third of the way down the town's rows; an ID of 18 digits for `sci` (only the
        candidate row numbers of one town become Python objects)."""
        n = len(self.plant_towns)
        need = ~pl.col("id_number").is_in(self.twin_ids)
        if name == "sci":
            need = need & pl.col("id_number").str.contains(r"^\d{18}$")
        for step in range(n):
            town = self.plant_towns[(self.placed * 5 + 1 + step) % n]
            candidates = [i for i in rows.select(pl.arg_where((pl.col("town_code") == town.code) & need)).to_series()
                          if i not in used]
            if candidates:
                return candidates[(len(candidates) // 3 + len(name)) % len(candidates)]
        return None

    def _twin(self, file: ExportFile, people: pl.DataFrame, rows: pl.DataFrame) -> bool:
        """DQ04 (as the district's `other_town`): an active 低保 row of a plant town copied, to go at
        the file's end, for a person of a plant town (in the elderly database, on neither 特困 nor
        低保) listed under another plant town than their own."""
        am = am_of(file.export)
        codes = [t.code for t in self.plant_towns]
        if len(codes) < 3:
            return False
        active = rows.filter(pl.col("town_code").is_in(codes) & (pl.col("dibao_end_am") > am))
        if active.is_empty():
            return False
        row = active[len(active) // 3]
        other = next(self.towns[c] for c in codes[1:] if c != row["town_code"][0])
        person = people.filter(
            pl.col("town_code").is_in(codes) & (pl.col("town_code") != other.code) & ~pl.col("dibao") & ~pl.col("tekun")
            & (pl.col("death_am") > max(am, *(am_of(d) for d in self.quarterly)))
            & age_at_least(pl.col("birth_ymd"), min(self.quarterly), 60))
        if person.is_empty():
            return False
        person = person[person.height // 2]
        self.twin_ids.append(person["id_number"][0])
        file.twins.append(row.with_columns(person_name=person["person_name"], id_number=person["id_number"],
                                           town_code=pl.lit(other.code),
                                           village_code=pl.lit(other.villages[0].code)))
        return True

    def not_applied(self) -> list[str]:
        """The planted problems no row took, as `registry:plant`."""
        return [f"{file.registry}:{name}" for file in self.files for name in file.plants]

    def close(self) -> list[dict]:
        """The added rows written, every file closed (mtime: export day 18:30 Shanghai); one
        answer-key entry per file. The findings are in `findings`, the plants left out in `not_applied`."""
        entries = []
        for file in self.files:
            for twin in file.twins:
                self._finding(file, "DQ04", twin["town_code"][0], file.rows + 2,
                              self.registries[file.registry].column("id_number").header)
                self._emit(file, twin)
        self.truth.close()
        for file in self.files:
            file.handle.close()
            export = file.export
            mtime = dt.datetime(export.year, export.month, export.day, 18, 30, tzinfo=SHANGHAI)
            os.utime(self.out / file.relative, (mtime.timestamp(), mtime.timestamp()))
            entries.append({"relative": file.relative, "sha256": file.digest.hexdigest(), "mtime": mtime,
                            "registry": file.registry, "export_date": export, "rows": file.rows})
        return entries
