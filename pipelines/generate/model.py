"""The canonical model of the programme over time: built first, rendered second.

Everything is a function of the seed. Months are handled as absolute month numbers
(`year * 12 + month - 1`). Each `*_rows(town, am)` method returns the town's ledger as of
that month's end as dicts keyed by the field names of `sources/contract/sheets.yaml`,
holding the true (parsed) values.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import random
from dataclasses import dataclass, field
from pathlib import Path

from .divisions import Town, Village
from .ids import make_id, make_name, make_phone


def am_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


@functools.lru_cache(maxsize=None)
def month_start(am: int) -> dt.date:
    return dt.date(am // 12, am % 12 + 1, 1)


@functools.lru_cache(maxsize=None)
def month_end(am: int) -> dt.date:
    year, month = am // 12, am % 12 + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@functools.lru_cache(maxsize=None)
def day_in(am: int, day: int) -> dt.date:
    return month_start(am).replace(day=min(day, month_end(am).day))


def parse_months(spec: str) -> list[int]:
    start, _, end = spec.partition("..")
    first = am_of(dt.date.fromisoformat(start.strip() + "-01"))
    last = am_of(dt.date.fromisoformat((end or start).strip() + "-01"))
    if last < first:
        raise ValueError(f"empty month range: {spec}")
    return list(range(first, last + 1))


def build_status(am: int, start_am: int, built_am: int, operating_am: int) -> str:
    """A facility's or point's 建设状态 in month `am`, from the months its stages begin."""
    if am >= operating_am:
        return "已运营"
    if am >= built_am:
        return "已建成"
    if am >= start_am:
        return "在建"
    return "未开工"


def age_at(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


NEVER = 10**9

# ------------------------------------------------------------------------------ facilities


@dataclass
class Project:
    project_id: str
    town_code: str
    name: str
    facility_type: str
    build_mode: str
    host: str
    min_area: float | None
    due_am: int | None
    merge_into: str


@dataclass
class Facility:
    project: Project
    start_am: int
    built_am: int
    operating_am: int
    closed_am: int  # 撤并 homes: 已撤并 from here
    start_date: dt.date | None
    completion_date: dt.date | None
    area: float
    beds: int | None
    nursing_beds: int | None
    operation_mode: str
    operator: str | None
    legal: bool
    filed: bool
    clinic: bool
    other_residents: int  # residents who are not 集中供养特困

    def status(self, am: int) -> str:
        if am >= self.closed_am:
            return "已撤并"
        return build_status(am, self.start_am, self.built_am, self.operating_am)


def load_projects(seeds_dir: Path) -> list[Project]:
    with (seeds_dir / "plan_projects.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Project(
            r["project_id"], r["town_code"], r["facility_name"], r["facility_type"], r["build_mode"],
            r["host_facility"], float(r["min_area_m2"]) if r["min_area_m2"] else None,
            am_of(dt.date.fromisoformat(r["due_date"])) if r["due_date"] else None, r["merge_into"],
        )
        for r in rows
    ]


def load_point_targets(seeds_dir: Path) -> dict[str, list[tuple[int, int]]]:
    """K09 milestones per town: [(due am, points)] in date order."""
    targets: dict[str, list[tuple[int, int]]] = {}
    with (seeds_dir / "plan_targets.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["kpi_id"].startswith("K09") and len(r["scope_code"]) == 9:
                targets.setdefault(r["scope_code"], []).append(
                    (am_of(dt.date.fromisoformat(r["due_date"])), int(float(r["target_value"])))
                )
    return {code: sorted(v) for code, v in targets.items()}


OPERATORS = ("重庆市渝北区康宁养老服务有限公司", "重庆福寿康养老服务中心", "重庆颐和养老服务有限公司",
             "渝北区夕阳红养老服务中心", "重庆乐龄社会工作服务中心", "重庆佳禾养老产业发展有限公司")

# ------------------------------------------------------------------------------ villages


SETUP_OWN = "单独设立"
SETUP_PUBLIC = "依托公共资源"
SETUP_MERGED = "合并设置"
SETUP_MERGED_AWAY = "不设立（拟撤并）"
SETUP_CENTRE = "不设立（镇中心所在村）"


@dataclass
class Point:
    village: Village
    setup_mode: str
    merge_into: Village | None
    start_am: int = NEVER
    built_am: int = NEVER
    operating_am: int = NEVER
    completion_day: int = 15
    area: float | None = None
    assistants: int = 1
    subsidy: float | None = None
    meal_from_am: int = NEVER
    association_am: int = NEVER
    team_am: int = NEVER
    teams: int = 1
    assistant_am: int = NEVER  # villages without an own point: assistant appointed from here
    sub_point: "SubPoint | None" = None

    @property
    def has_point(self) -> bool:
        return self.setup_mode in (SETUP_OWN, SETUP_PUBLIC)

    @property
    def point_name(self) -> str:
        return f"{self.village.short}互助养老点"

    def status(self, am: int) -> str:
        return build_status(am, self.start_am, self.built_am, self.operating_am)


@dataclass
class SubPoint:
    name: str
    built_am: int
    completion_day: int
    area: float
    assistants: int
    subsidy: float

# ------------------------------------------------------------------------------ people

LIVING = ("独居", "空巢", "与子女同住", "其他")
OLD_REGION_CODES = ("500221", "510222", "512222", "510212")


@dataclass(slots=True)
class Person:
    id_number: str
    name: str
    gender: str
    birth: dt.date
    town: Town
    village: Village
    living: str
    left_behind: bool
    ability: int
    family_planning: bool
    phone: str | None
    death_am: int
    device_am: int
    doctor_signed: dt.date | None
    doctor_status: str
    doctor_end_am: int
    doctor_institution: str
    # registry memberships
    tekun: "Tekun | None" = None
    dibao: "Dibao | None" = None
    in_elderly_db: bool = True
    pairing_am: int = NEVER
    pairing_day: int = 1
    grid_one_to_one: bool = False
    helper: tuple[str, str] = ("", "")
    visit_bias: float = 0.0
    pairing_other: bool = False

    def alive(self, am: int) -> bool:
        return am < self.death_am

    def age_at_end(self, am: int) -> int:
        # at a month's last day this month's birthday has passed (but 29 February only in leap years)
        age = (am - self.birth.year * 12 - self.birth.month + 1) // 12
        if self.birth.month == 2 and self.birth.day == 29 and am % 12 == 1 and not calendar.isleap(am // 12):
            age -= 1
        return age


@dataclass(slots=True)
class Tekun:
    institution_by_am: dict[int, str | None]  # sparse: change points
    self_care: str
    allowance: float
    end_am: int

    def institution(self, am: int) -> str | None:
        current = None
        for change_am, home in sorted(self.institution_by_am.items()):
            if change_am > am:
                break
            current = home
        return current


@dataclass(slots=True)
class Dibao:
    category: str
    start_am: int
    end_am: int
    end_status: str


@dataclass
class Training:
    town_code: str
    name: str
    id_number: str
    category: str
    date: dt.date
    institution: str
    hours: float
    certified: bool
    certificate_no: str | None


@dataclass
class Payment:
    town_code: str
    project_name: str
    fund_type: str
    amount_yuan: float
    paid_date: dt.date


@dataclass
class Programme:
    seed: int
    months: list[int]
    towns: list[Town]
    pace: dict[str, int]
    facilities: dict[str, list[Facility]]
    points: dict[str, list[Point]]
    community_rows: dict[str, list[Village]]
    people: list[Person]
    young_tekun: list[Person]
    trainings: list[Training]
    payments: list[Payment]
    elderly_exports: list[dt.date]
    monthly_exports: list[dt.date]
    people_by_town: dict[str, list[Person]] = field(default_factory=dict)
    pairing_candidates: dict[str, list[Person]] = field(default_factory=dict)

    # ---------------------------------------------------------------- group logic

    def tekun_active(self, person: Person, am: int) -> bool:
        return person.tekun is not None and am < person.tekun.end_am and person.alive(am)

    def dibao_active(self, person: Person, am: int) -> bool:
        d = person.dibao
        return d is not None and d.start_am <= am < d.end_am

    def is_key(self, person: Person, am: int) -> bool:
        if person.age_at_end(am) < 60:
            return False
        dispersed = self.tekun_active(person, am) and person.tekun.institution(am) is None
        return dispersed or self.dibao_active(person, am) or (person.family_planning and person.ability >= 1)

    def is_grid(self, person: Person, am: int) -> bool:
        if person.age_at_end(am) < 60 or self.is_key(person, am):
            return False
        return person.age_at_end(am) >= 80 or person.living == "独居" or person.left_behind

    def elderly_export_for(self, am: int) -> dt.date | None:
        cache = self.__dict__.setdefault("_elderly_export_by_am", {})
        if am not in cache:
            valid = [d for d in self.elderly_exports if d <= month_end(am)]
            cache[am] = max(valid) if valid else None
        return cache[am]

    def in_elderly_export(self, person: Person, export: dt.date) -> bool:
        return (person.in_elderly_db and age_at(person.birth, export) >= 60
                and person.alive(am_of(export)))

    def pairable(self, person: Person, am: int) -> bool:
        """A town lists a person only when every registry agrees (no DQ03/05/07 in clean data)."""
        if not person.alive(am) or person.age_at_end(am) < 60:
            return False
        export = self.elderly_export_for(am)
        if export is None or not self.in_elderly_export(person, export):
            return False
        if person.tekun is not None and am >= person.tekun.end_am:
            return False
        if person.dibao is not None and person.dibao.start_am <= am and am >= person.dibao.end_am:
            return False
        return True

    def categories(self, person: Person, am: int) -> list[str]:
        cats = []
        if self.tekun_active(person, am):
            cats.append("特困")
        if self.dibao_active(person, am):
            cats.append(person.dibao.category)
        if person.family_planning:
            cats.append("计生特殊")
        if person.age_at_end(am) >= 80:
            cats.append("高龄")
        if person.living in ("独居", "空巢"):
            cats.append(person.living)
        if person.left_behind:
            cats.append("留守")
        return cats or ["其他"]

    # ---------------------------------------------------------------- ledgers

    def facility_rows(self, town: Town, am: int) -> list[dict]:
        rows = []
        for f in self.facilities[town.code]:
            status = f.status(am)
            p = f.project
            built = status in ("已建成", "已运营")
            started = status != "未开工"
            operating = status == "已运营"
            tekun = self.tekun_count(p.name, am) if operating else 0
            has_beds = f.beds is not None and (built or status == "已撤并")
            rows.append({
                "facility_name": p.name,
                "facility_type": p.facility_type,
                "build_mode": p.build_mode,
                "host_facility": p.host or None,
                "build_status": status,
                "area_m2": f.area if (built or status == "已撤并") else None,
                "beds": f.beds if has_beds else None,
                "nursing_beds": f.nursing_beds if has_beds else None,
                "residents": (tekun + f.other_residents) if operating and f.beds is not None else (0 if status == "已撤并" else None),
                "tekun_residents": tekun if operating and f.beds is not None else (0 if status == "已撤并" else None),
                "operation_mode": f.operation_mode if built or status == "已撤并" else None,
                "operator": f.operator if built else None,
                "legal_person_registered": f.legal if operating else None,
                "filed": f.filed if operating else None,
                "has_clinic": f.clinic if operating else None,
                "start_date": f.start_date if started else None,
                "completion_date": f.completion_date if (built or status == "已撤并") else None,
                "remarks": ("已撤并，人员并入" + p.merge_into) if status == "已撤并" else None,
            })
        return rows

    def tekun_count(self, facility_name: str, am: int) -> int:
        return self._tekun_counts.get((facility_name, am), 0)

    def index_tekun(self) -> None:
        counts: dict[tuple[str, int], int] = {}
        for person in self.people + self.young_tekun:
            if person.tekun is None:
                continue
            for am in self.months:
                if self.tekun_active(person, am):
                    home = person.tekun.institution(am)
                    if home:
                        counts[(home, am)] = counts.get((home, am), 0) + 1
        self._tekun_counts = counts

    def village_rows(self, town: Town, am: int) -> list[dict]:
        rows = []
        for point in self.points[town.code]:
            status = point.status(am) if point.has_point else None
            built = status in ("已建成", "已运营")
            assistants = point.assistants if built else (1 if am >= point.assistant_am else 0)
            rows.append({
                "village_name": point.village.short,
                "setup_mode": point.setup_mode,
                "merge_into": point.merge_into.short if point.merge_into else None,
                "point_name": point.point_name if point.has_point else None,
                "is_sub_point": False,
                "build_status": status,
                "area_m2": point.area if built else None,
                "assistants": assistants,
                "has_elderly_association": am >= point.association_am,
                "volunteer_teams": point.teams if am >= point.team_am else 0,
                "meal_service": am >= point.meal_from_am if point.has_point else None,
                "completion_date": day_in(point.built_am, point.completion_day) if built else None,
                "equipment_subsidy_yuan": point.subsidy if built else None,
                "remarks": None,
                "_village": point.village,
                "_merge_village": point.merge_into,
            })
            sub = point.sub_point
            if sub is not None and am >= sub.built_am:
                rows.append({
                    "village_name": point.village.short,
                    "setup_mode": point.setup_mode,
                    "merge_into": None,
                    "point_name": sub.name,
                    "is_sub_point": True,
                    "build_status": "已运营" if am > sub.built_am else "已建成",
                    "area_m2": sub.area,
                    "assistants": sub.assistants,
                    "has_elderly_association": None,
                    "volunteer_teams": None,
                    "meal_service": False,
                    "completion_date": day_in(sub.built_am, sub.completion_day),
                    "equipment_subsidy_yuan": sub.subsidy,
                    "remarks": "分点",
                    "_village": point.village,
                    "_merge_village": None,
                })
        for community in self.community_rows[town.code]:
            rows.append({
                "village_name": community.short, "setup_mode": SETUP_PUBLIC, "merge_into": None,
                "point_name": f"{community.short}养老服务站", "is_sub_point": False, "build_status": "已运营",
                "area_m2": 150.0, "assistants": 1, "has_elderly_association": True, "volunteer_teams": 1,
                "meal_service": True, "completion_date": dt.date(2020, 12, 31), "equipment_subsidy_yuan": None,
                "remarks": "社区养老服务站", "_village": community, "_merge_village": None,
            })
        return rows

    def pairing_people(self, town: Town, am: int) -> list[Person]:
        """Paired persons still in a group (key, grid, or listed as 其他) and listable this month."""
        return [person for person, _ in self._paired_with_key_flag(town, am)]

    def _paired_with_key_flag(self, town: Town, am: int) -> list[tuple[Person, bool]]:
        out = []
        for person in self.pairing_candidates[town.code]:
            if person.pairing_am > am or not self.pairable(person, am):
                continue
            key = self.is_key(person, am)  # pairable: aged 60+, so is_grid reduces to the test below
            if key or person.pairing_other or (person.age_at_end(am) >= 80 or person.living == "独居"
                                                or person.left_behind):
                out.append((person, key))
        return out

    def pairing_rows(self, town: Town, am: int) -> list[dict]:
        rows = []
        for person, key in self._paired_with_key_flag(town, am):
            draw = (int(person.id_number[:17]) * 7919 + am * 104729) % 1000003 / 1000003
            visits = (1, 1, 2, 2, 3, 4)[int(draw * 6)] if key else (0, 1, 1, 2)[int(draw * 4)]
            if key and (draw * 977) % 1 < person.visit_bias:
                visits = 0
            rows.append({
                "elder_name": person.name,
                "id_number": person.id_number,
                "village_name": person.village.short,
                "categories": self.categories(person, am),
                "pairing_mode": "一对一" if key or person.grid_one_to_one else "网格化",
                "helper_name": person.helper[0],
                "helper_phone": person.helper[1],
                "pairing_date": day_in(person.pairing_am, person.pairing_day),
                "visits_this_month": visits,
                "_person": person,
                "_village": person.village,
            })
        return rows

    def training_rows(self, town: Town, am: int) -> list[dict]:
        end = month_end(am)
        return [
            {"trainee_name": t.name, "id_number": t.id_number, "training_category": t.category,
             "training_date": t.date, "training_institution": t.institution, "hours": t.hours,
             "certified": t.certified, "certificate_no": t.certificate_no}
            for t in self._of_town("trainings", self.trainings, town) if t.date <= end
        ]

    def fund_rows(self, town: Town, am: int) -> list[dict]:
        end = month_end(am)
        return [
            {"project_name": p.project_name, "fund_type": p.fund_type, "amount_yuan": p.amount_yuan,
             "paid_date": p.paid_date}
            for p in self._of_town("payments", self.payments, town) if p.paid_date <= end
        ]

    def _of_town(self, name: str, items: list, town: Town) -> list:
        """The town's items of the list called `name` (its trainings, its payments), in order."""
        return [item for item in items if item.town_code == town.code]


