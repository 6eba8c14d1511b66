"""City-scale registry exports, streamed: people arrive a batch of towns at a time and each
export file gets the batch's rows appended, so memory is bounded by one batch.

Cells follow `registries.person_cells` (same columns, forms and category values); exports
whose district style is a spreadsheet or UTF-16 are written as GB18030 CSV instead (a
spreadsheet holds at most 1,048,576 rows). NUL bytes and repeated headers are not planted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .contract import SheetContract
from .city_people import age_at_least
from .divisions import Town
from .model import am_of
from .registries import ABILITY_LABELS, REGISTRY_PREFIX, SELF_CARE_LONG, ExportStyle, export_style, headers

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
CSV_ENCODINGS = ("gb18030", "utf-8", "utf-8-sig")


def city_style(registry: str, index: int) -> ExportStyle:
    style = export_style(registry, index)
    if style.encoding not in CSV_ENCODINGS:
        style.encoding = "gb18030"
    style.nul_bytes = False
    style.repeated_header = False
    return style


def place_names(towns: list[Town]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(town_code, town_name, town_government), (village_code, village_official, village_short)."""
    town_frame = pl.DataFrame({"town_code": [t.code for t in towns], "town_name": [t.name for t in towns],
                               "town_government": [t.government_name for t in towns]})
    units = [u for t in towns for u in t.villages + t.communities]
    village_frame = pl.DataFrame({"village_code": [u.code for u in units], "village_official": [u.name for u in units],
                                  "village_short": [u.short for u in units]})
    return town_frame, village_frame


def _yes_no(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("是")).otherwise(pl.lit("否"))


def _birth(style: ExportStyle) -> pl.Expr:
    ymd = pl.col("birth_ymd")
    if style.birth_form == "slash":
        return pl.format("{}/{}/{}", ymd // 10000, ymd // 100 % 100, ymd % 100)
    if style.birth_form == "compact":
        return ymd.cast(pl.Utf8)
    return pl.col("birth_date").dt.strftime("%Y-%m-%d")


def _id(style: ExportStyle) -> pl.Expr:
    if style.id_form == "excel_formula":
        return pl.format('="{}"', pl.col("id_number"))
    if style.id_form == "apostrophe":
        return pl.lit("'") + pl.col("id_number")
    return pl.col("id_number")


def export_rows(people: pl.DataFrame, registry: str, export: dt.date) -> pl.DataFrame:
    """The people listed in one export (as `registries.export_people`)."""
    am = am_of(export)
    alive = pl.col("death_am") > am
    if registry == "elderly":
        return people.filter(alive & age_at_least(pl.col("birth_ymd"), export, 60))
    if registry == "tekun":
        return people.filter(pl.col("tekun") & (alive | (pl.col("tekun_end_am") <= am)))
    if registry == "dibao":
        return people.filter(pl.col("dibao") & (pl.col("dibao_start_am") <= am))
    return people.filter(pl.col("doctor_signed") <= export)


def export_cells(rows: pl.DataFrame, registry: str, style: ExportStyle, export: dt.date,
                 town_names: pl.DataFrame, village_names: pl.DataFrame, homes: pl.DataFrame) -> pl.DataFrame:
    """One export's cells as text columns, in the contract's column order."""
    am = am_of(export)
    frame = rows.join(town_names, on="town_code", how="left").join(village_names, on="village_code", how="left")
    town = pl.col("town_name" if style.town_form == "name" else "town_government")
    village = pl.col("village_official" if style.village_form == "official" else "village_short")
    if registry == "elderly":
        ability = (pl.col("ability").replace_strict(ABILITY_LABELS, return_dtype=pl.Utf8) if style.ability_labels
                   else pl.col("ability").cast(pl.Utf8))
        device = pl.when(pl.col("device_am") <= am).then(pl.lit("是")).otherwise(pl.lit("否"))
        cells = [pl.col("person_name"), _id(style), pl.col("gender"), _birth(style), town, village, pl.col("living"),
                 _yes_no("left_behind"), ability, _yes_no("family_planning"), device, pl.col("phone").fill_null("")]
    elif registry == "tekun":
        frame = frame.join(homes, on="town_code", how="left")
        active = pl.col("tekun_end_am") > am
        alive = pl.col("death_am") > am
        home = pl.when(pl.col("tekun_home")).then(pl.col("home_name")).otherwise(pl.lit(""))
        cells = [pl.col("person_name"), _id(style), pl.col("gender"), _birth(style), town, village,
                 pl.when(pl.col("tekun_home")).then(pl.lit("集中供养")).otherwise(pl.lit("分散供养")),
                 pl.col("tekun_self_care").replace_strict(SELF_CARE_LONG, return_dtype=pl.Utf8), home,
                 pl.col("tekun_allowance").cast(pl.Int64).cast(pl.Utf8),
                 pl.when(active).then(pl.lit("正常")).when(alive).then(pl.lit("终止")).otherwise(pl.lit("注销"))]
    elif registry == "dibao":
        status = pl.when(pl.col("dibao_end_am") > am).then(pl.lit("正常")).otherwise(pl.col("dibao_end_status"))
        cells = [pl.col("person_name"), _id(style), town, village, pl.col("dibao_category"), status]
    else:
        status = pl.when(pl.col("doctor_end_am") <= am).then(pl.col("doctor_status")).otherwise(pl.lit("有效"))
        cells = [_id(style), pl.col("doctor_signed").dt.strftime("%Y-%m-%d"), pl.col("town_name") + "卫生院", status]
    return frame.select([c.alias(f"c{i}") for i, c in enumerate(cells)])


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
            file.rows += rows.height

    def close(self) -> list[dict]:
        """Close every file (mtime: export day 18:30 Shanghai); one answer-key entry per file."""
        entries = []
        for file in self.files:
            file.handle.close()
            export = file.export
            mtime = dt.datetime(export.year, export.month, export.day, 18, 30, tzinfo=SHANGHAI)
            os.utime(self.out / file.relative, (mtime.timestamp(), mtime.timestamp()))
            entries.append({"relative": file.relative, "sha256": file.digest.hexdigest(), "mtime": mtime,
                            "registry": file.registry, "export_date": export, "rows": file.rows})
        return entries
