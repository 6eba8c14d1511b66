"""Rendering the canonical model into the cells real towns type.

A ledger is rendered as `DataRow`s (cells + the true parsed values), then planted problems
may edit them, then it is assembled under title/cover rows and a 1- or 2-row header, with
footer rows below; only then do rows get their Excel row numbers, so findings and
manifest entries always point at the row as Excel shows it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from . import forms
from .contract import Column, SheetContract
from .divisions import Town, Village
from .xlsx import Sheet

LAYER = {rule: "ingest" for rule in ("DQ01", "DQ02", "DQ08", "DQ09", "DQ10", "DQ11", "DQ12", "DQ14", "DQ19", "DQ21")}
RULE_IDS = (
    "DQ01_id_invalid", "DQ02_id_legacy15", "DQ03_not_older", "DQ04_id_two_towns", "DQ05_pairing_unknown_person",
    "DQ06_key_person_unpaired", "DQ07_pairing_inactive_person", "DQ08_unknown_village", "DQ09_file_rejected",
    "DQ10_sheet_rejected", "DQ11_bad_value", "DQ12_beds_inconsistent", "DQ13_area_below_standard",
    "DQ14_dates_inconsistent", "DQ15_status_regressed", "DQ16_subsidy_over_cap", "DQ17_residents_mismatch",
    "DQ18_bad_merge_target", "DQ19_duplicate_row", "DQ20_merged_home_active", "DQ21_certificate_missing",
    "DQ22_village_not_reported", "DQ23_submission_missing", "DQ24_unknown_facility",
    "DQ25_registry_count_mismatch",
)
RULE_BY_PREFIX = {r[:4]: r for r in RULE_IDS}
MANIFEST_CAP = 25


def layer_of(rule_id: str) -> str:
    return LAYER.get(rule_id[:4], "sql")


@dataclass
class Recorder:
    """Collects the manifest (variation -> locations) and the planted findings."""

    manifest: dict[str, list[dict]] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)

    def variation(self, name: str, file: str, sheet: str | None = None, row: int | None = None,
                  column: str | None = None) -> None:
        places = self.manifest.setdefault(name, [])
        if len(places) < MANIFEST_CAP:
            places.append({"file": file, "sheet": sheet, "row": row, "column": column})

    def absorb(self, manifest: dict[str, list[dict]]) -> None:
        """Places recorded by another process, after this one's (within the same cap)."""
        for name, places in manifest.items():
            kept = self.manifest.setdefault(name, [])
            kept.extend(places[: max(0, MANIFEST_CAP - len(kept))])

    def finding(self, rule: str, town_code: str | None, month: str | None, file: str | None,
                sheet: str | None = None, row: int | None = None, column: str | None = None) -> None:
        rule_id = RULE_BY_PREFIX[rule[:4]]
        self.findings.append({"rule_id": rule_id, "layer": layer_of(rule_id), "town_code": town_code,
                              "month": month, "source_file": file, "sheet": sheet, "row_number": row,
                              "column_name": column})


@dataclass
class DataRow:
    cells: list[Any]
    truth: dict[str, Any]
    findings: list[tuple[str, str | None]] = field(default_factory=list)  # (rule, column header)
    variations: list[tuple[str, str | None]] = field(default_factory=list)
    merged_village: bool = False  # village cell merged into the row above (fill down)


@dataclass
class Profile:
    """How one town-month workbook is typed: chosen by rotation so every form occurs."""

    fmt: str
    title_rows: int
    cover: str  # same_cell | next_cell | none | cover_sheet
    cover_month_label: str
    cover_date: bool
    town_form: str
    month_form: str
    file_pattern: int
    two_row_header: bool
    use_aliases: bool
    alias_offset: int
    sheet_name_style: str
    extra_sheets: tuple[str, ...]
    hidden_backup: bool
    footer: str
    yes_no: tuple[str, str]
    date_form: str
    empty_form: str
    number_form: str
    village_form: str
    id_form: str
    separator: str
    fund_unit: str
    subsidy_unit: str
    area_unit: str
    header_spacing: bool
    omit_optional: bool
    headerless_column: bool
    blank_row: bool
    category_aliases: bool