# ============================================================================== building


def build_programme(seed: int, months: list[int], towns: list[Town], seeds_dir: Path,
                    people_total: int = 80_000, projects: list[Project] | None = None,
                    point_targets: dict[str, list[tuple[int, int]]] | None = None) -> Programme:
    """The programme; `projects`/`point_targets` replace the plan seeds (synthetic city towns)."""
    rng = random.Random(f"{seed}:programme")
    paces = [-2, -1, -1, 0, 0, 0, 1, 2, 3, 5, 7]
    while len(paces) < len(towns):
        paces.append(rng.choice(paces))
    rng.shuffle(paces)
    pace = {t.code: paces[i] for i, t in enumerate(towns)}
    projects = load_projects(seeds_dir) if projects is None else projects
    facilities = _build_facilities(rng, towns, projects, pace, months)
    point_targets = load_point_targets(seeds_dir) if point_targets is None else point_targets
    points, community_rows = _build_points(rng, towns, point_targets, pace, months)
    elderly_exports, monthly_exports = _export_dates(months)
    prog = Programme(seed, months, towns, pace, facilities, points, community_rows, [], [], [], [],
                     elderly_exports, monthly_exports)
    _build_people(prog, rng, people_total)
    prog.trainings = _build_trainings(rng, towns, pace, months)
    prog.payments = _build_payments(rng, prog)
    prog.index_tekun()
    return prog


