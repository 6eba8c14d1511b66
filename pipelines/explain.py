"""`ruralcare explain`: why a town's KPI has its value, member by member.

Reads marts.kpi_members of the published (de-identified) database: every village, facility,
project, payment or person behind the KPI's numerator and denominator, with the workbook (or
registry export), sheet and row that decides it. Persons appear only counted by village.
The parsers are pure: they take the text a user typed and the valid choices.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.report.fmt import fmt_count, fmt_value, short_town


@dataclass(frozen=True)
class KpiChoice:
    kpi_id: str  # K10_village_coverage
    kpi_no: int
    name_zh: str
    unit: str | None = None


@dataclass(frozen=True)
class Town:
    """A town of the plan, as a user names it (and as the status lists it)."""

    town_code: str
    town_name: str


_KPI_NUMBER = re.compile(r"(?i)k?0*(\d{1,2})")


def parse_kpi(text: str, choices: list[KpiChoice]) -> KpiChoice:
    """A KPI from its id (K10, k10, K10_village_coverage), number (10) or Chinese name, whole or a
    part that names one KPI only (村级互助养老服务覆盖率, 互助养老服务覆盖)."""
    typed = text.strip()
    number = _KPI_NUMBER.fullmatch(typed)
    found = [c for c in choices if (number and c.kpi_no == int(number.group(1)))
             or c.kpi_id.lower() == typed.lower() or c.name_zh == typed]
    if not found and typed and not typed.isascii():
        found = [c for c in choices if typed in c.name_zh]
    if len(found) == 1:
        return found[0]
    listed = "; ".join(f"{c.kpi_id} {c.name_zh}" for c in (found or choices))
    if found:
        raise ValueError(f"KPI {text!r} matches {len(found)} KPIs: {listed}. Give its id, e.g. {found[0].kpi_id.split('_')[0]}.")
    raise ValueError(f"no KPI {text!r}; give an id (K10), a number (10) or a Chinese name. KPIs: {listed}")


def parse_town(text: str, choices: list[Town]) -> Town:
    """A town from its code (500112129) or name, with or without 镇/街道 (玉峰山镇, 玉峰山)."""
    typed = text.strip()
    found = [c for c in choices if typed in (c.town_code, c.town_name, short_town(c.town_name))]
    if len(found) == 1:
        return found[0]
    listed = "、".join(f"{c.town_name}（{c.town_code}）" for c in choices)
    raise ValueError(f"no town {text!r} among the towns of the plan; give a code or a name: {listed}")


@dataclass(frozen=True)
class Member:
    kind: str  # village, facility, project, person, payment, row, town
    member_id: str
    name: str | None
    village_name: str | None
    person_group: str | None
    in_numerator: bool
    in_denominator: bool | None
    numerator_value: float | None
    denominator_value: float | None
    reason_zh: str | None
    source: str  # file / sheet / row, or '' when no row says it

    @property
    def label(self) -> str:
        return self.name or self.village_name or self.member_id


@dataclass(frozen=True)
class VillagePersons:
    village_name: str  # '（未对应村）' when the person's village is unknown
    counted: int
    not_counted: int
    groups: str  # the groups that put them in the denominator, with counts


@dataclass(frozen=True)
class Explanation:
    kpi: KpiChoice
    town: Town
    month: date
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None
    status: str | None
    stale: bool
    passing: list[Member] = field(default_factory=list)  # in the numerator
    failing: list[Member] = field(default_factory=list)  # in the denominator (or, for a count, listed) but not the numerator
    outside: list[Member] = field(default_factory=list)  # listed but in neither (e.g. a 社区 row)

    @property
    def has_persons(self) -> bool:
        return any(m.kind == "person" for m in self.passing + self.failing + self.outside)

    def persons_by_village(self) -> list[VillagePersons]:
        """Persons counted per village, villages with the most not counted first."""
        villages: dict[str, dict] = {}
        for member, counted in [(m, True) for m in self.passing] + [(m, False) for m in self.failing]:
            if member.kind != "person":
                continue
            village = villages.setdefault(member.village_name or "（未对应村）",
                                          {"counted": 0, "not_counted": 0, "groups": Counter()})
            village["counted" if counted else "not_counted"] += 1
            if member.person_group:
                village["groups"][member.person_group] += 1
        rows = [VillagePersons(name, v["counted"], v["not_counted"],
                               "、".join(f"{group} {n}" for group, n in v["groups"].most_common()))
                for name, v in villages.items()]
        return sorted(rows, key=lambda r: (-r.not_counted, -r.counted, r.village_name))


def kpi_choices(con: duckdb.DuckDBPyConnection) -> list[KpiChoice]:
    return [KpiChoice(*row) for row in con.execute(
        "select kpi_id, kpi_no, name_zh, unit from marts.dim_kpi order by kpi_no").fetchall()]


def town_choices(con: duckdb.DuckDBPyConnection) -> list[Town]:
    return [Town(*row) for row in con.execute(
        "select town_code, town_name from marts.dim_town where is_rural_scope order by town_code").fetchall()]


def explain_kpi(published_db: Path, kpi: str, town: str, month: date) -> Explanation:
    """The explanation of one town-level KPI row; ValueError (with the valid choices) for a KPI,
    town or month the published database does not hold."""
    con = duckdb.connect(str(published_db), read_only=True)
    try:
        chosen_kpi = parse_kpi(kpi, kpi_choices(con))
        chosen_town = parse_town(town, town_choices(con))
        row = con.execute("""
            select numerator, denominator, value, target, status, stale from marts.kpi_town_monthly
            where kpi_id = ? and town_code = ? and month = ?""",
            [chosen_kpi.kpi_id, chosen_town.town_code, month]).fetchone()
        if row is None:
            first, last = con.execute("select min(month), max(month) from marts.kpi_town_monthly").fetchone()
            raise ValueError(f"no {chosen_kpi.kpi_id} row for {chosen_town.town_name} in {month:%Y-%m}; "
                             f"the published months are {first:%Y-%m} to {last:%Y-%m}")
        members = [Member(kind, member_id, name, village, group, bool(in_num), in_den, num, den, reason,
                          " / ".join(str(part) for part in (file, sheet, row_no and f"row {row_no}") if part))
                   for kind, member_id, name, village, group, in_num, in_den, num, den, reason, file, sheet, row_no
                   in con.execute("""
            select member_kind, member_id, member_name, village_name, person_group, in_numerator,
                   in_denominator, numerator_value, denominator_value, reason_zh,
                   source_file, source_sheet, source_row
            from marts.kpi_members where kpi_id = ? and town_code = ? and month = ?
            order by village_code nulls last, member_kind, member_id""",
            [chosen_kpi.kpi_id, chosen_town.town_code, month]).fetchall()]
    finally:
        con.close()
    numerator, denominator, value, target, status, stale = row
    counts_denominator = denominator is not None
    return Explanation(
        kpi=chosen_kpi, town=chosen_town, month=month, numerator=numerator, denominator=denominator,
        value=value, target=target, status=status, stale=bool(stale),
        passing=[m for m in members if m.in_numerator],
        failing=[m for m in members if not m.in_numerator and (m.in_denominator or not counts_denominator)],
        outside=[m for m in members if not m.in_numerator and counts_denominator and not m.in_denominator],
    )


# The registry KPIs whose members would be every older person of the town, month by month
# (millions of rows): kpi_members leaves them out, and the person fact answers instead.
PERSON_FACT_KPIS = {
    "K20_family_doctor_contract_rate": "numerator has_family_doctor_contract, denominator in_elderly_database",
    "K21_elderly_database_completeness": "every elderly-database record of the town (the working database's "
                                         "registry rows; the person fact holds one row per person)",
    "K22_smart_device_coverage": "numerator has_smart_device, denominator is_device_group",
}


def render_explanation(explanation: Explanation, console) -> None:
    """The explanation in the terminal (a rich Console)."""
    from rich.markup import escape
    from rich.table import Table

    e = explanation
    unit = e.kpi.unit
    ratio = f"{fmt_count(e.numerator)} / {fmt_count(e.denominator)}" if e.denominator is not None else fmt_count(e.numerator)
    target = f", target {fmt_value(e.target, unit)}" if e.target is not None else ""
    console.print(f"[bold]{escape(f'{e.kpi.kpi_id} {e.kpi.name_zh}')}[/] — {escape(e.town.town_name)} "
                  f"({e.town.town_code}), {e.month:%Y-%m}")
    console.print(f"  value {fmt_value(e.value, unit)} = {ratio}{target}; status {e.status or '—'}"
                  + ("; [yellow]stale[/] (carried forward from an earlier workbook)" if e.stale else ""))
    if e.has_persons:
        table = Table(title="Persons by village (person keys only; names and IDs stay in the working database)",
                      title_justify="left")
        for column in ("village", "not counted", "counted", "groups"):
            table.add_column(column, justify="right" if "counted" in column else "left")
        for village in e.persons_by_village():
            table.add_row(escape(village.village_name), str(village.not_counted), str(village.counted),
                          escape(village.groups))
        console.print(table)
    for title, members in ((f"Failing: not in the numerator ({len(e.failing)})", e.failing),
                           (f"Passing: in the numerator ({len(e.passing)})", e.passing),
                           (f"Listed, in neither numerator nor denominator ({len(e.outside)})", e.outside)):
        shown = [m for m in members if m.kind != "person"]
        if not shown:
            continue
        # A village's own village is itself: the column only for members that belong to one.
        with_village = any(m.village_name not in (None, m.label) for m in shown)
        table = Table(title=title, title_justify="left")
        table.add_column("member", overflow="fold")
        if with_village:
            table.add_column("village")
        table.add_column("counts", justify="right")
        table.add_column("reason", overflow="fold")
        table.add_column("source (file / sheet / row)", overflow="fold")
        for member in shown:
            village = [member.village_name if member.village_name != member.label else ""] if with_village else []
            table.add_row(*(escape(cell or "") for cell in (member.label, *village, _contribution(member),
                                                             member.reason_zh, member.source)))
        console.print(table)
    if not (e.passing or e.failing or e.outside) and e.kpi.kpi_id in PERSON_FACT_KPIS:
        console.print(f"  {e.kpi.kpi_id} counts every older person of the town's registries: its members are "
                      "not listed in marts.kpi_members but are the rows of marts.fct_person_monthly "
                      f"(person_key, village): {PERSON_FACT_KPIS[e.kpi.kpi_id]}.")
    elif not (e.passing or e.failing or e.outside):
        console.print("  No members recorded for this row.")


def _contribution(member: Member) -> str:
    """numerator/denominator contribution: 1/1, 0/1, or amounts for sums (元)."""
    numerator = fmt_count(member.numerator_value)
    return numerator if member.denominator_value is None else f"{numerator}/{fmt_count(member.denominator_value)}"

