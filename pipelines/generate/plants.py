"""Planted problems: one plant per problem (a function, or a `BadCell` that spoils one cell),
editing rendered rows and tagging findings.

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

    def pick(self, rows: list[DataRow], predicate: Callable[[dict], bool], *, alone: bool = False) -> DataRow | None:
        """The first untouched row whose true values pass `predicate`; `alone`: one whose village has
        no sub-point rows merged under it (moving or copying it would split the merged cells)."""
        for index, row in enumerate(rows):
            if index in self.touched or row.merged_village or not predicate(row.truth):
                continue
            if alone and index + 1 < len(rows) and rows[index + 1].merged_village:
                continue
            self.touched.add(index)
            return row
        return None

    def set_bad(self, row: DataRow, name: str, cell: Any, rule: str = "DQ11") -> None:
        row.cells[self.col(name)] = cell
        row.truth[name] = None
        row.findings.append((rule, self.header(name)))

    def set_value(self, row: DataRow, name: str, value: Any, rule: str, *, cell: Any = None) -> bool:
        """Give the row a well-formed `value` (typed as `cell` when given) and tag `rule` on its column."""
        row.cells[self.col(name)] = value if cell is None else cell
        row.truth[name] = value
        row.findings.append((rule, self.header(name)))
        return True

    def template(self, rows: list[DataRow], *, last: bool = False) -> DataRow | None:
        """A row to copy into a new one: the first (or last) that no plant gave a finding, so the
        copy carries no planted cell (an unknown village, negative visits) the answer key would
        not list on it."""
        return next((row for row in (reversed(rows) if last else rows) if not row.findings), None)

    def append_copy(self, rows: list[DataRow], source: DataRow, rule: str, name: str) -> DataRow:
        """Append a copy of `source` tagged `rule` on column `name`, touched so no other plant edits it."""
        copied = DataRow(list(source.cells), dict(source.truth), findings=[(rule, self.header(name))])
        rows.append(copied)
        self.touched.add(len(rows) - 1)
        return copied

    def unknown_village(self) -> str:
        known = {v.short for v in self.town.villages + self.town.communities}
        return next(n for n in UNKNOWN_VILLAGE_NAMES if n not in known)

    def set_unknown_village(self, row: DataRow) -> None:
        """Name a village the town does not have (DQ08)."""
        name = self.unknown_village()
        row.cells[self.col("village_name")] = name
        row.truth.update(village_name=name, village_name_code=None, village_level=None)
        row.findings.append(("DQ08", self.header("village_name")))


@dataclass(frozen=True)
class BadCell:
    """A plant that spoils one cell (DQ11) of the first untouched row whose true values pass `where`:
    `cell` as typed, or a function of the context that gives it."""

    field: str
    cell: Any
    where: Callable[[dict], bool] = lambda t: True

    def __call__(self, ctx: PlantContext, rows: list[DataRow]) -> bool:
        row = ctx.pick(rows, self.where)
        if row is None:
            return False
        ctx.set_bad(row, self.field, self.cell(ctx) if callable(self.cell) else self.cell)
        return True


@dataclass(frozen=True)
class DuplicateRow:
    """A plant that repeats the first untouched row whose true values pass `where` (DQ19 on the
    `key` column); `alone` as in `PlantContext.pick`."""

    key: str
    where: Callable[[dict], bool] = lambda t: True
    alone: bool = False

    def __call__(self, ctx: PlantContext, rows: list[DataRow]) -> bool:
        source = ctx.pick(rows, self.where, alone=self.alone)
        if source is None:
            return False
        ctx.append_copy(rows, source, "DQ19", self.key)
        return True


@dataclass(frozen=True)
class BadId:
    """A plant that types the first untouched row's ID as `typed(true ID)`: an ID that fails its
    checks (DQ01)."""

    typed: Callable[[str], Any]

    def __call__(self, ctx: PlantContext, rows: list[DataRow]) -> bool:
        row = ctx.pick(rows, lambda t: True)
        if row is None:
            return False
        row.cells[ctx.col("id_number")] = self.typed(row.truth["id_number"])
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", ctx.header("id_number")))
        return True


def _built(t: dict) -> bool:
    return t.get("build_status") in ("已建成", "已运营")


def _village_point_with_area(t: dict) -> bool:
    return _built(t) and t["area_m2"] is not None and t["village_level"] == "village"


def _village_with_assistants(t: dict) -> bool:
    return t["assistants"] is not None and t["village_level"] == "village"


def _home_operating(t: dict) -> bool:
    return t.get("build_status") == "已运营" and t.get("beds") is not None and t.get("residents") is not None


# ------------------------------------------------------------------------------ ingest: facilities


def fac_nursing_over(ctx, rows):
    row = ctx.pick(rows, lambda t: t["beds"] is not None and t["nursing_beds"] is not None)
    return row is not None and ctx.set_value(row, "nursing_beds", row.truth["beds"] + 6, "DQ12")


def fac_residents_over(ctx, rows):
    row = ctx.pick(rows, _home_operating)
    return row is not None and ctx.set_value(row, "residents", row.truth["beds"] + 4, "DQ12")


def fac_built_no_date(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["completion_date"] is not None)
    return row is not None and ctx.set_value(row, "completion_date", None, "DQ14")


def fac_built_future(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["completion_date"] is not None)
    return row is not None and ctx.set_value(row, "completion_date", month_end(ctx.am) + dt.timedelta(days=20),
                                             "DQ14")


def fac_built_before_start(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["completion_date"] is not None and t["start_date"] is not None)
    return row is not None and ctx.set_value(row, "completion_date", row.truth["start_date"] - dt.timedelta(days=45),
                                             "DQ14")


# ------------------------------------------------------------------------------ SQL: facilities


def fac_area_small(ctx, rows):
    row = ctx.pick(rows, lambda t: t["facility_type"] == "镇养老服务中心" and _built(t) and t["area_m2"])
    return row is not None and ctx.set_value(row, "area_m2", 650.0, "DQ13", cell=650)


def fac_regress(ctx, rows):
    before = {r["facility_name"]: r["build_status"] for r in ctx.prog.facility_rows(ctx.town, ctx.am - 1)}
    row = ctx.pick(rows, lambda t: _built(t) and before.get(t["facility_name"]) in ("已建成", "已运营")
                   and t["facility_type"] != "镇养老服务中心")
    return row is not None and ctx.set_value(row, "build_status", "在建", "DQ15")


def fac_tekun_mismatch(ctx, rows):
    # DQ17 compares a home's (敬老院's) count with the 特困 register, as docs/rules.md says
    row = ctx.pick(rows, lambda t: t["facility_type"] == "敬老院" and _home_operating(t)
                   and t["tekun_residents"] is not None and t["residents"] + 3 <= t["beds"])
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
    template = ctx.template(rows)
    if template is None:
        return False
    new = ctx.append_copy(rows, template, "DQ24", "facility_name")
    new.cells[ctx.col("facility_name")] = new.truth["facility_name"] = f"{ctx.town.short}幸福院"
    return True

# ------------------------------------------------------------------------------ village points


def vp_unknown_village(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["village_level"] == "village", alone=True)
    if row:
        ctx.set_unknown_village(row)
        row.findings.append(("DQ22", None))
        return True


def vp_area_small(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "单独设立" and _built(t) and not t["is_sub_point"])
    return row is not None and ctx.set_value(row, "area_m2", 85.0, "DQ13", cell=85)


def vp_subsidy_over(ctx, rows):
    row = ctx.pick(rows, lambda t: _built(t) and t["equipment_subsidy_yuan"] is not None)
    return row is not None and ctx.set_value(row, "equipment_subsidy_yuan", 25000.0, "DQ16",
                                             cell=25000 / ctx.money_factor)


def _merge_into(ctx, row, cell: Any, target: dict) -> bool:
    """Point the row's 合并至 (typed as `cell`) at the village of `target`'s true values: one it
    cannot merge into (DQ18)."""
    row.cells[ctx.col("merge_into")] = cell
    row.truth["merge_into"] = target["village_name"]
    row.truth["merge_into_code"] = target["village_name_code"]
    row.findings.append(("DQ18", ctx.header("merge_into")))
    return True


def vp_merge_self(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["merge_into"] is not None)
    return row is not None and _merge_into(ctx, row, row.cells[ctx.col("village_name")], row.truth)


def vp_merge_no_point(ctx, rows):
    targets = [r for r in rows if r.truth["setup_mode"] in ("不设立（拟撤并）", "不设立（镇中心所在村）")]
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["merge_into"] is not None)
    if row and targets:
        return _merge_into(ctx, row, targets[0].truth["village_name"], targets[0].truth)


def vp_omit_village(ctx, rows):
    row = ctx.pick(rows, lambda t: t["setup_mode"] == "合并设置" and t["village_level"] == "village", alone=True)
    if row:
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


def _wrong_check_char(good: str) -> str:
    return good[:17] + ("0" if good[17] != "0" else "1")


def _born_february_30(good: str) -> str:
    first17 = good[:6] + good[6:10] + "0230" + good[14:17]
    return first17 + check_char(first17)


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
        ctx.set_unknown_village(row)
        return True


def _extra_person_row(ctx, rows, person, rule) -> bool:
    template = ctx.template(rows)
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


def tr_certificate_missing(ctx, rows):
    row = ctx.pick(rows, lambda t: t["certified"] is True and t["certificate_no"])
    return row is not None and ctx.set_value(row, "certificate_no", None, "DQ21")

# ------------------------------------------------------------------------------ funds


def fd_topup_over(ctx, rows):
    row = ctx.pick(rows, lambda t: t["fund_type"] == "区级补助")
    if row:
        extra = ctx.append_copy(rows, row, "DQ16", "amount_yuan")
        extra.truth["amount_yuan"] = 900000.0
        extra.cells[ctx.col("amount_yuan")] = 900000 / ctx.money_factor
        return True


def fd_unknown_project(ctx, rows):
    template = ctx.template(rows, last=True)
    if template is None:
        return False
    extra = ctx.append_copy(rows, template, "DQ24", "project_name")
    extra.cells[ctx.col("project_name")] = extra.truth["project_name"] = "村级活动中心改造"
    return True


# kind -> plant name -> plant, in placing order; a plant returns True when it found its row
LEDGER_PLANTS: dict[str, dict[str, Callable]] = {
    "facilities": {
        "fac_area_text": BadCell("area_m2", "约1200", lambda t: t["area_m2"] is not None),
        "fac_beds_range": BadCell("beds", "1200-1500", lambda t: t["beds"] is not None),
        "fac_beds_over": BadCell("beds", 12000, lambda t: t["beds"] is not None),
        "fac_status_unknown": BadCell("build_status", "已完工", lambda t: t["build_status"] == "在建"),
        "fac_area_negative": BadCell("area_m2", -860, lambda t: t["area_m2"] is not None),
        "fac_start_date_bad": BadCell("start_date", "2022.13.1", lambda t: t["start_date"] is not None),
        "fac_start_date_old": BadCell("start_date", "1998-05-01", lambda t: t["start_date"] is not None),
        "fac_ref_error": BadCell("residents", XlError("#REF!"), _home_operating),
        "fac_nursing_over": fac_nursing_over,
        "fac_residents_over": fac_residents_over,
        "fac_built_no_date": fac_built_no_date,
        "fac_built_future": fac_built_future,
        "fac_built_before_start": fac_built_before_start,
        "fac_duplicate": DuplicateRow("facility_name", lambda t: t["build_status"] in ("未开工", "在建", "已运营")),
        "fac_area_small": fac_area_small,
        "fac_regress": fac_regress,
        "fac_tekun_mismatch": fac_tekun_mismatch,
        "fac_merged_active": fac_merged_active,
        "fac_unknown_facility": fac_unknown_facility,
    },
    "village_points": {
        "vp_area_text": BadCell("area_m2", "待定", _village_point_with_area),
        "vp_area_huge": BadCell("area_m2", 150000, _village_point_with_area),
        "vp_assistants_negative": BadCell("assistants", -1, _village_with_assistants),
        "vp_setup_unknown": BadCell("setup_mode", "自建", lambda t: t["setup_mode"] == "合并设置"),
        "vp_unknown_village": vp_unknown_village,
        "vp_duplicate": DuplicateRow("village_name", lambda t: t["village_level"] == "village"
                                     and not t["is_sub_point"], alone=True),
        "vp_area_small": vp_area_small,
        "vp_subsidy_over": vp_subsidy_over,
        "vp_merge_self": vp_merge_self,
        "vp_merge_no_point": vp_merge_no_point,
        "vp_omit_village": vp_omit_village,
    },
    "pairings": {
        "pr_bad_check": BadId(_wrong_check_char),
        "pr_bad_birth": BadId(_born_february_30),
        "pr_scientific": BadId(lambda good: float(good[:17] + "0")),
        "pr_legacy15": pr_legacy15,
        "pr_unknown_village": pr_unknown_village,
        "pr_visits_negative": BadCell("visits_this_month", "-2"),
        "pr_date_future": BadCell("pairing_date", lambda ctx: month_end(ctx.am) + dt.timedelta(days=12),
                                  lambda t: t["pairing_date"] is not None),
        "pr_mode_unknown": BadCell("pairing_mode", "一帮一"),
        "pr_duplicate": DuplicateRow("id_number"),
        "pr_young": pr_young,
        "pr_unknown_person": pr_unknown_person,
        "pr_inactive": pr_inactive,
    },
    "trainings": {
        "tr_malformed_id": BadId(lambda good: good[:17]),
        "tr_date_future": BadCell("training_date", lambda ctx: month_end(ctx.am) + dt.timedelta(days=9)),
        "tr_date_old": BadCell("training_date", "1999-03-15"),
        "tr_category_unknown": BadCell("training_category", "厨师"),
        "tr_hours_text": BadCell("hours", "约40"),
        "tr_duplicate": DuplicateRow("id_number", lambda t: t["training_date"] is not None),
        "tr_certificate_missing": tr_certificate_missing,
    },
    "funds": {
        "fd_amount_huge": BadCell("amount_yuan", lambda ctx: 200_000_000 / ctx.money_factor),
        "fd_date_future": BadCell("paid_date", lambda ctx: month_end(ctx.am) + dt.timedelta(days=5)),
        "fd_type_unknown": BadCell("fund_type", "专项资金"),
        "fd_amount_text": BadCell("amount_yuan", "待定"),
        "fd_topup_over": fd_topup_over,
        "fd_unknown_project": fd_unknown_project,
    },
}