AREA_UNITS = ("（㎡）", "(m²)", "(平方米)", "(m2)", "")
COUNT_UNITS = {"beds": "（张）", "nursing_beds": "（张）", "residents": "（人）", "tekun_residents": "（人）",
               "assistants": "（人）", "volunteer_teams": "（支）", "visits_this_month": "（次）"}
OPTIONAL_FIELDS = {"remarks", "host_facility", "helper_phone", "training_institution", "start_date"}
GROUPS = {
    "facilities": ("床位情况", ("beds", "nursing_beds", "residents", "tekun_residents")),
    "village_points": ("三个一", ("assistants", "has_elderly_association", "volunteer_teams")),
}


def choose_profile(seed: int, town: Town, month_index: int) -> Profile:
    t, m = town.index, month_index
    k = t * 5 + m * 3
    rng = random.Random(f"{seed}:profile:{town.code}:{month_index}")
    fmt = "xlsx"
    if t == 4 and m % 3 != 2:
        fmt = "xls"
    elif t == 7 and m % 4 == 1:
        fmt = "xlsm"
    elif t == 9 and m % 5 == 3:
        fmt = "xls"
    covers = ("same_cell", "next_cell", "none", "same_cell", "cover_sheet", "next_cell")
    return Profile(
        fmt=fmt,
        title_rows=1 + (t + m) % 4,
        cover=covers[(t * 2 + m) % len(covers)],
        cover_month_label=("报表月份", "填报月份", "月份")[(t + m) % 3],
        cover_date=(t + 2 * m) % 3 != 0,
        town_form=("name", "short", "government")[(t + m) % 3],
        month_form=("chinese", "chinese_padded", "compact", "iso", "dot", "underscore")[k % 6],
        file_pattern=(t + m * 2) % 5,
        two_row_header=(t + m) % 3 == 1,
        use_aliases=(t * 3 + m) % 4 == 1,
        alias_offset=t + m,
        sheet_name_style=("canonical", "alias", "prefix_number", "prefix_table", "spaces", "bracket_suffix",
                          "canonical")[(t + 3 * m) % 7],
        extra_sheets=(("说明",), ("Sheet1",), (), ("说明", "Sheet1"), ())[(t + m) % 5],
        hidden_backup=(t + m) % 6 == 2,
        footer=("none", "totals", "signature", "both")[(t + m) % 4],
        yes_no=forms.YES_NO_PAIRS[k % len(forms.YES_NO_PAIRS)],
        date_form=forms.DATE_FORMS[(t * 7 + m) % len(forms.DATE_FORMS)],
        empty_form=forms.EMPTY_FORMS[(t + m * 5) % len(forms.EMPTY_FORMS)],
        number_form=forms.NUMBER_FORMS[(t * 2 + m * 3) % len(forms.NUMBER_FORMS)],
        village_form=forms.VILLAGE_FORMS[(t + m * 2) % len(forms.VILLAGE_FORMS)],
        id_form=forms.ID_FORMS[(t * 4 + m) % len(forms.ID_FORMS)],
        separator=forms.SEPARATORS[(t + m) % len(forms.SEPARATORS)],
        fund_unit=("万元", "元", "")[(t + m) % 3],
        subsidy_unit=("元", "", "万元", "")[(t * 3 + m) % 4],
        area_unit=AREA_UNITS[(t + m) % len(AREA_UNITS)],
        header_spacing=(t + m) % 5 == 3,
        omit_optional=(t + 2 * m) % 7 == 4,
        headerless_column=(t + m) % 8 == 5,
        blank_row=(t * 2 + m) % 6 == 1,
        category_aliases=rng.random() < 0.5,
    )


# ------------------------------------------------------------------------------ headers


