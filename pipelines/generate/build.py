"""Generation run: model -> files on disk -> answer key."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import polars as pl

from . import plants as plant_lib
from .contract import SheetContract
from .divisions import Town
from .ids import legacy15
from .model import Programme, am_of, month_end, month_start
from .answer_key import frame, table_schema
from .registries import (REGISTRY_PREFIX, encode_export, encode_export_frame, export_people, export_style,
                         headers, person_cells)
from .registry_frames import export_cells, export_rows, export_truth, people_frame, place_names
from .render import (OPTIONAL_FIELDS, CellRenderer, DataRow, Profile, Recorder, assemble_sheet,
                     choose_profile, fmt_month_label, money_factor, render_rows, title_text, town_label)
from .xlsx import Sheet, xls_bytes, xlsx_bytes

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
KINDS = ("facilities", "village_points", "pairings", "trainings", "funds")
SHEET_PREFIX_NUMBER = {k: i + 1 for i, k in enumerate(KINDS)}

def _any_status(rows: list[dict], *statuses: str) -> bool:
    return any(r["build_status"] in statuses for r in rows)


# What a workbook must hold for a plant to find its row (the default: anything).
PLANT_NEEDS: dict[str, Callable[[Programme, Town, int], bool]] = {
    "fac_merged_active": lambda p, t, am: _any_status(p.facility_rows(t, am), "已撤并"),
    "fac_regress": lambda p, t, am: any(
        r["build_status"] in ("已建成", "已运营") and r["facility_type"] != "镇养老服务中心"
        and b["build_status"] in ("已建成", "已运营")
        for r, b in zip(p.facility_rows(t, am), p.facility_rows(t, am - 1))),
    "fac_area_small": lambda p, t, am: any(r["facility_type"] == "镇养老服务中心" and r["build_status"] in ("已建成", "已运营")
                                           for r in p.facility_rows(t, am)),
    "fac_status_unknown": lambda p, t, am: _any_status(p.facility_rows(t, am), "在建"),
    "fac_built_before_start": lambda p, t, am: sum(1 for r in p.facility_rows(t, am)
                                                   if r["build_status"] in ("已建成", "已运营") and r["start_date"]) >= 3,
    "fac_start_date_bad": lambda p, t, am: any(r["start_date"] for r in p.facility_rows(t, am)),
    "fac_start_date_old": lambda p, t, am: sum(1 for r in p.facility_rows(t, am) if r["start_date"]) >= 2,
    "fac_tekun_mismatch": lambda p, t, am: any(r["facility_type"] == "敬老院" and r["build_status"] == "已运营"
                                               and r["beds"] and r["residents"] is not None
                                               and r["residents"] + 3 <= r["beds"] for r in p.facility_rows(t, am)),
    "vp_merge_no_point": lambda p, t, am: any(r["setup_mode"].startswith("不设立") for r in p.village_rows(t, am)),
    "vp_area_small": lambda p, t, am: any(r["setup_mode"] == "单独设立" and r["build_status"] in ("已建成", "已运营")
                                          for r in p.village_rows(t, am)),
    "vp_area_text": lambda p, t, am: _any_status(p.village_rows(t, am), "已建成", "已运营"),
    "vp_area_huge": lambda p, t, am: sum(1 for r in p.village_rows(t, am) if r["build_status"] in ("已建成", "已运营")) >= 3,
    "vp_subsidy_over": lambda p, t, am: sum(1 for r in p.village_rows(t, am) if r["build_status"] in ("已建成", "已运营")) >= 4,
    "pr_inactive": lambda p, t, am: any(x.dibao and x.dibao.start_am <= am and x.dibao.end_am <= am and x.alive(am)
                                        and x.age_at_end(am) >= 60 for x in p.people_by_town[t.code]),
    "fd_topup_over": lambda p, t, am: any(r["fund_type"] == "区级补助" for r in p.fund_rows(t, am)),
    "tr_certificate_missing": lambda p, t, am: any(r["certified"] for r in p.training_rows(t, am)),
}


def place_plants(prog: Programme, n_towns: int, months: list[int],
                 blocked: set[tuple[int, int]]) -> tuple[dict[tuple[int, int], list[str]], list[str]]:
    """(town index, month index) -> plant names: each plant at the first workbook, from a spread-out
    starting point, that holds the row it needs; never a town's first month (its baseline).
    Also the plants no workbook can take (a short month range has few facility rows)."""
    names = [n for kind in plant_lib.LEDGER_PLANTS for n in plant_lib.LEDGER_PLANTS[kind]]
    kind_of = {n: k for k, kinds in plant_lib.LEDGER_PLANTS.items() for n in kinds}
    places: dict[tuple[int, int], list[str]] = {}
    unplaced: list[str] = []
    load: dict[tuple[int, int, str], int] = {}
    n_months = len(months)
    slots = [(t, m) for t in range(n_towns) for m in range(1, n_months)] or [(t, 0) for t in range(n_towns)]
    rows_of = {"facilities": Programme.facility_rows, "village_points": Programme.village_rows,
               "pairings": Programme.pairing_rows, "trainings": Programme.training_rows, "funds": Programme.fund_rows}
    for i, name in enumerate(names):
        start = (i * 37 + 11) % len(slots)
        kind = kind_of[name]
        specific = PLANT_NEEDS.get(name, lambda p, t, am: True)

        def need(p, t, am, kind=kind, specific=specific):
            return len(rows_of[kind](p, t, am)) >= 4 and specific(p, t, am)
        for step in range(len(slots)):
            t, m = slots[(start + step) % len(slots)]
            cap = {"facilities": 1, "village_points": 2}.get(kind_of[name], 3)  # few rows: one plant each
            if (t, m) in blocked or load.get((t, m, kind_of[name]), 0) >= cap:
                continue
            if need(prog, prog.towns[t], months[m]):
                places.setdefault((t, m), []).append(name)
                load[(t, m, kind_of[name])] = load.get((t, m, kind_of[name]), 0) + 1
                break
        else:
            unplaced.append(name)
    return places, unplaced


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


@dataclass
class Run:
    out: Path
    seed: int
    clean: bool
    prog: Programme
    sheets: dict[str, SheetContract]
    registries: dict[str, SheetContract]
    recorder: Recorder = field(default_factory=Recorder)
    files: list[dict] = field(default_factory=list)
    sheet_rows: list[dict] = field(default_factory=list)
    truth: dict[str, list[dict]] = field(default_factory=dict)
    registry_truth: dict[str, list[pl.DataFrame]] = field(default_factory=dict)  # one frame per export
    lost_plants: list[str] = field(default_factory=list)
    plant_towns: int | None = None  # planted problems go to the first this many towns (default: all)

    def month_label(self, am: int) -> str:
        return f"{am // 12}-{am % 12 + 1:02d}"

    def write(self, relative: str, data: bytes, mtime: dt.datetime) -> Path:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (_epoch(mtime), _epoch(mtime)))
        return path

    def add_file(self, relative: str, data: bytes, mtime: dt.datetime, kind: str, status: str, reason: str | None,
                 *, town_code=None, am=None, registry=None, export_date=None, submission_date=None,
                 rows: int | None = None, sha256: str | None = None) -> None:
        """Record a written file; `sha256` instead of `data` for a file streamed to disk."""
        self.files.append({
            "relative_path": relative, "file_name": relative.split("/", 1)[1], "kind": kind, "registry": registry,
            "town_code": town_code, "month": month_start(am) if am is not None else None,
            "export_date": export_date, "expected_status": status, "reason": reason,
            "sha256": sha256 or hashlib.sha256(data).hexdigest(),
            "submission_date": submission_date or mtime.astimezone(SHANGHAI).date(),
            "modified_at": mtime.astimezone(dt.timezone.utc).replace(tzinfo=None), "rows": rows,
        })


# ============================================================================== workbooks


def sheet_name_for(kind: str, contract: SheetContract, profile: Profile, am: int) -> str:
    style = profile.sheet_name_style
    if style == "alias" and contract.aliases:
        return contract.aliases[0]
    number, name = SHEET_PREFIX_NUMBER[kind], contract.name
    styled = {"prefix_number": f"{number}.{name}", "prefix_table": f"表{number} {name}", "spaces": f" {name}",
              "bracket_suffix": f"{name}（{am % 12 + 1}月）"}
    return styled.get(style, name)


def cover_rows(town: Town, am: int, profile: Profile, submitted: dt.date) -> list[list[Any]]:
    month_text = fmt_month_label(month_start(am), profile.month_form)
    town_text = town_label(town, profile.town_form)
    label = profile.cover_month_label
    if profile.cover == "next_cell":
        row: list[Any] = ["填报单位", town_text, None, label, month_text]
        if profile.cover_date:
            row += [None, "填报日期", submitted]
    else:
        row = [f"填报单位：{town_text}", None, None, f"{label}：{month_text}"]
        if profile.cover_date:
            row += [None, f"填报日期：{submitted.year}年{submitted.month}月{submitted.day}日"]
    return [row]


def file_name_for(town: Town, am: int, mi: int, profile: Profile, ext: str) -> str:
    T = town_label(town, profile.town_form)
    M = fmt_month_label(month_start(am), profile.month_form)
    pattern = profile.file_pattern
    if pattern == 4 and profile.cover == "none":
        pattern = 0
    names = {
        0: f"{town.name if profile.town_form == 'government' else T}_{am // 12}年{am % 12 + 1:02d}月_农村养老服务全覆盖进度表{ext}",
        1: f"{T}{M}进度表{ext}",
        2: f"{M}_{T}_养老服务全覆盖月报{ext}",
        3: f"农村养老服务全覆盖进度表（{T}）{M}{ext}",
    }
    return names.get(pattern, f"月报表（最终版）_{town.index + 1}-{mi + 1}{ext}")


def submission_moment(run: Run, town: Town, am: int, late_bias: int) -> dt.datetime:
    rng = random.Random(f"{run.seed}:submitted:{town.code}:{am}")
    day = rng.randint(1, 5)
    if late_bias >= 3 and rng.random() < 0.35:
        day = rng.randint(6, 12)
    nxt = month_end(am) + dt.timedelta(days=day)
    return dt.datetime(nxt.year, nxt.month, nxt.day, rng.randint(8, 17), rng.randint(0, 59), 0, tzinfo=SHANGHAI)


@dataclass
class WorkbookJob:
    town: Town
    am: int
    mi: int
    profile: Profile
    submitted: dt.datetime
    plants: dict[str, list[str]]
    truncate_pairings: bool = False
    name_suffix: str = ""
    sheet_problem: str | None = None  # missing_required | ambiguous


def render_workbook(run: Run, job: WorkbookJob, relative: str) -> tuple[list[Sheet], dict[str, list[dict]], list[dict], list[str]]:
    prog, town, am, profile = run.prog, job.town, job.am, job.profile
    rng = random.Random(f"{run.seed}:cells:{town.code}:{am}:{job.name_suffix}")
    renderer = CellRenderer(profile, rng, town)
    month = month_start(am)
    sheets: list[Sheet] = []
    truth: dict[str, list[dict]] = {k: [] for k in KINDS}
    sheet_records: list[dict] = []
    failed: list[str] = []
    has_plants = any(job.plants.values())
    submitted = job.submitted.date()
    if profile.cover == "cover_sheet":
        sheets.append(Sheet("封面", [[f"{town.name}农村养老服务全覆盖工作进度表"]] + cover_rows(town, am, profile, submitted)))
        run.recorder.variation("cover_sheet", relative, "封面")
    for kind_index, kind in enumerate(KINDS):
        contract = run.sheets[kind]
        records = {
            "facilities": prog.facility_rows, "village_points": prog.village_rows, "pairings": prog.pairing_rows,
            "trainings": prog.training_rows, "funds": prog.fund_rows,
        }[kind](town, am)
        if kind == "pairings" and job.truncate_pairings:
            records = records[: max(1, len(records) * 19 // 20)]
        columns = [c for c in contract.columns
                   if not (profile.omit_optional and not has_plants and c.field in OPTIONAL_FIELDS)]
        if job.sheet_problem == "missing_required" and kind == "pairings":
            columns = [c for c in columns if not c.required]
        if len(columns) < len(contract.columns):
            run.recorder.variation("optional_column_missing", relative, None, None, kind)
        data = render_rows(kind, contract, records, renderer, columns)
        ctx = plant_lib.PlantContext(prog, town, am, contract, [c.field for c in columns],
                                     money_factor=money_factor(kind, profile))
        for name in job.plants.get(kind, []):
            result = plant_lib.LEDGER_PLANTS[kind][name](ctx, data)
            if not result:
                failed.append(name)
        name = sheet_name_for(kind, contract, profile, am)
        if name != contract.name:
            run.recorder.variation(f"sheet_name_{profile.sheet_name_style}", relative, name)
        n_titles = profile.title_rows if kind_index == 0 else 1 + (profile.title_rows + kind_index) % 3
        titles: list[list[Any]] = [[title_text(town, fmt_month_label(month_start(am), "chinese"), contract.name)]]
        if kind_index == 0 and profile.cover in ("same_cell", "next_cell"):
            titles += cover_rows(town, am, profile, submitted)
            run.recorder.variation(f"cover_{profile.cover}", relative, name)
            run.recorder.variation(f"cover_label_{profile.cover_month_label}", relative, name)
            if profile.cover_date:
                run.recorder.variation("cover_submission_date", relative, name)
        while len(titles) < n_titles:
            titles.append([f"（数据截至{month_end(am):%Y年%m月%d日}）" if len(titles) == 1 else "单位：个、人、平方米、元"])
        rows_out: list[dict] = []
        sheet = assemble_sheet(name, kind, contract, columns, data, profile, titles, profile.footer,
                               profile.headerless_column and kind in ("facilities", "pairings"),
                               profile.blank_row and kind in ("village_points", "pairings", "trainings"),
                               run.recorder, relative, town.code, month, name, rows_out)
        if ctx.omitted is not None:
            run.recorder.finding("DQ22", town.code, run.month_label(am), relative, name, None, None)
        header_rows = 2 if any(m[0] == m[2] and m[0] == len(titles) and m[1] != m[3] for m in sheet.merges) else 1
        status = "loaded"
        reason = None
        if job.sheet_problem == "missing_required" and kind == "pairings":
            status, reason = "rejected", "missing_required_column"
            run.recorder.findings = [f for f in run.recorder.findings
                                     if not (f["source_file"] == relative and f["sheet"] == name)]
            run.recorder.finding("DQ10", town.code, run.month_label(am), relative, name, None,
                                 next(c.header for c in contract.columns if c.required))
        sheets.append(sheet)
        if job.sheet_problem == "ambiguous" and kind == "trainings":
            twin = Sheet(name + "(2)", [list(r) for r in sheet.rows], list(sheet.merges))
            sheets.append(twin)
            status, reason = "rejected", "ambiguous_sheet"
            run.recorder.findings = [f for f in run.recorder.findings
                                     if not (f["source_file"] == relative and f["sheet"] == name)]
            for sheet_name in (name, twin.name):
                run.recorder.finding("DQ10", town.code, run.month_label(am), relative, sheet_name, None, None)
                sheet_records.append({"relative_path": relative, "sheet_name": sheet_name, "sheet_kind": kind,
                                      "expected_status": status, "reason": reason,
                                      "header_row": len(titles) + header_rows, "rows": 0})
            continue
        if status == "loaded":
            truth[kind] = rows_out
        sheet_records.append({"relative_path": relative, "sheet_name": name, "sheet_kind": kind,
                              "expected_status": status, "reason": reason,
                              "header_row": len(titles) + header_rows, "rows": len(rows_out) if status == "loaded" else 0})
    for extra in profile.extra_sheets:
        sheets.append(Sheet(extra, [["填表说明：请按月填报，数据截至月末。"]] if extra == "说明" else []))
        run.recorder.variation(f"extra_sheet_{extra}", relative, extra)
    if profile.hidden_backup:
        backup_rows = [["村名", "设置方式", "建设状态"]] + [[r["village_name"], r["setup_mode"], r["build_status"]]
                                                      for r in prog.village_rows(town, am - 1)[:5]]
        sheets.append(Sheet(f"互助养老点（{(am - 1) % 12 + 1}月备份）", backup_rows, hidden=True))
        run.recorder.variation("hidden_backup_sheet", relative, sheets[-1].name)
    return sheets, truth, sheet_records, failed


def workbook_bytes(sheets: list[Sheet], fmt: str) -> bytes:
    if fmt == "xls":
        return xls_bytes(sheets)
    return xlsx_bytes(sheets, macro_enabled=fmt == "xlsm", author="镇街民政办")


def emit_workbook(run: Run, job: WorkbookJob, status: str = "loaded", reason: str | None = None) -> tuple[str, bytes]:
    ext = "." + job.profile.fmt
    name = file_name_for(job.town, job.am, job.mi, job.profile, ext)
    if job.name_suffix:
        name = name[: -len(ext)] + job.name_suffix + ext
    relative = f"towns/{name}"
    sheets, truth, sheet_records, failed = render_workbook(run, job, relative)
    data = workbook_bytes(sheets, job.profile.fmt)
    mtime = job.submitted + (dt.timedelta(hours=20) if job.profile.cover_date and job.profile.cover != "none" else dt.timedelta())
    submission = job.submitted.date() if (job.profile.cover_date and job.profile.cover != "none") else mtime.date()
    run.write(relative, data, mtime)
    run.recorder.variation(f"format_{job.profile.fmt}", relative)
    if submission.day > 5 and submission.month != job.am % 12 + 1:
        run.recorder.variation("late_submission", relative)
    if job.profile.cover == "none":
        run.recorder.variation("identified_by_file_name", relative)
    elif job.profile.file_pattern == 4:
        run.recorder.variation("identified_by_cover_only", relative)
    run.recorder.variation(f"file_name_pattern_{job.profile.file_pattern if not (job.profile.file_pattern == 4 and job.profile.cover == 'none') else 0}", relative)
    run.recorder.variation(f"town_form_{job.profile.town_form}", relative)
    run.recorder.variation(f"month_form_{job.profile.month_form}", relative)
    rows = sum(len(v) for v in truth.values())
    run.add_file(relative, data, mtime, "town_workbook", status, reason, town_code=job.town.code, am=job.am,
                 submission_date=submission, rows=rows)
    for kind, rows_out in truth.items():
        run.truth.setdefault(f"town_{kind}", []).extend(rows_out)
    run.sheet_rows.extend(sheet_records)
    job.failed = failed
    return relative, data


def generate_workbooks(run: Run, progress: Callable[[str, int, int], None] | None,
                       towns: list[Town] | None = None) -> None:
    """The workbooks of `towns` (default: every town); planted problems are placed over all towns."""
    prog = run.prog
    towns = prog.towns if towns is None else towns
    months = prog.months
    n_towns = len(prog.towns)
    n_months = len(months)
    mi_of = lambda k: min(k, n_months - 1)  # noqa: E731
    # The missing workbook is never the last month's: DQ23 judges a month only once a later
    # submission shows its deadline passed (docs/rules.md), and none follows the last month.
    missing = set() if run.clean else {(2 % n_towns, min(9, n_months - 2))}
    resubmit = (6 % n_towns, mi_of(5))
    duplicate_of = (8 % n_towns, mi_of(11))
    sheet_problems = {} if run.clean else {(1 % n_towns, mi_of(7)): "missing_required",
                                          (10 % n_towns, mi_of(13)): "ambiguous"}
    blocked = missing | {resubmit} | {key for key in sheet_problems}
    plant_towns = min(run.plant_towns or n_towns, n_towns)
    places, unplaced = ({}, []) if run.clean else place_plants(prog, plant_towns, months, blocked)
    if prog.towns[0] in towns:  # every process places the plants; one reports those left out
        run.lost_plants.extend(unplaced)
    kind_of = {n: k for k, names in plant_lib.LEDGER_PLANTS.items() for n in names}
    total = len(towns) * n_months
    done = 0
    for town in towns:
        for mi, am in enumerate(months):
            done += 1
            if progress:
                progress("workbooks", done, total)
            if (town.index, mi) in missing:
                run.recorder.finding("DQ23", town.code, run.month_label(am), None)
                continue
            names = places.get((town.index, mi), [])
            plants_by_kind: dict[str, list[str]] = {}
            for name in names:
                plants_by_kind.setdefault(kind_of[name], []).append(name)
            profile = choose_profile(run.seed, town, mi)
            submitted = submission_moment(run, town, am, prog.pace[town.code])
            job = WorkbookJob(town, am, mi, profile, submitted, plants_by_kind,
                              sheet_problem=sheet_problems.get((town.index, mi)))
            if (town.index, mi) == resubmit:
                first = WorkbookJob(town, am, mi, profile, submitted - dt.timedelta(days=3), {},
                                    truncate_pairings=True)
                first_rel, _ = emit_workbook(run, first, "superseded", "superseded")
                run.recorder.variation("resubmission_superseded", first_rel)
                job.submitted = submitted + dt.timedelta(days=4)
                job.name_suffix = "（更正）"
            relative, data = emit_workbook(run, job)
            run.lost_plants.extend(job.failed)
            if (town.index, mi) == duplicate_of:
                copy_rel = "towns/" + "副本-" + relative.split("/", 1)[1]
                mtime = job.submitted + dt.timedelta(days=1, hours=3)
                run.write(copy_rel, data, mtime)
                run.add_file(copy_rel, data, mtime, "town_workbook", "duplicate", "duplicate",
                             town_code=town.code, am=am, submission_date=run.files[-1]["submission_date"])
                run.recorder.variation("duplicate_bytes", copy_rel)


# ============================================================================== registries


REGISTRY_PLANTS = {
    # registry -> export index -> [plant]
    "elderly": {1: ["sci", "legacy15", "unknown_village", "birth_old", "ragged_short"],
                3: ["birth_future", "ability_unknown", "ragged_long", "young"]},
    "tekun": {4: ["legacy15", "bad_check", "allowance_text"]},
    "dibao": {6: ["other_town", "status_unknown"]},
    "family_doctor": {2: ["date_bad"]},
}



# Registry plants that make one cell unreadable (DQ11): plant name → (field, text as exported).
_UNREADABLE_REGISTRY_CELLS = {
    "birth_old": ("birth_date", "1890-01-01"),
    "birth_future": ("birth_date", "2030-05-01"),
    "ability_unknown": ("ability_level", "中重度"),
    "allowance_text": ("annual_allowance_yuan", "待核定"),
    "status_unknown": ("person_status", "暂停"),
    "date_bad": ("contract_date", "2022.13.1"),
}

# What a registry plant's row must hold (the default: anything): only an ID of 18 digits has a
# scientific-notation form (one ending in X does not).
_REGISTRY_PLANT_NEEDS: dict[str, Callable[[dict], bool]] = {
    "sci": lambda truth: truth["id_number"].isdigit(),
}


def _registry_plant_row(name: str, rows: list[DataRow]) -> DataRow | None:
    """The first untouched row, from a point a third of the way down, that the plant can edit."""
    candidates = [r for r in rows if not r.findings]
    need = _REGISTRY_PLANT_NEEDS.get(name, lambda truth: True)
    start = len(candidates) // 3 + len(name)
    for step in range(len(candidates)):
        row = candidates[(start + step) % len(candidates)]
        if need(row.truth):
            return row
    return None


def _plant_registry(run: Run, registry: str, name: str, rows: list[DataRow], header: list[str],
                    contract: SheetContract, export: dt.date) -> None:
    col = {c.field: i for i, c in enumerate(contract.columns)}
    id_header = contract.column("id_number").header
    row = _registry_plant_row(name, rows)
    if row is None:
        run.lost_plants.append(f"{registry}:{name}")
        return
    if name == "sci":
        row.cells[col["id_number"]] = f"{float(row.truth['id_number']):.5E}"
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", id_header))
    elif name == "legacy15":
        row.cells[col["id_number"]] = legacy15(row.truth["id_number"])
        row.truth["id_legacy15"] = True
        row.findings.append(("DQ02", id_header))
    elif name == "bad_check":
        good = row.truth["id_number"]
        row.cells[col["id_number"]] = good[:17] + ("1" if good[17] != "1" else "2")
        row.truth.update(id_number=None, id_valid=False)
        row.findings.append(("DQ01", id_header))
    elif name == "unknown_village":
        town = next(t for t in run.prog.towns if t.code == row.truth["town_code"])
        known = {v.short for v in town.villages + town.communities}
        unknown = next(n for n in plant_lib.UNKNOWN_VILLAGE_NAMES if n not in known)
        row.cells[col["village_name"]] = unknown
        row.truth.update(village_name=unknown, village_name_code=None, village_level=None)
        row.findings.append(("DQ08", contract.column("village_name").header))
    elif name in _UNREADABLE_REGISTRY_CELLS:
        field, text = _UNREADABLE_REGISTRY_CELLS[name]
        row.cells[col[field]] = text
        row.truth[field] = None
        row.findings.append(("DQ11", contract.column(field).header))
    elif name == "ragged_short":
        row.cells = row.cells[:-2]
        for c in contract.columns[-2:]:
            row.truth[c.field] = None
        row.findings.append(("DQ11", None))
    elif name == "ragged_long":
        row.cells = row.cells + ["多余字段"]
        row.findings.append(("DQ11", None))
    elif name == "young":
        person = run.prog.young_tekun[0]
        young = DataRow(list(row.cells), dict(row.truth))
        young.cells[col["id_number"]] = person.id_number
        young.cells[col["birth_date"]] = person.birth.isoformat()
        young.truth.update(id_number=person.id_number, birth_date=person.birth)
        young.findings.append(("DQ03", id_header))
        rows.append(young)
    elif name == "other_town":
        other_town = next(t for t in run.prog.towns if t.code != row.truth["town_code"])
        person = next(p for p in run.prog.people if p.town.code != other_town.code and p.dibao is None
                      and p.tekun is None and run.prog.in_elderly_export(p, export))
        twin = DataRow(list(row.cells), dict(row.truth))
        twin.cells[col["person_name"]] = person.name
        twin.cells[col["id_number"]] = person.id_number
        twin.cells[col["town_name"]] = other_town.name
        twin.cells[col["village_name"]] = other_town.villages[0].short
        twin.truth.update(person_name=person.name, id_number=person.id_number, town_name=other_town.name,
                          town_code=other_town.code, village_name=other_town.villages[0].short,
                          village_name_code=other_town.villages[0].code, village_level="village")
        twin.findings.append(("DQ04", id_header))
        rows.append(twin)


# The large exports (elderly database, family doctors: 80% of registry rows) are built as
# frames; an export that takes a planted problem becomes rows for the plants to edit.
FRAME_REGISTRIES = ("elderly", "family_doctor")


def generate_registries(run: Run, progress) -> None:
    prog = run.prog
    jobs = ([("tekun", d) for d in prog.monthly_exports] + [("dibao", d) for d in prog.monthly_exports]
            + [("elderly", d) for d in prog.elderly_exports] + [("family_doctor", d) for d in prog.elderly_exports])
    people = people_frame(prog.people)
    town_names, village_names = place_names(prog.towns)
    counters: dict[str, int] = {}
    for n, (registry, export) in enumerate(jobs, start=1):
        if progress:
            progress("registries", n, len(jobs))
        index = counters.get(registry, 0)
        counters[registry] = index + 1
        style = export_style(registry, index)
        contract = run.registries[registry]
        schema = table_schema(contract, registry=True)
        header = headers(contract, style)
        ext = {"xlsx": ".xlsx", "xls": ".xls"}.get(style.encoding, ".csv")
        relative = f"registries/{REGISTRY_PREFIX[registry]}_{export:%Y%m%d}{ext}"
        month = run.month_label(am_of(export))
        plants: list[str] = []
        if not run.clean:
            last_index = sum(1 for r, _ in jobs if r == registry) - 1
            plants = [n for k, names in REGISTRY_PLANTS.get(registry, {}).items()
                      if min(k, last_index) == index for n in names]
        rows: list[DataRow] | None = None
        if registry in FRAME_REGISTRIES:
            listed = export_rows(people, registry, export)
            cells = export_cells(listed, registry, style, export, town_names, village_names, homes=None)
            truth = export_truth(listed, registry, style, export, relative, town_names, village_names, schema)
            if plants:
                row_truth = truth.drop("file_id", "row_number", "export_date").to_dicts()
                rows = [DataRow(list(c), t) for c, t in zip(cells.rows(), row_truth)]
            else:
                data = encode_export_frame(header, cells, style)
                n_rows = cells.height
        else:
            rows = [DataRow(*person_cells(person, registry, style, export))
                    for person in export_people(prog, registry, export)]
        if rows is not None:
            for name in plants:
                _plant_registry(run, registry, name, rows, header, contract, export)
            data = encode_export(header, [r.cells for r in rows], style)
            n_rows = len(rows)
            truth = frame([{"file_id": relative, "row_number": number, "export_date": export, **row.truth}
                           for number, row in enumerate(rows, start=2)], schema)
            for number, row in enumerate(rows, start=2):
                for rule, column in row.findings:
                    run.recorder.finding(rule, row.truth.get("town_code"), month, relative, None, number, column)
        run.registry_truth.setdefault(registry, []).append(truth)
        mtime = dt.datetime(export.year, export.month, export.day, 18, 30, tzinfo=SHANGHAI)
        run.write(relative, data, mtime)
        run.add_file(relative, data, mtime, "registry", "loaded", None, registry=registry, export_date=export,
                     rows=n_rows)
        run.recorder.variation(f"registry_encoding_{style.encoding}", relative)
        if style.header_aliases:
            run.recorder.variation("registry_header_alias", relative, None, 1)
        if style.id_form != "plain":
            run.recorder.variation(f"registry_id_{style.id_form}", relative, None, 2, contract.column("id_number").header)
        if style.nul_bytes:
            run.recorder.variation("registry_nul_bytes", relative, None, 7)
        if style.repeated_header:
            run.recorder.variation("registry_repeated_header", relative, None, 1, header[0])
        run.recorder.variation(f"registry_birth_{style.birth_form}", relative)
        if style.ability_labels and registry == "elderly":
            run.recorder.variation("registry_ability_label", relative)
        if style.town_form == "government":
            run.recorder.variation("registry_town_government_name", relative)


# ============================================================================== odd files


def generate_odd_files(run: Run) -> None:
    """Rejected files, skipped files and a non-UTF-8 file name."""
    prog = run.prog
    towns = prog.towns
    months = prog.months
    base = dt.datetime(month_end(months[-1]).year, month_end(months[-1]).month, 1, 9, 0, tzinfo=SHANGHAI)
    some_workbook = next(f for f in run.files if f["kind"] == "town_workbook" and f["relative_path"].endswith(".xlsx")
                         and f["expected_status"] == "loaded")
    sample_path = run.out / some_workbook["relative_path"]
    sample = sample_path.read_bytes()
    # skipped: lock files, dot files, a symbolic link (never opened, never recorded)
    for relative, data in ((f"towns/~${sample_path.name}", b"\x0b\xe9\x95\x87\xe8\xa1\x97" + b"\x00" * 150),
                           (f"towns/.~lock.{sample_path.name}#", b"LOCK,clerk,PC-01,01.01.2022 09:00,file:///C:/;"),
                           ("towns/.DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 64)):
        run.write(relative, data, base)
        run.recorder.variation("skipped_lock_file" if "~" in relative else "skipped_dot_file", relative)
    link = run.out / "towns" / "快捷方式-进度表.xlsx"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(sample_path, link.parent))
    os.utime(link, (base.timestamp(), base.timestamp()), follow_symlinks=False)
    run.recorder.variation("skipped_symlink", "towns/快捷方式-进度表.xlsx")
    # a workbook whose file name is GB18030, not UTF-8: the loader decodes it
    gb_name = f"{towns[3 % len(towns)].name}_说明材料.xlsx"
    raw = os.fsencode(run.out / "towns") + b"/" + gb_name.encode("gb18030")
    with open(raw, "wb") as handle:
        handle.write(xlsx_bytes([Sheet("说明", [["填表说明"]])]))
    os.utime(raw, (base.timestamp(), base.timestamp()))
    run.add_file(f"towns/{gb_name}", xlsx_bytes([Sheet("说明", [["填表说明"]])]), base, "town_workbook",
                 "rejected", "no_known_sheet", town_code=None, am=None)
    run.recorder.variation("file_name_gb18030", f"towns/{gb_name}")
    run.recorder.finding("DQ09", None, None, f"towns/{gb_name}")
    if run.clean:
        run.files = [f for f in run.files if f["relative_path"] != f"towns/{gb_name}"]
        run.recorder.findings = [f for f in run.recorder.findings if f["source_file"] != f"towns/{gb_name}"]
        os.remove(raw)
        return
    t0, t1, t2 = towns[0], towns[4 % len(towns)], towns[7 % len(towns)]
    label = lambda am: f"{am // 12}年{am % 12 + 1:02d}月"  # noqa: E731
    am_a, am_b = months[min(3, len(months) - 1)], months[min(8, len(months) - 1)]
    encrypted = _encrypt(sample, run.seed)
    bogus: list[tuple[str, bytes, str]] = [
        (f"towns/{t1.name}_{label(am_a)}_农村养老服务全覆盖进度表(1).xlsx", b"", "zero_bytes"),
        (f"towns/{t2.name}_{label(am_b)}_进度表.xlsx", "这不是一个工作簿\r\n".encode("gb18030") * 20, "not_workbook"),
        (f"towns/{t0.name}_{label(am_b)}_进度表（加密）.xlsx", encrypted, "encrypted"),
        (f"towns/{t2.name}_{label(am_a)}_进度表（损坏）.xlsx", sample[: len(sample) // 2], "corrupt"),
        (f"towns/农村养老服务全覆盖进度表_{label(am_a)}.xlsx",
         xlsx_bytes([Sheet("机构设施", [["设施名称", "设施类型", "建设状态"], ["某某敬老院", "敬老院", "已运营"]])]),
         "town_unresolved"),
        (f"towns/{t1.name}_农村养老服务全覆盖进度表.xlsx",
         xlsx_bytes([Sheet("机构设施", [["设施名称", "设施类型", "建设状态"], [f"{t1.short}敬老院", "敬老院", "已运营"]])]),
         "month_unresolved"),
        (f"towns/{t2.name}_{label(am_b)}_农村养老服务全覆盖进度表（终版）.xlsx",
         xlsx_bytes([Sheet("机构设施", [[f"填报单位：{t0.name}", None, f"报表月份：{am_b // 12}年{am_b % 12 + 1}月"],
                                        ["设施名称", "设施类型", "建设状态"], ["某某敬老院", "敬老院", "已运营"]])]),
         "cover_conflict"),
        (f"towns/{t0.name}_{label(am_a)}_汇总.xlsx",
         xlsx_bytes([Sheet("Sheet1", [["序号", "事项", "完成情况"], [1, "互助点建设", "推进中"]]), Sheet("说明", [])]),
         "no_known_sheet"),
        ("registries/名册导出_20220301.csv", "姓名,公民身份号码\r\n".encode("gb18030"), "bad_registry_name"),
        ("registries/特困人员名册.csv", "姓名,公民身份号码\r\n".encode("gb18030"), "bad_registry_name"),
    ]
    for i, (relative, data, reason) in enumerate(bogus):
        mtime = base + dt.timedelta(hours=i)
        run.write(relative, data, mtime)
        kind = "registry" if relative.startswith("registries/") else "town_workbook"
        run.add_file(relative, data, mtime, kind if reason != "bad_registry_name" else "unknown", "rejected", reason)
        run.recorder.finding("DQ09", None, None, relative)
        run.recorder.variation(f"rejected_{reason}", relative)


def _encrypt(data: bytes, seed: int) -> bytes:
    """Password-protected OOXML, with msoffcrypto's random salts drawn from the seed (same bytes every run)."""
    import io
    from unittest import mock

    import msoffcrypto.format.ooxml as ooxml
    import msoffcrypto.method.container.ecma376_encrypted as container
    import msoffcrypto.method.ecma376_agile as agile

    class FixedClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2022, 1, 1)

    rng = random.Random(f"{seed}:encrypt")
    out = io.BytesIO()
    with mock.patch.object(agile, "_random_buffer", lambda size: rng.randbytes(size)), \
            mock.patch.object(container, "datetime", FixedClock):
        ooxml.OOXMLFile(io.BytesIO(data)).encrypt("123456", out)
    return out.getvalue()