def _export_dates(months: list[int]) -> tuple[list[dt.date], list[dt.date]]:
    quarterly = [am for i, am in enumerate(months) if i % 6 == 0]
    if months[-1] not in quarterly:
        quarterly.append(months[-1])
    elderly = [month_end(am) - dt.timedelta(days=(am * 7) % 4) for am in quarterly]
    monthly = [month_end(am) - dt.timedelta(days=(am * 5) % 3) for am in months]
    return elderly, monthly


def _build_facilities(rng: random.Random, towns: list[Town], projects: list[Project],
                      pace: dict[str, int], months: list[int]) -> dict[str, list[Facility]]:
    first = months[0]
    by_town: dict[str, list[Facility]] = {t.code: [] for t in towns}
    by_name: dict[str, Facility] = {}
    ordered = sorted(projects, key=lambda p: ("HCJNUM".index(p.project_id[0]), p.project_id))
    for p in ordered:
        if p.town_code not in by_town:
            continue
        shift = pace[p.town_code]
        if p.build_mode == "现有":
            start_am, built_am, operating_am = first - 200, first - 190, first - 189
        elif p.build_mode == "撤并":
            start_am, built_am, operating_am = first - 240, first - 230, first - 229
        elif p.facility_type == "失能特困人员集中照护中心":
            centre = by_name[p.host]
            start_am, built_am, operating_am = centre.start_am, centre.built_am, centre.operating_am
        else:
            # new homes open ahead of their due date so the 撤并 homes can close within the plan
            lead = 4 if (p.build_mode == "新建" and p.facility_type == "敬老院") else 0
            built_am = p.due_am - lead + shift + rng.choice((-1, 0, 0, 1))
            duration = rng.randint(9, 14) if p.build_mode == "新建" else rng.randint(4, 7)
            start_am = built_am - duration
            operating_am = built_am + rng.choice((1, 1, 2))
        legacy = p.build_mode in ("现有", "撤并")
        start_date = day_in(start_am, rng.randint(3, 26))
        completion_date = day_in(built_am, rng.randint(5, 28))
        if p.facility_type == "镇养老服务中心":
            low = p.min_area or 800
            area = float(rng.randrange(int(low) + 20, int(low * 1.6), 10))
            beds = rng.randrange(10, 31, 2)
            nursing = rng.randrange(0, beds // 2)
            mode = rng.choice(("委托运营", "公建民营", "委托运营")) if shift < 5 else "公办公营"
            operator = rng.choice(OPERATORS) if mode != "公办公营" else None
            other = rng.randint(0, beds // 2)
        elif p.facility_type == "失能特困人员集中照护中心":
            area = float(rng.randrange(600, 1200, 10))
            beds = rng.randrange(40, 81, 2)
            share = 0.85 if p.project_id == "J01" else 0.75
            nursing = round(beds * share)
            mode, operator, other = "委托运营", rng.choice(OPERATORS), 0
        else:
            area = float(rng.randrange(1500, 4200, 10)) if not legacy else float(rng.randrange(700, 1600, 10))
            beds = rng.randrange(80, 161, 2) if not legacy else rng.randrange(40, 91, 2)
            nursing = rng.randrange(beds // 5, beds // 2)
            if p.build_mode == "撤并":
                mode = "公办公营"
            elif p.build_mode == "现有":
                mode = rng.choice(("公办公营", "公建民营", "委托运营"))
            else:
                mode = rng.choice(("公建民营", "委托运营", "公建民营", "公办公营"))
            operator = rng.choice(OPERATORS) if mode in ("公建民营", "委托运营") else p.name
            other = rng.randint(2, 12)
        facility = Facility(
            p, start_am, built_am, operating_am, NEVER,
            start_date if not legacy or rng.random() < 0.5 else None, completion_date,
            area, beds, nursing, mode, operator,
            legal=rng.random() < 0.92, filed=rng.random() < 0.9, clinic=rng.random() < 0.55,
            other_residents=other,
        )
        by_town[p.town_code].append(facility)
        by_name[p.name] = facility
    for facility in by_name.values():
        p = facility.project
        if p.build_mode == "撤并" and p.merge_into in by_name:
            facility.closed_am = by_name[p.merge_into].operating_am
    return by_town


def _build_points(rng: random.Random, towns: list[Town], targets: dict[str, list[tuple[int, int]]],
                  pace: dict[str, int], months: list[int]) -> tuple[dict[str, list[Point]], dict[str, list[Village]]]:
    points: dict[str, list[Point]] = {}
    communities: dict[str, list[Village]] = {}
    for town in towns:
        villages = list(town.villages)
        milestones = targets.get(town.code, [(months[-1], max(1, len(villages) * 3 // 5))])
        goal = milestones[-1][1]
        shift = pace[town.code]
        # ahead towns plan one extra point where villages allow, far-behind towns one fewer
        planned = goal + (1 if shift < 0 and goal < len(villages) - 2 else 0) - (1 if shift >= 5 else 0)
        planned = max(1, min(planned, len(villages) - 1))
        order = villages[:]
        rng.shuffle(order)
        centre_village = order[0]
        own = order[1: 1 + planned]
        rest = order[1 + planned:]
        merged_away = rest[:1] if len(rest) >= 3 else []
        town_points: list[Point] = []
        own_codes = {v.code for v in own}
        for v in villages:
            if v is centre_village:
                point = Point(v, SETUP_CENTRE, None)
            elif v.code in own_codes:
                point = Point(v, SETUP_OWN if rng.random() < 0.7 else SETUP_PUBLIC, None)
            elif any(v is m for m in merged_away):
                point = Point(v, SETUP_MERGED_AWAY, None)
            else:
                neighbours = sorted(own, key=lambda o: abs(int(o.code) - int(v.code)))
                point = Point(v, SETUP_MERGED, neighbours[0])
            town_points.append(point)
        # build schedule: the first milestone's share by its due date, the rest by the goal
        own_points = [p for p in town_points if p.has_point]
        rng.shuffle(own_points)
        first_due, first_count = milestones[0] if len(milestones) > 1 else (milestones[-1][0] - 12, goal * 3 // 4)
        for i, point in enumerate(own_points):
            if i < first_count:
                built = rng.randint(first_due - 8, first_due) + shift
            else:
                built = rng.randint(first_due + 1, milestones[-1][0]) + shift
            point.built_am = built
            point.start_am = built - rng.randint(2, 4)
            point.operating_am = built + rng.randint(1, 2)
            point.completion_day = rng.randint(3, 27)
            if point.setup_mode == SETUP_OWN:
                point.area = float(rng.randrange(100, 261, 5))
            else:
                point.area = float(rng.randrange(60, 201, 5))
            point.assistants = 0 if rng.random() < (0.08 if shift >= 3 else 0.0) else rng.choice((1, 1, 2, 2, 3))
            point.subsidy = float(rng.randrange(5000, 20001, 500))
            point.meal_from_am = point.operating_am + rng.randint(0, 6) if rng.random() < 0.6 else NEVER
        big = [p for p in own_points if p.setup_mode == SETUP_OWN]
        for point in big[: 1 if len(big) < 6 else 2]:
            sub_built = point.built_am + rng.randint(1, 4)
            point.sub_point = SubPoint(f"{point.village.short}互助养老点（{rng.choice('一二三四五六')}组分点）",
                                       sub_built, rng.randint(3, 27), float(rng.randrange(40, 101, 5)),
                                       1, float(rng.randrange(3000, 10001, 500)))
        for point in town_points:
            base = months[0] + shift
            point.association_am = rng.randint(base - 6, base + 14) if rng.random() < 0.97 else NEVER
            point.team_am = rng.randint(base - 3, base + 15)
            point.teams = rng.choice((1, 1, 1, 2))
            point.assistant_am = rng.randint(base - 2, base + 14)
        points[town.code] = town_points
        communities[town.code] = town.communities[:1] if town.index % 3 == 0 else []
    return points, communities


def _build_people(prog: Programme, rng: random.Random, total: int) -> None:
    first, last = prog.months[0], prog.months[-1]
    end_day = month_end(last)
    homes: dict[str, list[Facility]] = {}
    for town in prog.towns:
        homes[town.code] = [f for f in prog.facilities[town.code]
                            if f.project.facility_type != "镇养老服务中心"]
    # residential units weighted: villages 1.0, communities 0.5
    units: list[Village] = []
    weights: list[float] = []
    for town in prog.towns:
        for v in town.villages:
            units.append(v)
            weights.append(1.0)
        for c in town.communities:
            units.append(c)
            weights.append(0.5)
    town_of = {t.code: t for t in prog.towns}
    age_bands = ((60, 64, 24), (65, 69, 24), (70, 74, 22), (75, 79, 16), (80, 84, 8), (85, 89, 4), (90, 97, 2))
    band_weights = [b[2] for b in age_bands]
    used: set[str] = set()
    people: list[Person] = []
    villages_drawn = rng.choices(range(len(units)), weights=weights, k=total)
    for i in range(total):
        lo, hi, _ = rng.choices(age_bands, weights=band_weights)[0]
        age = rng.randint(lo, hi)
        birth = dt.date(end_day.year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        if age_at(birth, end_day) < 60:
            birth = birth.replace(year=birth.year - 1)
        region = "500112" if rng.random() < 0.88 else rng.choice(OLD_REGION_CODES)
        female = rng.random() < 0.53
        while True:
            seq = rng.randrange(0, 500) * 2 + (0 if female else 1)
            id_number = make_id(region, birth, seq)
            if id_number not in used:
                used.add(id_number)
                break
        village = units[villages_drawn[i]]
        town = town_of[village.town_code]
        living = rng.choices(LIVING, weights=(6, 36, 50, 8))[0]
        signed = None
        if rng.random() < 0.68:
            signed = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange((end_day - dt.date(2019, 1, 1)).days))
        doctor_end = NEVER if rng.random() < 0.9 else am_of(signed or end_day) + rng.randint(6, 30)
        person = Person(
            id_number=id_number, name=make_name(rng), gender="女" if female else "男", birth=birth,
            town=town, village=village, living=living, left_behind=rng.random() < 0.06,
            ability=rng.choices((0, 1, 2, 3, 4), weights=(82, 9, 4, 3, 2))[0],
            family_planning=rng.random() < 0.012, phone=make_phone(rng) if rng.random() < 0.8 else None,
            death_am=rng.randint(first, last + 60) if rng.random() < 0.04 else NEVER,
            device_am=NEVER, doctor_signed=signed, doctor_status="有效", doctor_end_am=doctor_end,
            doctor_institution=f"{town.name}卫生院",
        )
        if doctor_end != NEVER:
            person.doctor_status = rng.choice(("解约", "到期"))
        people.append(person)
    # 特困 (about 3%): 集中供养 in the town's operating homes, the rest 分散供养
    residents_of: dict[str, list[Person]] = {t.code: [] for t in prog.towns}
    for person in people:
        if rng.random() < 0.03:
            person.tekun = Tekun({first - 1000: None},
                                 rng.choices(("具备", "部分丧失", "完全丧失"), weights=(60, 25, 15))[0],
                                 rng.choice((12480.0, 13260.0)), NEVER)
            if person.alive(last) is False or rng.random() < 0.03:
                person.tekun.end_am = min(person.death_am, rng.randint(first + 1, last))
            residents_of[person.town.code].append(person)
    for town in prog.towns:
        _assign_homes(rng, prog, town, homes[town.code], residents_of[town.code])
    # 低保 / 低保边缘 (about 6%)
    for person in people:
        if person.tekun is None and rng.random() < 0.06:
            start = first - 24 if rng.random() < 0.85 else rng.randint(first + 1, last)
            end = NEVER if rng.random() < 0.9 else rng.randint(max(start, first) + 1, last + 3)
            if person.death_am != NEVER:
                end = min(end, person.death_am)
            person.dibao = Dibao(rng.choices(("低保", "低保边缘"), weights=(7, 3))[0], start, end,
                                 "注销" if end == person.death_am else "终止")
    young: list[Person] = []
    for i in range(max(5, total // 400)):
        village = units[rng.randrange(len(units))]
        birth = dt.date(1963, 1, 1) + dt.timedelta(days=rng.randrange(365 * 20))
        id_number = make_id("500112", birth, rng.randrange(1000))
        if id_number in used:
            continue
        used.add(id_number)
        person = Person(id_number, make_name(rng, old=False), rng.choice(("男", "女")), birth,
                        town_of[village.town_code], village, "其他", False, 0, False, None, NEVER, NEVER,
                        None, "有效", NEVER, "", tekun=Tekun({first - 1000: None}, "具备", 12480.0, NEVER),
                        in_elderly_db=False)
        young.append(person)
    prog.people = people
    prog.young_tekun = young
    prog.people_by_town = {t.code: [] for t in prog.towns}
    for person in people:
        prog.people_by_town[person.town.code].append(person)
    _schedule_pairings_and_devices(prog, rng)


def _assign_homes(rng: random.Random, prog: Programme, town: Town, homes: list[Facility],
                  tekun_people: list[Person]) -> None:
    """集中供养 persons live in operating homes; 撤并 homes' residents move to the new home."""
    first = prog.months[0]
    existing = [h for h in homes if h.operating_am <= first and h.project.facility_type == "敬老院"]
    new_homes = [h for h in homes if h.project.build_mode == "新建" and h.project.facility_type == "敬老院"]
    care_centres = [h for h in homes if h.project.facility_type == "失能特困人员集中照护中心"]
    candidates = [p for p in tekun_people if p.age_at_end(prog.months[-1]) >= 60]
    rng.shuffle(candidates)
    cursor = 0
    for home in existing:
        take = min(len(candidates) - cursor, rng.randint(home.beds // 5, home.beds // 3))
        for person in candidates[cursor: cursor + take]:
            changes = {first - 1000: home.project.name}
            if home.closed_am != NEVER:
                changes[home.closed_am] = home.project.merge_into
            person.tekun.institution_by_am = changes
        cursor += take
    for home in new_homes:
        if any(h.project.merge_into == home.project.name for h in homes):
            continue  # filled by the homes merged into it
        take = min(len(candidates) - cursor, rng.randint(home.beds // 6, home.beds // 4))
        for person in candidates[cursor: cursor + take]:
            person.tekun.institution_by_am = {first - 1000: None, home.operating_am: home.project.name}
        cursor += take
    for centre in care_centres:
        disabled = [p for p in candidates[cursor:] if p.tekun.self_care == "完全丧失"]
        for person in disabled[: centre.beds // 3]:
            person.tekun.institution_by_am = {first - 1000: None, centre.operating_am: centre.project.name}
    for home in new_homes:
        # the new home is sized for everyone merged into it (no 在院人数 > 床位数 in clean data)
        incoming = sum(1 for p in candidates if home.project.name in p.tekun.institution_by_am.values())
        if home.beds < incoming + home.other_residents + 10:
            home.beds = incoming + home.other_residents + 10 + (incoming % 7)
            home.nursing_beds = home.beds // 3


def _schedule_pairings_and_devices(prog: Programme, rng: random.Random) -> None:
    first, last = prog.months[0], prog.months[-1]
    span = max(1, last - first)
    helpers: dict[str, list[tuple[str, str]]] = {}
    for town in prog.towns:
        helpers[town.code] = [(make_name(rng, old=False), make_phone(rng)) for _ in range(60)]
    first_listable = _first_listable_ams(prog)
    prog.pairing_candidates = {t.code: [] for t in prog.towns}
    for person in prog.people:
        shift = prog.pace[person.town.code]
        ever_in_group = any(prog.is_key(person, am) or prog.is_grid(person, am)
                            for am in _group_check_months(prog, person))
        person.pairing_other = not ever_in_group and rng.random() < 0.01
        # coverage reached by month index k: 0.35 + 0.65 * k / span, slowed for late towns
        u = rng.random()
        final_share = 1.0 if shift <= 1 else (0.93 if shift <= 3 else 0.8)
        if u < final_share:
            k = int(max(0.0, (u / final_share - 0.35) / 0.65) * span) + max(0, shift // 2)
            person.pairing_am = first + k if first + k <= last else NEVER
        person.pairing_am = max(person.pairing_am, first_listable(person))
        if (ever_in_group or person.pairing_other) and person.pairing_am != NEVER:
            prog.pairing_candidates[person.town.code].append(person)
        person.pairing_day = rng.randint(1, 28)
        person.grid_one_to_one = rng.random() < 0.2
        person.helper = rng.choice(helpers[person.town.code])
        person.visit_bias = 0.02 if shift <= 2 else 0.1
        if rng.random() < (0.85 if shift <= 2 else 0.65):
            person.device_am = first + int(rng.random() * span * 1.1) + shift
        elif rng.random() < 0.03:
            person.device_am = first - 3


def _group_check_months(prog: Programme, person: Person) -> list[int]:
    """Months where group membership can change: grid membership only grows with age."""
    if person.tekun is None and person.dibao is None and not person.family_planning:
        return [prog.months[-1]]
    return prog.months


def _first_listable_ams(prog: Programme):
    """person -> the first month they may be listed: in the elderly export in force, aged 60."""
    exports = [(am, prog.elderly_export_for(am)) for am in prog.months]

    def first_listable(person: Person) -> int:
        for am, export in exports:
            if export is not None and prog.in_elderly_export(person, export) and person.age_at_end(am) >= 60:
                return am
        return NEVER
    return first_listable


TRAINING_INSTITUTIONS = ("重庆城市管理职业学院", "重庆市渝北区职业教育中心", "重庆市养老服务协会培训中心",
                         "渝北区民政局养老护理培训基地")


def _build_trainings(rng: random.Random, towns: list[Town], pace: dict[str, int], months: list[int]) -> list[Training]:
    trainings: list[Training] = []
    used: set[str] = set()
    cert_seq = 0
    for town in towns:
        shift = pace[town.code]
        managers = 9 + (1 if town.index % 3 == 0 else 0) - (2 if shift >= 5 else 0)
        caregivers = 92 + rng.randint(-4, 6) - (20 if shift >= 5 else 0)
        batches = [am for am in months if (am - months[0]) % 3 == town.index % 3] or [months[0]]
        for category, count in (("院长/主管", managers), ("养老护理员", caregivers)):
            people = []
            for _ in range(count):
                birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(365 * 30))
                while True:
                    id_number = make_id("500112", birth, rng.randrange(1000))
                    if id_number not in used:
                        used.add(id_number)
                        break
                people.append((make_name(rng, old=False), id_number))
            for i, (name, id_number) in enumerate(people):
                am = batches[min(len(batches) - 1, i * len(batches) // max(1, count))]
                date = day_in(am, rng.randint(6, 26))
                sessions = [date]
                if rng.random() < 0.12 and am + 3 <= months[-1]:
                    sessions.append(day_in(am + 3, rng.randint(6, 26)))
                for session in sessions:
                    certified = rng.random() < (0.93 if shift <= 3 else 0.8)
                    cert_no = None
                    if certified:
                        cert_seq += 1
                        cert_no = f"YL{session.year}{cert_seq:06d}"
                    trainings.append(Training(town.code, name, id_number, category, session,
                                              rng.choice(TRAINING_INSTITUTIONS),
                                              float(rng.choice((16, 24, 32, 40, 48))) if category == "养老护理员" else float(rng.choice((8, 16, 24))),
                                              certified, cert_no))
    trainings.sort(key=lambda t: (t.town_code, t.date, t.id_number))
    return trainings


def _build_payments(rng: random.Random, prog: Programme) -> list[Payment]:
    payments: list[Payment] = []
    first, last = prog.months[0], prog.months[-1]
    for town in prog.towns:
        for f in prog.facilities[town.code]:
            p = f.project
            if p.facility_type == "镇养老服务中心":
                city_total = rng.choice((800000.0, 1000000.0, 1000000.0, 1200000.0))
                first_part = city_total * 0.6
                payments.append(Payment(town.code, p.name, "市级奖补", first_part, day_in(max(first, f.start_am), 20)))
                payments.append(Payment(town.code, p.name, "市级奖补", city_total - first_part,
                                        day_in(max(first, f.built_am + 1), 18)))
                if p.build_mode == "改建" and p.host.endswith("敬老院"):
                    payments.append(Payment(town.code, p.name, "区级补助", float(rng.randrange(40, 71)) * 10000,
                                            day_in(max(first, f.start_am + 1), 12)))
                    payments.append(Payment(town.code, p.name, "区级补助", float(rng.randrange(10, 31)) * 10000,
                                            day_in(max(first, f.built_am), 25)))
                if p.build_mode == "新建":
                    payments.append(Payment(town.code, p.name, "政府债券", float(rng.randrange(200, 400)) * 10000,
                                            day_in(max(first, f.start_am), 8)))
            if p.facility_type == "敬老院" and p.build_mode != "撤并":
                ratio = rng.uniform(0.17, 0.3)
                for am in prog.months:
                    if f.status(am) != "已运营":
                        continue
                    monthly = round(ratio * 13000 * max(5, f.beds // 4) / 12 / 100) * 100
                    payments.append(Payment(town.code, p.name, "运行经费", float(monthly), day_in(am, 10 + am % 7)))
            if p.build_mode == "新建" and p.facility_type == "敬老院" and f.built_am <= last:
                payments.append(Payment(town.code, p.name, "福彩公益金", float(rng.randrange(20, 60)) * 10000,
                                        day_in(max(first, f.built_am), 16)))
        for point in prog.points[town.code]:
            if point.has_point and point.built_am <= last:
                payments.append(Payment(town.code, point.point_name, "设备购置补助", point.subsidy,
                                        day_in(max(first, point.built_am), 22)))
        if town.index % 4 == 1:
            centre = next(f for f in prog.facilities[town.code] if f.project.facility_type == "镇养老服务中心")
            payments.append(Payment(town.code, centre.project.name, "社会资本", float(rng.randrange(5, 30)) * 10000,
                                    day_in(max(first, centre.built_am), 11)))
    payments.sort(key=lambda p: (p.town_code, p.paid_date, p.project_name, p.fund_type))
    return payments