def header_text(column: Column, kind: str, profile: Profile, index: int) -> tuple[str, str | None]:
    """(header as typed, variation name or None)."""
    variation = None
    name = column.header
    if profile.use_aliases and column.aliases and (index + profile.alias_offset) % 2 == 0:
        name = column.aliases[(profile.alias_offset + index) % len(column.aliases)]
        variation = "header_alias"
    if column.type == "area" and profile.area_unit:
        name += profile.area_unit
        variation = variation or "header_unit_area"
    elif column.field in COUNT_UNITS and profile.area_unit in ("（㎡）", "(m²)"):
        name += COUNT_UNITS[column.field]
        variation = variation or "header_unit_count"
    elif column.type == "money":
        unit = profile.fund_unit if kind == "funds" else profile.subsidy_unit
        if unit:
            name += f"（{unit}）"
        variation = variation or {"万元": "header_unit_wan_yuan", "元": "header_unit_yuan", "": "header_no_unit"}[unit]
    if profile.header_spacing and len(name) >= 4:
        name = name[:2] + ("\n" if index % 2 else " ") + name[2:]
        variation = variation or "header_whitespace"
    return name, variation


def money_factor(kind: str, profile: Profile) -> int:
    unit = profile.fund_unit if kind == "funds" else profile.subsidy_unit
    if unit == "万元" or (unit == "" and kind == "funds"):
        return 10000
    return 1


# ------------------------------------------------------------------------------ cells


class CellRenderer:
    """Renders one workbook's values in its profile's forms, with per-cell variety."""

    def __init__(self, profile: Profile, rng: random.Random, town: Town):
        self.p = profile
        self.rng = rng
        self.neighbours = town.villages + town.communities
        self._village_usable: dict[tuple[str, str], bool] = {}

    def _pick(self, preferred, options, usable=None):
        """The profile's form mostly, another now and then; `usable(form)` vetoes."""
        form = preferred if self.rng.random() < 0.8 else options[int(self.rng.random() * len(options))]
        if usable is not None and not usable(form):
            form = preferred if usable(preferred) else next(f for f in options if usable(f))
        return form

    def empty(self, column: Column) -> tuple[Any, str | None]:
        form = self.p.empty_form if self.rng.random() < 0.35 else "blank"
        cell = forms.empty(form, column.type)
        return cell, (None if cell is None else f"empty_{form}")

    def cell(self, column: Column, value: Any, kind: str) -> tuple[Any, str | None, Any]:
        """(cell, variation, parsed truth). Truth differs from value only for village/id text."""
        if value is None or (isinstance(value, list) and not value):
            cell, variation = self.empty(column)
            return cell, variation, None
        t = column.type
        if t == "text" or t == "phone":
            return value, None, value
        if t == "category":
            aliases = column.values.get(value, ())
            if aliases and self.p.category_aliases and self.rng.random() < 0.3:
                return self.rng.choice(aliases), "category_alias", value
            return value, None, value
        if t == "categories":
            sep = self.p.separator if self.rng.random() < 0.9 else self.rng.choice(forms.SEPARATORS)
            return sep.join(value), f"categories_sep_{'space' if sep == ' ' else sep}", value
        if t == "yesno":
            pair = self.p.yes_no if self.rng.random() < 0.85 else self.rng.choice(forms.YES_NO_PAIRS)
            return forms.yes_no(value, pair), f"yesno_{pair[0]}{pair[1]}", value
        if t == "teams":
            if value in (0, 1) and self.rng.random() < 0.25:
                word = ("有", "是")[self.rng.randrange(2)] if value else "无"
                return word, "teams_word", value
            return value, None, value
        if t in ("integer", "number", "area", "money"):
            shown = value / money_factor(kind, self.p) if t == "money" else value
            form = self._pick(self.p.number_form, forms.NUMBER_FORMS,
                              lambda f: forms.number_form_usable(shown, f, t))
            return forms.number_cell(shown, form, t), (None if form == "number_cell" else f"number_{form}"), value
        if t == "date":
            form = self._pick(self.p.date_form, forms.DATE_FORMS, lambda f: forms.date_form_usable(value, f))
            return forms.date_cell(value, form), f"date_{form}", value
        raise ValueError(f"no renderer for {t}")

    def village(self, village: Village) -> tuple[str, str, str]:
        def usable(form: str) -> bool:
            key = (village.code, form)
            if key not in self._village_usable:
                self._village_usable[key] = forms.village_form_usable(village, form, self.neighbours)
            return self._village_usable[key]

        form = self._pick(self.p.village_form, forms.VILLAGE_FORMS, usable)
        text = forms.village_text(village, form)
        return text, f"village_{form}", "".join(text.split())

    def id_number(self, id18: str) -> tuple[str, str]:
        form = self._pick(self.p.id_form, forms.ID_FORMS, lambda f: forms.id_form_usable(id18, f))
        return forms.id_text(id18, form), f"id_{form}"


