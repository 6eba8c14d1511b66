"""Planted problems: one function per problem, editing rendered rows and tagging findings.

Each plant picks its row by a predicate on the true values and marks the row as touched,
so two plants never edit the same row. Ingest-layer plants change a cell so that exactly
one finding of their rule follows; SQL-layer plants change a value that is well-formed.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from .contract import SheetContract
from .divisions import Town
from .ids import check_char, legacy15, make_id
from .model import Programme, month_end
from .render import DataRow
from .xlsx import XlError

UNKNOWN_VILLAGE_NAMES = ("新华村", "幸福村", "红星村", "光明村", "新风村", "东风村")


@dataclass
class PlantContext:
    prog: Programme
    town: Town
    am: int
    contract: SheetContract
    present_fields: list[str]
    money_factor: int = 1
    touched: set[int] = field(default_factory=set)
    omitted: DataRow | None = None

    def col(self, name: str) -> int:
        return self.present_fields.index(name)

    def header(self, name: str) -> str:
        return self.contract.column(name).header

    def pick(self, rows: list[DataRow], predicate: Callable[[dict], bool]) -> DataRow | None:
        for index, row in enumerate(rows):
            if index not in self.touched and not row.merged_village and predicate(row.truth):
                self.touched.add(index)
                return row
        return None

    def set_bad(self, row: DataRow, name: str, cell: Any, rule: str = "DQ11") -> None:
        row.cells[self.col(name)] = cell
        row.truth[name] = None
        row.findings.append((rule, self.header(name)))

    def unknown_village(self) -> str:
        known = {v.short for v in self.town.villages + self.town.communities}
        return next(n for n in UNKNOWN_VILLAGE_NAMES if n not in known)


def _built(t: dict) -> bool:
    return t.get("build_status") in ("已建成", "已运营")


def _home_operating(t: dict) -> bool:
    return t.get("build_status") == "已运营" and t.get("beds") is not None and t.get("residents") is not None


# ------------------------------------------------------------------------------ ingest: facilities

def fac_area_text(ctx, rows):
    row = ctx.pick(rows, lambda t: t["area_m2"] is not None)
    if row:
        ctx.set_bad(row, "area_m2", "约1200")
        return True


def fac_beds_range(ctx, rows):
    row = ctx.pick(rows, lambda t: t["beds"] is not None)
    if row:
        ctx.set_bad(row, "beds", "1200-1500")
        return True


def fac_beds_over(ctx, rows):
    row = ctx.pick(rows, lambda t: t["beds"] is not None)
    if row:
        ctx.set_bad(row, "beds", 12000)
        return True


def fac_status_unknown(ctx, rows):
    row = ctx.pick(rows, lambda t: t["build_status"] == "在建")
    if row:
        ctx.set_bad(row, "build_status", "已完工")
        return True


def fac_area_negative(ctx, rows):
    row = ctx.pick(rows, lambda t: t["area_m2"] is not None)
    if row:
        ctx.set_bad(row, "area_m2", -860)
        return True


def fac_start_date_bad(ctx, rows):
    row = ctx.pick(rows, lambda t: t["start_date"] is not None)
    if row:
        ctx.set_bad(row, "start_date", "2022.13.1")
        return True


def fac_start_date_old(ctx, rows):
    row = ctx.pick(rows, lambda t: t["start_date"] is not None)
    if row:
        ctx.set_bad(row, "start_date", "1998-05-01")
        return True


def fac_ref_error(ctx, rows):
    row = ctx.pick(rows, _home_operating)
    if row:
        ctx.set_bad(row, "residents", XlError("#REF!"))
        return True


def fac_nursing_over(ctx, rows):
    row = ctx.pick(rows, lambda t: t["beds"] is not None and t["nursing_beds"] is not None)
    if row:
        value = row.truth["beds"] + 6
        row.cells[ctx.col("nursing_beds")] = value
        row.truth["nursing_beds"] = value
        row.findings.append(("DQ12", ctx.header("nursing_beds")))
        return True


def fac_residents_over(ctx, rows):
    row = ctx.pick(rows, _home_operating)
    if row:
        value = row.truth["beds"] + 4
        row.cells[ctx.col("residents")] = value
        row.truth["residents"] = value
        row.findings.append(("DQ12", ctx.header("residents")))
        return True


def fac_built_no_date(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["completion_date"] is not None)
    if row:
        row.cells[ctx.col("completion_date")] = None
        row.truth["completion_date"] = None
        row.findings.append(("DQ14", ctx.header("completion_date")))
        return True


def fac_built_future(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["completion_date"] is not None)
    if row:
        value = month_end(ctx.am) + dt.timedelta(days=20)
        row.cells[ctx.col("completion_date")] = value
        row.truth["completion_date"] = value
        row.findings.append(("DQ14", ctx.header("completion_date")))
        return True


def fac_built_before_start(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["completion_date"] is not None and t["start_date"] is not None)
    if row:
        value = row.truth["start_date"] - dt.timedelta(days=45)
        row.cells[ctx.col("completion_date")] = value
        row.truth["completion_date"] = value
        row.findings.append(("DQ14", ctx.header("completion_date")))
        return True


def fac_duplicate(ctx, rows):
    source = ctx.pick(rows, lambda t: t["build_status"] in ("未开工", "在建", "已运营"))
    if source:
        dup = DataRow(list(source.cells), dict(source.truth), findings=[("DQ19", ctx.header("facility_name"))])
        rows.append(dup)
        ctx.touched.add(len(rows) - 1)
        return True

# ------------------------------------------------------------------------------ SQL: facilities


def fac_area_small(ctx, rows):
    row = ctx.pick(rows, lambda t: t["facility_type"] == "镇养老服务中心" and _built(t) and t["area_m2"])
    if row:
        row.cells[ctx.col("area_m2")] = 650
        row.truth["area_m2"] = 650.0
        row.findings.append(("DQ13", ctx.header("area_m2")))
        return True


def fac_regress(ctx, rows):
    before = {r["facility_name"]: r["build_status"] for r in ctx.prog.facility_rows(ctx.town, ctx.am - 1)}
    row = ctx.pick(rows, lambda t: _built(t) and before.get(t["facility_name"]) in ("已建成", "已运营")
                   and t["facility_type"] != "镇养老服务中心")
    if row:
        row.cells[ctx.col("build_status")] = "在建"
        row.truth["build_status"] = "在建"
        row.findings.append(("DQ15", ctx.header("build_status")))
        return True


def fac_tekun_mismatch(ctx, rows):
    row = ctx.pick(rows, lambda t: _home_operating(t) and t["tekun_residents"] is not None
                   and t["residents"] + 3 <= t["beds"])
    if row:
        for name in ("tekun_residents", "residents"):
            row.truth[name] += 3
            row.cells[ctx.col(name)] = row.truth[name]
        row.findings.append(("DQ17", ctx.header("tekun_residents")))
        return True


def fac_merged_active(ctx, rows):
    row = ctx.pick(rows, lambda t: t["build_status"] == "已撤并" and t["beds"] is not None)
    if row:
        for name in ("residents", "tekun_residents"):
            row.truth[name] = 5 if name == "residents" else 2
            row.cells[ctx.col(name)] = row.truth[name]
        row.findings.append(("DQ20", ctx.header("residents")))
        return True


def fac_unknown_facility(ctx, rows):
    template = rows[0]
    new = DataRow(list(template.cells), dict(template.truth), findings=[("DQ24", ctx.header("facility_name"))])
    new.cells[ctx.col("facility_name")] = f"{ctx.town.short}幸福院"
    new.truth["facility_name"] = f"{ctx.town.short}幸福院"
    rows.append(new)
    ctx.touched.add(len(rows) - 1)
    return True

# ------------------------------------------------------------------------------ village points


def vp_area_text(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["area_m2"] is not None and t["village_level"] == "village")
    if row:
        ctx.set_bad(row, "area_m2", "待定")
        return True


def vp_area_huge(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["area_m2"] is not None and t["village_level"] == "village")
    if row:
        ctx.set_bad(row, "area_m2", 150000)
        return True


def vp_assistants_negative(ctx, rows):
    row = ctx.pick(rows, lambda t: t["assistants"] is not None and t["village_level"] == "village")
    if row:
        ctx.set_bad(row, "assistants", -1)
        return True


def vp_setup_unknown(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置")
    if row:
        ctx.set_bad(row, "setup_mode", "自建")
        return True


def _followed_by_sub(rows: list[DataRow], row: DataRow) -> bool:
    index = rows.index(row)
    return index + 1 < len(rows) and rows[index + 1].merged_village


def vp_unknown_village(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["village_level"] == "village")
    if row and not _followed_by_sub(rows, row):
        name = ctx.unknown_village()
        row.cells[ctx.col("village_name")] = name
        row.truth.update(village_name=name, village_name_code=None, village_level=None)
        row.findings.append(("DQ08", ctx.header("village_name")))
        row.findings.append(("DQ22", None))
        return True


def vp_duplicate(ctx, rows):
    source = ctx.pick(rows, lambda t: t["village_level"] == "village" and not t["is_sub_point"])
    if source and not _followed_by_sub(rows, source):
        rows.append(DataRow(list(source.cells), dict(source.truth), findings=[("DQ19", ctx.header("village_name"))]))
        ctx.touched.add(len(rows) - 1)
        return True


def vp_area_small(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "单独设立" and _built(t) and not t["is_sub_point"])
    if row:
        row.cells[ctx.col("area_m2")] = 85
        row.truth["area_m2"] = 85.0
        row.findings.append(("DQ13", ctx.header("area_m2")))
        return True


def vp_subsidy_over(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["equipment_subsidy_yuan"] is not None)
    if row:
        row.truth["equipment_subsidy_yuan"] = 25000.0
        row.cells[ctx.col("equipment_subsidy_yuan")] = 25000 / ctx.money_factor
        row.findings.append(("DQ16", ctx.header("equipment_subsidy_yuan")))
        return True


def vp_merge_self(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["merge_into"] is not None)
    if row:
        row.cells[ctx.col("merge_into")] = row.cells[ctx.col("village_name")]
        row.truth["merge_into"] = row.truth["village_name"]
        row.truth["merge_into_code"] = row.truth["village_name_code"]
        row.findings.append(("DQ18", ctx.header("merge_into")))
        return True


def vp_merge_no_point(ctx, rows):
    targets = [r for r in rows if r.truth["setup_mode"] in ("不设立（拟撤并）", "不设立（镇中心所在村）")]
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["merge_into"] is not None)
    if row and targets:
        target = targets[0]
        row.cells[ctx.col("merge_into")] = target.truth["village_name"]
        row.truth["merge_into"] = target.truth["village_name"]
        row.truth["merge_into_code"] = target.truth["village_name_code"]
        row.findings.append(("DQ18", ctx.header("merge_into")))
        return True


def vp_omit_village(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["village_level"] == "village")
    if row and not _followed_by_sub(rows, row):
        rows.remove(row)
        ctx.touched.clear()  # indices moved; later plants re-pick by value
        ctx.omitted = row
        return "DQ22"

# ------------------------------------------------------------------------------ pairings


def _pairing_row_for(ctx, template: DataRow, id_cell: Any, truth_id: str | None, valid: bool,
                     legacy: bool = False) -> DataRow:
    row = DataRow(list(template.cells), dict(template.truth))
    row.cells[ctx.col("id_number")] = id_cell
    row.truth.update(id_number=truth_id, id_valid=valid, id_legacy15=legacy)
    return row


def pr_bad_check(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        good = row.truth["id_number"]
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        row.cells[ctx.col("id_number")] = bad
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", ctx.header("id_number")))
        return True


def pr_bad_birth(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        good = row.truth["id_number"]
        first17 = good[:6] + good[6:10] + "0230" + good[14:17]
        row.cells[ctx.col("id_number")] = first17 + check_char(first17)
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", ctx.header("id_number")))
        return True


def pr_scientific(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        row.cells[ctx.col("id_number")] = float(row.truth["id_number"][:17] + "0")
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", ctx.header("id_number")))
        return True


def pr_legacy15(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        row.cells[ctx.col("id_number")] = legacy15(row.truth["id_number"])
        row.truth["id_legacy15"] = True
        row.findings.append(("DQ02", ctx.header("id_number")))
        return True


def pr_unknown_village(ctx, rows):
    row = ctx.pick(rows, lambda t: t["village_name"] is not None)
    if row:
        name = ctx.unknown_village()
        row.cells[ctx.col("village_name")] = name
        row.truth.update(village_name=name, village_name_code=None, village_level=None)
        row.findings.append(("DQ08", ctx.header("village_name")))
        return True


def pr_visits_negative(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "visits_this_month", "-2")
        return True


def pr_date_future(ctx, rows):
    row = ctx.pick(rows, lambda t: t["pairing_date"] is not None)
    if row:
        ctx.set_bad(row, "pairing_date", month_end(ctx.am) + dt.timedelta(days=12))
        return True


def pr_mode_unknown(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "pairing_mode", "一帮一")
        return True


def pr_duplicate(ctx, rows):
    source = ctx.pick(rows, lambda t: True)
    if source:
        rows.append(DataRow(list(source.cells), dict(source.truth), findings=[("DQ19", ctx.header("id_number"))]))
        ctx.touched.add(len(rows) - 1)
        return True


def _extra_person_row(ctx, rows, person, rule) -> bool:
    template = rows[0] if rows else None
    if template is None:
        return False
    row = _pairing_row_for(ctx, template, person.id_number, person.id_number, True)
    row.cells[ctx.col("elder_name")] = person.name
    row.truth["elder_name"] = person.name
    row.findings.append((rule, ctx.header("id_number")))
    rows.append(row)
    ctx.touched.add(len(rows) - 1)
    return True


def pr_young(ctx, rows):
    young = [p for p in ctx.prog.young_tekun if p.town.code == ctx.town.code] or ctx.prog.young_tekun
    return _extra_person_row(ctx, rows, young[0], "DQ03")


def pr_unknown_person(ctx, rows):
    stranger = copy.copy(ctx.prog.people_by_town[ctx.town.code][0])
    stranger.id_number = make_id("500112", dt.date(1940, 3, 14), 517)
    stranger.name = "周德明"
    known = {p.id_number for p in ctx.prog.people}
    if stranger.id_number in known:
        return False
    return _extra_person_row(ctx, rows, stranger, "DQ05")


def pr_inactive(ctx, rows):
    ended = [p for p in ctx.prog.people_by_town[ctx.town.code]
             if p.dibao and p.dibao.end_am <= ctx.am and p.dibao.start_am <= ctx.am and p.alive(ctx.am)
             and p.age_at_end(ctx.am) >= 60]
    return bool(ended) and _extra_person_row(ctx, rows, ended[0], "DQ07")

# ------------------------------------------------------------------------------ trainings


def tr_malformed_id(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        row.cells[ctx.col("id_number")] = row.truth["id_number"][:17]
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", ctx.header("id_number")))
        return True


def tr_date_future(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "training_date", month_end(ctx.am) + dt.timedelta(days=9))
        return True


def tr_date_old(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "training_date", "1999-03-15")
        return True


def tr_category_unknown(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "training_category", "厨师")
        return True


def tr_hours_text(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "hours", "约40")
        return True


def tr_duplicate(ctx, rows):
    source = ctx.pick(rows, lambda t: t["training_date"] is not None)
    if source:
        rows.append(DataRow(list(source.cells), dict(source.truth), findings=[("DQ19", ctx.header("id_number"))]))
        ctx.touched.add(len(rows) - 1)
        return True


def tr_certificate_missing(ctx, rows):
    row = ctx.pick(rows, lambda t: t["certified"] is True and t["certificate_no"])
    if row:
        row.cells[ctx.col("certificate_no")] = None
        row.truth["certificate_no"] = None
        row.findings.append(("DQ21", ctx.header("certificate_no")))
        return True

# ------------------------------------------------------------------------------ funds


def fd_amount_huge(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "amount_yuan", 200_000_000 / ctx.money_factor)
        return True


def fd_date_future(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "paid_date", month_end(ctx.am) + dt.timedelta(days=5))
        return True


def fd_type_unknown(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "fund_type", "专项资金")
        return True


def fd_amount_text(ctx, rows):
    row = ctx.pick(rows, lambda t: True)
    if row:
        ctx.set_bad(row, "amount_yuan", "待定")
        return True


def fd_topup_over(ctx, rows):
    row = ctx.pick(rows, lambda t: t["fund_type"] == "区级补助")
    if row:
        extra = DataRow(list(row.cells), dict(row.truth), findings=[("DQ16", ctx.header("amount_yuan"))])
        extra.truth["amount_yuan"] = 900000.0
        extra.cells[ctx.col("amount_yuan")] = 900000 / ctx.money_factor
        rows.append(extra)
        ctx.touched.add(len(rows) - 1)
        return True


def fd_unknown_project(ctx, rows):
    if not rows:
        return False
    extra = DataRow(list(rows[-1].cells), dict(rows[-1].truth), findings=[("DQ24", ctx.header("project_name"))])
    extra.cells[ctx.col("project_name")] = "村级活动中心改造"
    extra.truth["project_name"] = "村级活动中心改造"
    rows.append(extra)
    ctx.touched.add(len(rows) - 1)
    return True


# kind -> plant name -> function; a plant returns True when it found its row
LEDGER_PLANTS: dict[str, dict[str, Callable]] = {
    "facilities": {f.__name__: f for f in (
        fac_area_text, fac_beds_range, fac_beds_over, fac_status_unknown, fac_area_negative, fac_start_date_bad,
        fac_start_date_old, fac_ref_error, fac_nursing_over, fac_residents_over, fac_built_no_date,
        fac_built_future, fac_built_before_start, fac_duplicate, fac_area_small, fac_regress, fac_tekun_mismatch,
        fac_merged_active, fac_unknown_facility)},
    "village_points": {f.__name__: f for f in (
        vp_area_text, vp_area_huge, vp_assistants_negative, vp_setup_unknown, vp_unknown_village, vp_duplicate,
        vp_area_small, vp_subsidy_over, vp_merge_self, vp_merge_no_point, vp_omit_village)},
    "pairings": {f.__name__: f for f in (
        pr_bad_check, pr_bad_birth, pr_scientific, pr_legacy15, pr_unknown_village, pr_visits_negative,
        pr_date_future, pr_mode_unknown, pr_duplicate, pr_young, pr_unknown_person, pr_inactive)},
    "trainings": {f.__name__: f for f in (
        tr_malformed_id, tr_date_future, tr_date_old, tr_category_unknown, tr_hours_text, tr_duplicate,
        tr_certificate_missing)},
    "funds": {f.__name__: f for f in (fd_amount_huge, fd_date_future, fd_type_unknown, fd_amount_text,
                                      fd_topup_over, fd_unknown_project)},
}
