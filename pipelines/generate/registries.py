"""Registry exports (district systems): the people of the model as CSV/xlsx dumps.

Each export is a list of `DataRow`s (row 1 is the header); `encode_export` turns them into
the bytes of the file in its encoding and format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from .contract import SheetContract
from .model import Person, Programme, am_of
from .xlsx import Sheet, xls_bytes, xlsx_bytes

ABILITY_LABELS = {0: "能力完好", 1: "轻度失能", 2: "中度失能", 3: "重度失能", 4: "完全失能"}
SELF_CARE_LONG = {"具备": "具备生活自理能力", "部分丧失": "部分丧失生活自理能力", "完全丧失": "完全丧失生活自理能力"}
REGISTRY_PREFIX = {"tekun": "特困人员名册", "dibao": "低保对象名册", "elderly": "农村老年人信息库",
                   "family_doctor": "家庭医生签约"}


@dataclass
class ExportStyle:
    encoding: str  # gb18030 | utf-8 | utf-8-sig | utf-16 | xlsx | xls
    header_aliases: bool
    town_form: str  # name | government
    village_form: str  # official | short
    birth_form: str  # iso | slash | compact
    ability_labels: bool
    id_form: str  # plain | excel_formula | apostrophe
    nul_bytes: bool
    repeated_header: bool


def export_style(registry: str, index: int) -> ExportStyle:
    encodings = {"tekun": ("gb18030", "gb18030", "utf-16", "gb18030", "utf-8-sig"),
                 "dibao": ("utf-8-sig", "gb18030", "xlsx", "utf-8-sig", "xls"),
                 "elderly": ("gb18030", "utf-8", "gb18030", "utf-8-sig", "gb18030", "xlsx"),
                 "family_doctor": ("utf-8-sig", "utf-8", "gb18030")}[registry]
    return ExportStyle(
        encoding=encodings[index % len(encodings)],
        header_aliases=index % 3 == 1,
        town_form=("name", "name", "government")[index % 3],
        village_form=("official", "short")[index % 2],
        birth_form=("iso", "slash", "compact")[index % 3],
        ability_labels=index % 2 == 1,
        id_form=("plain", "excel_formula", "apostrophe", "plain")[index % 4],
        nul_bytes=registry == "elderly" and index == 2,
        repeated_header=registry == "tekun" and index == 1,
    )


def _birth(value: dt.date, form: str) -> str:
    if form == "slash":
        return f"{value.year}/{value.month}/{value.day}"
    if form == "compact":
        return f"{value:%Y%m%d}"
    return value.isoformat()


def _id(id18: str, form: str) -> str:
    if form == "excel_formula":
        return f'="{id18}"'
    if form == "apostrophe":
        return "'" + id18
    return id18


def headers(contract: SheetContract, style: ExportStyle) -> list[str]:
    out = []
    for i, column in enumerate(contract.columns):
        if style.header_aliases and column.aliases:
            out.append(column.aliases[i % len(column.aliases)])
        else:
            out.append(column.header + ("（元）" if column.field == "annual_allowance_yuan" else ""))
    return out


def person_cells(person: Person, registry: str, style: ExportStyle, export: dt.date) -> tuple[list[Any], dict[str, Any]]:
    """(cells, truth fields) of one person's row in a 特困 or 低保 export (the large exports are
    built as frames: `registry_frames`)."""
    am = am_of(export)
    town = person.town
    village = person.village
    village_text = village.name if style.village_form == "official" else village.short
    town_text = town.name if style.town_form == "name" else town.government_name
    id_cell = _id(person.id_number, style.id_form)
    truth = {"id_number": person.id_number, "id_valid": True, "id_legacy15": False,
             "town_code": town.code, "village_name_code": village.code, "village_level": village.level,
             "person_name": person.name, "town_name": town_text, "village_name": village_text}
    if registry == "tekun":
        t = person.tekun
        home = t.institution(am)
        status = "正常" if am < t.end_am else ("终止" if person.alive(am) else "注销")
        mode = "集中供养" if home else "分散供养"
        cells = [person.name, id_cell, person.gender, _birth(person.birth, style.birth_form), town_text,
                 village_text, mode, SELF_CARE_LONG[t.self_care], home or "", f"{t.allowance:.0f}", status]
        truth.update(gender=person.gender, birth_date=person.birth, support_mode=mode, self_care=t.self_care,
                     institution=home, annual_allowance_yuan=t.allowance, person_status=status)
    elif registry == "dibao":
        d = person.dibao
        status = "正常" if am < d.end_am else d.end_status
        cells = [person.name, id_cell, town_text, village_text, d.category, status]
        truth.update(assistance_category=d.category, person_status=status)
    else:
        raise ValueError(f"the {registry} export is built as a frame (registry_frames)")
    return cells, truth


def export_people(prog: Programme, registry: str, export: dt.date) -> list[Person]:
    """The people listed in a 特困 or 低保 export."""
    am = am_of(export)
    if registry == "tekun":
        return [p for p in prog.people + prog.young_tekun
                if p.tekun is not None and (p.alive(am) or p.tekun.end_am <= am)]
    if registry == "dibao":
        return [p for p in prog.people if p.dibao is not None and p.dibao.start_am <= am]
    raise ValueError(f"the {registry} export is built as a frame (registry_frames)")


def encode_export(header: list[str], rows: list[list[Any]], style: ExportStyle) -> bytes:
    if style.repeated_header:  # the system printed its header row twice: one column too many
        header = header + [header[0]]
        rows = [row + [""] for row in rows]
    if style.nul_bytes:
        for row in rows[5:200:40]:
            row[0] = f"{row[0]}\x00"
    if style.encoding in ("xlsx", "xls"):
        sheet = Sheet("Sheet1", [header] + rows)
        return xlsx_bytes([sheet]) if style.encoding == "xlsx" else xls_bytes([sheet])
    sep = "\t" if style.encoding == "utf-16" else ","
    text = "\r\n".join([sep.join([c if type(c) is str else ("" if c is None else str(c)) for c in line])
                        for line in [header] + rows]) + "\r\n"
    return text.encode(style.encoding)


def encode_export_frame(header: list[str], cells: pl.DataFrame, style: ExportStyle) -> bytes:
    """`encode_export` for cells held as a frame of text columns (written by Polars when plain CSV)."""
    if style.encoding in ("xlsx", "xls", "utf-16") or style.repeated_header or style.nul_bytes:
        return encode_export(header, [list(row) for row in cells.rows()], style)
    body = cells.write_csv(include_header=False, quote_style="never", line_terminator="\r\n")
    return (",".join(header) + "\r\n" + body).encode(style.encoding)