def render_rows(kind: str, contract: SheetContract, records: list[dict], renderer: CellRenderer,
                columns: list[Column]) -> list[DataRow]:
    """Every contract column is rendered (so a row draws the same random numbers whichever
    columns the profile omits); only the profile's columns become cells."""
    present_fields = {c.field for c in columns}
    # per column: (column, field, type, present, record key of its village, blank 是否分点 on main rows)
    plan = [(c, c.field, c.type, c.field in present_fields,
             ("_village" if c.field == "village_name" else "_merge_village") if c.type == "village" else None,
             kind == "village_points" and c.field == "is_sub_point")
            for c in contract.columns]
    rng_random = renderer.rng.random
    cell_of = renderer.cell
    rows: list[DataRow] = []
    for record in records:
        cells: list[Any] = []
        truth: dict[str, Any] = {}
        variations: list[tuple[str, str | None]] = []
        for column, name, column_type, present, village_key, sub_point_flag in plan:
            value = record.get(name)
            if village_key is not None:
                village = record.get(village_key)
                if village is None:
                    cell, variation = renderer.empty(column) if present else (None, None)
                    parsed, code, level = None, None, None
                else:
                    cell, variation, parsed = renderer.village(village)
                    code, level = village.code, village.level
                if not present:
                    parsed = code = level = None
                truth[name] = parsed
                truth[f"{name}_code"] = code
                if name == "village_name":
                    truth["village_level"] = level
            elif column_type == "id":
                cell, variation = renderer.id_number(value)
                truth.update(id_number=value, id_valid=True, id_legacy15=False)
            else:
                if value is not None and (column_type == "text" or column_type == "phone"):
                    cell, variation, parsed = value, None, value  # typed as is, no draw
                else:
                    cell, variation, parsed = cell_of(column, value, kind)
                truth[name] = parsed if present else None
            if sub_point_flag and not value:
                truth["is_sub_point"] = False
                if cell is not None and rng_random() < 0.7:
                    cell = None  # main rows usually leave 是否分点 blank
            if present:
                cells.append(cell)
                if variation:
                    variations.append((variation, column.header))
        rows.append(DataRow(cells, truth, variations=variations,
                            merged_village=bool(record.get("is_sub_point")) and kind == "village_points"))
    return rows


# ------------------------------------------------------------------------------ assembly


def title_text(town: Town, month_label: str, kind_name: str) -> str:
    return f"{town.name}农村养老服务全覆盖工作进度表——{kind_name}（{month_label}）"


def assemble_sheet(name: str, kind: str, contract: SheetContract, columns: list[Column], data: list[DataRow],
                   profile: Profile, title_rows: list[list[Any]], footer: str, headerless: bool,
                   blank_row: bool, recorder: Recorder, file: str, town_code: str, month: dt.date,
                   lineage_sheet: str, truth_out: list[dict]) -> Sheet:
    sheet = Sheet(name)
    width = len(columns) + (1 if headerless else 0)
    for title in title_rows:
        sheet.rows.append(title + [None] * (width - len(title)))
    if title_rows:
        sheet.merges.append((0, 0, 0, width - 1))
        recorder.variation(f"title_rows_{len(title_rows)}", file, name)
    headers = [header_text(c, kind, profile, i) for i, c in enumerate(columns)]
    for (_, variation), column in zip(headers, columns):
        if variation:
            recorder.variation(variation, file, name, len(sheet.rows) + 1, column.header)
    group = GROUPS.get(kind) if profile.two_row_header else None
    group_fields = set(group[1]) if group else set()
    if group and all(any(c.field == f for c in columns) for f in group_fields):
        top = len(sheet.rows)
        upper: list[Any] = []
        lower: list[Any] = []
        group_cols = [i for i, c in enumerate(columns) if c.field in group_fields]
        for i, (text, _) in enumerate(headers):
            if i in group_cols:
                upper.append(group[0] if i == group_cols[0] else None)
                lower.append(text)
            else:
                upper.append(text)
                lower.append(None)
                sheet.merges.append((top, i, top + 1, i))
        sheet.merges.append((top, group_cols[0], top, group_cols[-1]))
        sheet.rows.extend([upper + [None] * headerless, lower + [None] * headerless])
        recorder.variation("header_two_rows", file, name, top + 1)
    else:
        sheet.rows.append([h for h, _ in headers] + [None] * headerless)
    if headerless:
        recorder.variation("column_without_header", file, name, len(sheet.rows), None)
    if not data:
        recorder.variation("sheet_without_data_rows", file, name)
    village_col = next((i for i, c in enumerate(columns) if c.field == "village_name"), None)
    for index, row in enumerate(data):
        if blank_row and index == 3:
            sheet.rows.append([None] * width)
            recorder.variation("blank_row", file, name, len(sheet.rows))
        cells = list(row.cells) + ([("见附件" if index % 4 == 0 else None)] if headerless else [])
        row_number = len(sheet.rows) + 1
        if row.merged_village and village_col is not None and index > 0:
            cells[village_col] = None
            sheet.merges.append((row_number - 2, village_col, row_number - 1, village_col))
            recorder.variation("merged_village_cells", file, name, row_number, "村名")
            row.truth["village_name"] = data[index - 1].truth["village_name"]
            for key in ("village_name_code", "village_level"):
                row.truth[key] = data[index - 1].truth[key]
        sheet.rows.append(cells)
        truth_out.append({"file_id": file, "sheet_name": lineage_sheet, "row_number": row_number,
                          "town_code": town_code, "month": month, **row.truth})
        if index < 40 or index % 50 == 0:  # the manifest keeps examples, not every cell
            for variation, column in row.variations:
                recorder.variation(variation, file, name, row_number, column)
        for rule, column in row.findings:
            # no row of its own (docs/rules.md): a village absent from the sheet (DQ22), a centre's
            # district top-up summed over its payment rows (DQ16 on 资金情况)
            no_row = rule.startswith("DQ22") or (rule.startswith("DQ16") and kind == "funds")
            recorder.finding(rule, town_code, str(month)[:7], file, lineage_sheet, None if no_row else row_number,
                             column)
    if footer in ("totals", "both"):
        label = ("合计", "总计", "小计")[len(data) % 3]
        sheet.rows.append([label] + [None] * (width - 1))
        if kind == "facilities":
            beds_col = next((i for i, c in enumerate(columns) if c.field == "beds"), None)
            if beds_col is not None:
                sheet.rows[-1][beds_col] = sum(r.truth.get("beds") or 0 for r in data)
        else:
            sheet.rows[-1][1 if width > 1 else 0] = f"共{len(data)}条"
        recorder.variation(f"footer_{label}", file, name, len(sheet.rows))
    if footer in ("signature", "both"):
        sheet.rows.append([None] * width)
        sheet.rows.append(["填表人：王晓燕", None, "审核人：陈建国"] + [None] * max(0, width - 3))
        sheet.rows.append(["联系电话：023-67821234"] + [None] * (width - 1))
        sheet.rows.append(["注：本表数据截至月末，由镇街民政办填报。"] + [None] * (width - 1))
        recorder.variation("footer_signature", file, name, len(sheet.rows) - 2)
    return sheet


def fmt_month_label(am_date: dt.date, form: str) -> str:
    y, m = am_date.year, am_date.month
    return {
        "chinese": f"{y}年{m}月", "chinese_padded": f"{y}年{m:02d}月", "compact": f"{y}{m:02d}",
        "iso": f"{y}-{m:02d}", "dot": f"{y}.{m}", "underscore": f"{y}_{m:02d}",
    }[form]


def town_label(town: Town, form: str) -> str:
    return {"name": town.name, "short": town.short, "government": town.government_name}[form]
