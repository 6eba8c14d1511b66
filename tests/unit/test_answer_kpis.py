"""The KPI answer key on small hand-built truth tables; every expected number is worked out by hand from docs/kpis.md."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from pipelines.contract import polars_schema, raw_tables
from pipelines.generate.answer_kpis import compute_answer_kpis

D = dt.date
DAWAN, MUER = "500112135", "500112139"
DISTRICT = "500112"
DAWAN_VILLAGES = ["500112135201", "500112135202", "500112135203", "500112135204"]
DAWAN_COMMUNITY = "500112135001"
MUER_VILLAGES = ["500112139201", "500112139202"]

DIVISIONS = f"""code,name,level,parent_code,urban_rural_code,is_rural_scope
500112002,双龙湖街道,town,500112,,false
500112002201,城中村村民委员会,village,500112002,,false
{DAWAN},大湾镇,town,500112,,true
{DAWAN_COMMUNITY},大湾社区居民委员会,community,{DAWAN},,true
{DAWAN_VILLAGES[0]},一村村民委员会,village,{DAWAN},,true
{DAWAN_VILLAGES[1]},二村村民委员会,village,{DAWAN},,true
{DAWAN_VILLAGES[2]},三村村民委员会,village,{DAWAN},,true
{DAWAN_VILLAGES[3]},四村村民委员会,village,{DAWAN},,true
{MUER},木耳镇,town,500112,,true
{MUER_VILLAGES[0]},甲村村民委员会,village,{MUER},,true
{MUER_VILLAGES[1]},乙村村民委员会,village,{MUER},,true
"""

PLAN = "plan_id,name,start_date,goal_date\nyubei-2021,方案,2021-06-30,2022-12-31\n"

PROJECTS = f"""project_id,town_code,town_name,facility_name,facility_type,build_mode,host_facility,min_area_m2,due_date,merge_into,basis
C11,{DAWAN},大湾镇,大湾镇养老服务中心,镇养老服务中心,改建,大湾敬老院,800,2022-06-30,,t
C05,{MUER},木耳镇,木耳镇养老服务中心,镇养老服务中心,改建,社区用房,800,2021-12-31,,t
N04,{MUER},木耳镇,木耳镇敬老院,敬老院,新建,,,2022-12-31,,t
U01,{DAWAN},大湾镇,红竹敬老院,敬老院,改造升级,,,2022-06-30,,t
M07,{MUER},木耳镇,木耳敬老院,敬老院,撤并,,,2022-12-31,木耳镇敬老院,t
H07,{DAWAN},大湾镇,大湾敬老院,敬老院,现有,,,,,t
"""

TARGETS = f"""kpi_id,scope_code,scope_name,due_date,target_value,basis
K09_village_points_built,{DAWAN},大湾镇,2021-12-31,2,a
K09_village_points_built,{DAWAN},大湾镇,2022-12-31,4,a
K09_village_points_built,{MUER},木耳镇,2022-12-31,2,a
K09_village_points_built,500112,渝北区,2021-12-31,2,a
K09_village_points_built,500112,渝北区,2022-12-31,6,a
K05_town_centre_coverage,500112,渝北区,2021-12-31,1,a
K05_town_centre_coverage,500112,渝北区,2022-12-31,2,a
K01_care_centres_built,500112,渝北区,2022-12-31,1,a
K03_nursing_home_upgrades,500112,渝北区,2022-12-31,1,a
K04_nursing_home_new_builds,500112,渝北区,2022-12-31,1,a
K29_consolidation_completed,500112,渝北区,2022-12-31,1,a
K02_care_centre_nursing_bed_share,500112,渝北区,2022-12-31,0.80,a
K08_nursing_home_socialised_rate,500112,渝北区,2022-12-31,0.60,a
K17_manager_training,500112,渝北区,2022-12-31,10,a
K18_caregiver_training,500112,渝北区,2022-12-31,20,a
K19_caregiver_certification,500112,渝北区,2022-12-31,0.90,a
K10_village_coverage,500112,渝北区,2022-12-31,1.00,a
K13_village_three_ones,500112,渝北区,2022-12-31,1.00,a
K14_one_to_one_pairing,500112,渝北区,2022-12-31,1.00,a
K15_grid_pairing,500112,渝北区,2022-12-31,1.00,a
K26_running_fund_ratio,500112,渝北区,2022-12-31,0.20,a
"""

SHEET_TABLES = {
    "facilities": "town_facilities",
    "village_points": "town_village_points",
    "pairings": "town_pairings",
    "trainings": "town_trainings",
    "funds": "town_funds",
}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def person_id(birth: dt.date, sequence: int) -> str:
    first17 = f"500112{birth:%Y%m%d}{sequence:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


class World:
    """Truth tables of a tiny programme (two towns), written as the generator writes them."""

    def __init__(self, root: Path, divisions: str = DIVISIONS, targets: str = TARGETS):
        self.root = root
        self.divisions, self.targets = divisions, targets
        self.tables: dict[str, list[dict]] = defaultdict(list)
        self.schemas = {table: polars_schema(columns) for table, columns in raw_tables().items()}

    def workbook(
        self,
        town: str,
        month: dt.date,
        submitted: dt.date,
        sheets: dict[str, list[dict]] | None = None,
        *,
        status: str = "loaded",
        rejected_sheets: tuple[str, ...] = (),
        name: str | None = None,
    ) -> str:
        file_id = name or f"towns/{town}_{month:%Y%m}_{submitted:%Y%m%d}.xlsx"
        self.tables["files"].append(
            {
                "file_id": file_id,
                "file_name": file_id.split("/")[-1],
                "relative_path": file_id,
                "kind": "town_workbook",
                "town_code": town,
                "month": month,
                "submission_date": submitted,
                "modified_at": dt.datetime.combine(submitted, dt.time(9)),
                "status": status,
            }
        )
        for kind, rows in (sheets or {}).items():
            self.tables["sheets"].append(
                {"file_id": file_id, "sheet_kind": kind, "sheet_name": kind, "status": "loaded"}
            )
            for number, row in enumerate(rows, start=3):
                self.tables[SHEET_TABLES[kind]].append(
                    {"file_id": file_id, "sheet_name": kind, "row_number": number, "town_code": town, "month": month, **row}
                )
        for kind in rejected_sheets:
            self.tables["sheets"].append(
                {"file_id": file_id, "sheet_kind": kind, "sheet_name": kind, "status": "rejected"}
            )
        return file_id

    def registry(self, registry: str, export_date: dt.date, rows: list[dict]) -> None:
        file_id = f"registries/{registry}_{export_date:%Y%m%d}.csv"
        self.tables["files"].append(
            {"file_id": file_id, "kind": "registry", "registry": registry, "export_date": export_date, "status": "loaded"}
        )
        for number, row in enumerate(rows, start=2):
            defaults = {"id_valid": row.get("id_number") is not None}
            self.tables[f"registry_{registry}"].append(
                {"file_id": file_id, "row_number": number, "export_date": export_date, **defaults, **row}
            )

    def compute(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        truth = self.root / "truth"
        truth.mkdir(exist_ok=True)
        for table, rows in self.tables.items():
            columns = {key for row in rows for key in row}
            schema = {name: dtype for name, dtype in self.schemas[table].items() if name in columns}
            pl.DataFrame(rows, schema=schema).write_parquet(truth / f"{table}.parquet")
        seeds = self.root / "seeds"
        seeds.mkdir(exist_ok=True)
        (seeds / "plan.csv").write_text(PLAN, encoding="utf-8")
        (seeds / "plan_projects.csv").write_text(PROJECTS, encoding="utf-8")
        (seeds / "plan_targets.csv").write_text(self.targets, encoding="utf-8")
        divisions = self.root / "divisions.csv"
        divisions.write_text(self.divisions, encoding="utf-8")
        return compute_answer_kpis(truth, divisions, seeds)


def row(kpis: pl.DataFrame, scope: str, month: dt.date, kpi_prefix: str) -> dict:
    found = kpis.filter(
        (pl.col("scope_code") == scope) & (pl.col("month") == month) & pl.col("kpi_id").str.starts_with(kpi_prefix)
    )
    assert found.height == 1
    return found.row(0, named=True)


def measured(kpis, scope, month, kpi_prefix) -> tuple:
    r = row(kpis, scope, month, kpi_prefix)
    return r["numerator"], r["denominator"], r["value"], r["status"]


@pytest.fixture
def world(tmp_path) -> World:
    return World(tmp_path)


JUNE = D(2022, 6, 1)


def facility(name, facility_type, status, **fields) -> dict:
    return {"facility_name": name, "facility_type": facility_type, "build_status": status, **fields}


def test_facility_kpis_match_plan_projects_by_name_and_count_first_duplicate(world):
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 3),
        {
            "facilities": [
                facility("大湾镇养老服务中心", "镇养老服务中心", "已运营", area_m2=850.0, operation_mode="公建民营", operator="某养老公司"),
                facility("大湾镇失能特困人员集中照护中心", "失能特困人员集中照护中心", "已建成", beds=50, nursing_beds=30),
                facility("照护中心三部", "失能特困人员集中照护中心", "已运营", nursing_beds=10),
                facility("第二照护中心", "失能特困人员集中照护中心", "在建", beds=100, nursing_beds=100),
                facility(
                    "大湾镇红竹敬老院", "敬老院", "已运营",
                    operation_mode="委托运营", has_clinic=True, legal_person_registered=True, filed=True,
                ),
                facility("大湾敬老院", "敬老院", "已运营", operation_mode="公办公营", legal_person_registered=True, filed=False),
                facility("大湾 敬老院", "敬老院", "已运营", operation_mode="公建民营", has_clinic=True),
                facility("石板敬老院", "敬老院", "已撤并"),
            ]
        },
    )
    world.workbook(
        MUER,
        JUNE,
        D(2022, 7, 2),
        {
            "facilities": [
                facility("木耳镇养老服务中心", "镇养老服务中心", "已建成", area_m2=700.0, operation_mode="委托运营"),
                facility(
                    "木耳镇敬老院", "敬老院", "已运营",
                    operation_mode="公建民营", has_clinic=False, legal_person_registered=True, filed=True,
                ),
                facility("木耳敬老院", "敬老院", "已撤并"),
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K01") == (2.0, None, 2.0, "info")
    assert measured(kpis, DAWAN, JUNE, "K02") == (40.0, 50.0, 0.8, "green")
    assert measured(kpis, DAWAN, JUNE, "K03") == (1.0, None, 1.0, "info")
    assert measured(kpis, DAWAN, JUNE, "K04") == (0.0, None, 0.0, "info")
    assert measured(kpis, DAWAN, JUNE, "K05") == (1.0, None, 1.0, "done")
    assert measured(kpis, DAWAN, JUNE, "K06") == (1.0, 1.0, 1.0, "green")
    assert measured(kpis, DAWAN, JUNE, "K07") == (1.0, 1.0, 1.0, "green")
    assert measured(kpis, DAWAN, JUNE, "K08") == (1.0, 2.0, 0.5, "yellow")
    assert measured(kpis, DAWAN, JUNE, "K27") == (1.0, 2.0, 0.5, "info")
    assert measured(kpis, DAWAN, JUNE, "K28") == (1.0, 2.0, 0.5, "red")
    assert measured(kpis, DAWAN, JUNE, "K29") == (0.0, None, 0.0, "info")

    assert measured(kpis, MUER, JUNE, "K04") == (1.0, None, 1.0, "info")
    assert measured(kpis, MUER, JUNE, "K06") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, MUER, JUNE, "K07") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, MUER, JUNE, "K08") == (1.0, 1.0, 1.0, "green")
    assert measured(kpis, MUER, JUNE, "K28") == (1.0, 1.0, 1.0, "green")
    assert measured(kpis, MUER, JUNE, "K29") == (1.0, None, 1.0, "info")

    assert measured(kpis, DISTRICT, JUNE, "K01") == (2.0, None, 2.0, "done")
    assert measured(kpis, DISTRICT, JUNE, "K03") == (1.0, None, 1.0, "done")
    assert measured(kpis, DISTRICT, JUNE, "K04") == (1.0, None, 1.0, "done")
    assert measured(kpis, DISTRICT, JUNE, "K05") == (2.0, None, 2.0, "done")
    assert measured(kpis, DISTRICT, JUNE, "K06") == (1.0, 2.0, 0.5, "red")
    assert measured(kpis, DISTRICT, JUNE, "K08") == (2.0, 3.0, pytest.approx(2 / 3), "green")
    assert measured(kpis, DISTRICT, JUNE, "K29") == (1.0, None, 1.0, "done")
    k02 = row(kpis, DISTRICT, JUNE, "K02")
    assert (k02["target"], k02["due_date"], k02["expected"]) == (0.8, D(2022, 12, 31), None)
    k06 = row(kpis, DAWAN, JUNE, "K06")
    assert (k06["target"], k06["due_date"]) == (1.0, None)


def point(village, setup=None, status=None, **fields) -> dict:
    return {"village_name_code": village, "village_level": "village", "setup_mode": setup, "build_status": status, **fields}


def test_village_point_kpis_main_rows_sub_points_merges_and_communities(world):
    v1, v2, v3, _ = DAWAN_VILLAGES
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 3),
        {
            "village_points": [
                point(v1, "单独设立", "已运营", area_m2=120.0, assistants=1, has_elderly_association=True,
                      volunteer_teams=1, equipment_subsidy_yuan=15000.0, is_sub_point=False),
                point(v1, None, "已建成", area_m2=50.0, assistants=0, equipment_subsidy_yuan=25000.0, is_sub_point=True),
                point(v2, "依托公共资源", "已建成", area_m2=60.0, assistants=0, has_elderly_association=True,
                      volunteer_teams=2),
                point(v2, None, None, assistants=2, equipment_subsidy_yuan=20000.0, is_sub_point=True),
                point(v3, "合并设置", None, merge_into_code=v1, has_elderly_association=True, volunteer_teams=0,
                      assistants=1),
                point(v1, "单独设立", "未开工", equipment_subsidy_yuan=30000.0, is_sub_point=False),
                {"village_name_code": DAWAN_COMMUNITY, "village_level": "community", "setup_mode": "单独设立",
                 "build_status": "已运营", "area_m2": 200.0, "assistants": 1, "equipment_subsidy_yuan": 50000.0},
            ]
        },
    )
    world.workbook(
        MUER,
        JUNE,
        D(2022, 7, 3),
        {"village_points": [point(MUER_VILLAGES[0], "不设立（镇中心所在村）")]},
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K09") == (2.0, None, 2.0, "yellow")
    k09 = row(kpis, DAWAN, JUNE, "K09")
    assert (k09["target"], k09["due_date"]) == (4.0, D(2022, 12, 31))
    assert k09["expected"] == pytest.approx(2 + 2 * 181 / 365)
    assert measured(kpis, DAWAN, JUNE, "K10") == (3.0, 4.0, 0.75, "green")
    assert row(kpis, DAWAN, JUNE, "K10")["expected"] == pytest.approx(365 / 549)
    assert measured(kpis, DAWAN, JUNE, "K11") == (1.0, 1.0, 1.0, "green")
    assert measured(kpis, DAWAN, JUNE, "K12") == (1.0, 2.0, 0.5, "red")
    assert measured(kpis, DAWAN, JUNE, "K13") == (2.0, 4.0, 0.5, "yellow")
    assert measured(kpis, DAWAN, JUNE, "K25") == (2.0, 3.0, pytest.approx(2 / 3), "red")

    assert measured(kpis, MUER, JUNE, "K09") == (0.0, None, 0.0, "red")
    assert row(kpis, MUER, JUNE, "K09")["expected"] == pytest.approx(2 * 365 / 549)
    assert measured(kpis, MUER, JUNE, "K10") == (1.0, 2.0, 0.5, "yellow")
    assert measured(kpis, MUER, JUNE, "K11") == (0.0, 0.0, None, "na")
    assert measured(kpis, MUER, JUNE, "K12") == (0.0, 0.0, None, "na")
    assert measured(kpis, MUER, JUNE, "K13") == (0.0, 2.0, 0.0, "red")

    assert measured(kpis, DISTRICT, JUNE, "K09") == (2.0, None, 2.0, "red")
    assert row(kpis, DISTRICT, JUNE, "K09")["expected"] == pytest.approx(2 + 4 * 181 / 365)
    assert measured(kpis, DISTRICT, JUNE, "K10") == (4.0, 6.0, pytest.approx(4 / 6), "green")
    assert measured(kpis, DISTRICT, JUNE, "K25") == (2.0, 3.0, pytest.approx(2 / 3), "red")


def elder(pid, town=DAWAN, village=DAWAN_VILLAGES[0], living="其他", left_behind=False, ability=0, **fields) -> dict:
    return {
        "id_number": pid,
        "town_code": town,
        "village_name_code": village,
        "living_situation": living,
        "left_behind": left_behind,
        "ability_level": ability,
        "family_planning_special": False,
        "smart_device": False,
        **fields,
    }


def test_people_pairing_and_registry_kpis(world):
    p1, p2, p3 = person_id(D(1950, 1, 1), 11), person_id(D(1945, 3, 1), 21), person_id(D(1960, 1, 1), 31)
    p4, p5, p6 = person_id(D(1942, 7, 1), 41), person_id(D(1940, 1, 15), 51), person_id(D(1955, 5, 5), 61)
    p7, p8, p9 = person_id(D(1958, 2, 2), 71), person_id(D(1965, 1, 1), 81), person_id(D(1950, 6, 6), 91)
    p10, p12, p13 = person_id(D(1948, 8, 8), 101), person_id(D(1944, 4, 4), 121), person_id(D(1950, 1, 1), 131)
    p14 = person_id(D(1951, 1, 1), 141)
    world.registry("elderly", D(2022, 1, 10), [elder(p13)])
    world.registry(
        "elderly",
        D(2022, 5, 31),
        [
            elder(p1, smart_device=True),
            elder(p2),
            elder(p3, living=None, ability=2, family_planning_special=True),
            elder(p4),
            elder(p5, village=None, smart_device=True),
            elder(p6, living="独居"),
            elder(p7, left_behind=True, ability=None),
            elder(p8, living="独居"),
            elder(None, id_valid=False),
            elder(p12, town="500112002", village=None),
        ],
    )
    world.registry("elderly", D(2022, 7, 5), [elder(p14)])
    world.registry(
        "tekun",
        D(2022, 6, 30),
        [
            {"id_number": p1, "town_code": DAWAN, "support_mode": "分散供养", "person_status": "正常"},
            {"id_number": p9, "town_code": DAWAN, "support_mode": "分散供养", "person_status": "终止"},
        ],
    )
    world.registry(
        "dibao",
        D(2022, 6, 1),
        [
            {"id_number": p2, "town_code": DAWAN, "assistance_category": "低保边缘", "person_status": "正常"},
            {"id_number": p10, "town_code": MUER, "assistance_category": "低保", "person_status": "正常"},
        ],
    )
    world.registry(
        "family_doctor",
        D(2022, 6, 15),
        [
            {"id_number": p1, "contract_status": "有效", "contract_date": D(2021, 3, 1)},
            {"id_number": p2, "contract_status": "有效", "contract_date": D(2022, 7, 1)},
            {"id_number": p3, "contract_status": "解约", "contract_date": D(2021, 3, 1)},
            {"id_number": p5, "contract_status": "有效", "contract_date": D(2022, 6, 30)},
            {"id_number": p8, "contract_status": "有效", "contract_date": D(2021, 3, 1)},
        ],
    )
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 3),
        {
            "pairings": [
                {"id_number": p1, "pairing_mode": "一对一", "visits_this_month": 2},
                {"id_number": p2, "pairing_mode": "网格化", "visits_this_month": 0},
                {"id_number": p5, "pairing_mode": "网格化"},
                {"id_number": p6, "pairing_mode": "一对一", "visits_this_month": 1},
                {"id_number": p10, "pairing_mode": "一对一", "visits_this_month": 1},
                {"id_number": None, "id_valid": False, "pairing_mode": "一对一", "visits_this_month": 1},
            ]
        },
    )
    world.workbook(MUER, JUNE, D(2022, 7, 3), {"pairings": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K14") == (1.0, 3.0, pytest.approx(1 / 3), "red")
    assert row(kpis, DAWAN, JUNE, "K14")["expected"] == pytest.approx(365 / 549)
    assert measured(kpis, DAWAN, JUNE, "K15") == (2.0, 3.0, pytest.approx(2 / 3), "green")
    assert measured(kpis, DAWAN, JUNE, "K16") == (1.0, 3.0, pytest.approx(1 / 3), "red")
    assert measured(kpis, DAWAN, JUNE, "K20") == (2.0, 7.0, pytest.approx(2 / 7), "info")
    assert measured(kpis, DAWAN, JUNE, "K21") == (5.0, 9.0, pytest.approx(5 / 9), "info")
    assert measured(kpis, DAWAN, JUNE, "K22") == (2.0, 5.0, 0.4, "info")

    assert measured(kpis, MUER, JUNE, "K14") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, MUER, JUNE, "K15") == (0.0, 0.0, None, "na")
    assert measured(kpis, MUER, JUNE, "K16") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, MUER, JUNE, "K20") == (0.0, 0.0, None, "na")
    assert measured(kpis, MUER, JUNE, "K21") == (0.0, 0.0, None, "na")
    assert measured(kpis, MUER, JUNE, "K22") == (0.0, 1.0, 0.0, "info")

    assert measured(kpis, DISTRICT, JUNE, "K14") == (1.0, 4.0, 0.25, "red")
    assert measured(kpis, DISTRICT, JUNE, "K15") == (2.0, 3.0, pytest.approx(2 / 3), "green")
    assert measured(kpis, DISTRICT, JUNE, "K16") == (1.0, 4.0, 0.25, "red")
    assert measured(kpis, DISTRICT, JUNE, "K21") == (5.0, 9.0, pytest.approx(5 / 9), "info")
    assert measured(kpis, DISTRICT, JUNE, "K22") == (2.0, 6.0, pytest.approx(1 / 3), "info")
    assert (row(kpis, DAWAN, JUNE, "K14")["rank"], row(kpis, MUER, JUNE, "K14")["rank"]) == (1, 2)
    assert (row(kpis, DAWAN, JUNE, "K15")["rank"], row(kpis, MUER, JUNE, "K15")["rank"]) == (1, 2)


def training(pid, category, date, certified=None, number=None) -> dict:
    return {
        "id_number": pid,
        "id_valid": pid is not None,
        "training_category": category,
        "training_date": date,
        "certified": certified,
        "certificate_no": number,
    }


def test_training_kpis_count_distinct_ids_with_dated_rows_and_distinct_across_towns(world):
    a, b, c = person_id(D(1980, 1, 1), 1), person_id(D(1981, 1, 1), 3), person_id(D(1982, 1, 1), 5)
    d, e, f, g = (person_id(D(1983 + i, 1, 1), 7) for i in range(4))
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 3),
        {
            "trainings": [
                training(a, "院长/主管", D(2022, 3, 1)),
                training(a, "院长/主管", D(2022, 5, 1)),
                training(b, "养老护理员", D(2022, 4, 1), True, "C-1"),
                training(c, "养老护理员", D(2022, 4, 1), True, None),
                training(d, "养老护理员", None, True, "C-9"),
                training(None, "养老护理员", D(2022, 1, 1), True, "C-8"),
                training(e, "养老护理员", D(2022, 2, 1), False, None),
                training(e, "养老护理员", D(2022, 3, 1), True, "C-2"),
            ]
        },
    )
    world.workbook(
        MUER,
        JUNE,
        D(2022, 7, 3),
        {
            "trainings": [
                training(b, "养老护理员", D(2022, 5, 1), False, None),
                training(f, "院长/主管", D(2022, 6, 30)),
                training(g, "养老护理员", D(2022, 6, 10), True, "C-3"),
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K17") == (1.0, None, 1.0, "info")
    assert measured(kpis, DAWAN, JUNE, "K18") == (3.0, None, 3.0, "info")
    assert measured(kpis, DAWAN, JUNE, "K19") == (2.0, 3.0, pytest.approx(2 / 3), "red")
    assert measured(kpis, MUER, JUNE, "K17") == (1.0, None, 1.0, "info")
    assert measured(kpis, MUER, JUNE, "K18") == (2.0, None, 2.0, "info")
    assert measured(kpis, MUER, JUNE, "K19") == (1.0, 2.0, 0.5, "red")
    assert measured(kpis, DISTRICT, JUNE, "K17") == (2.0, None, 2.0, "red")
    assert measured(kpis, DISTRICT, JUNE, "K18") == (4.0, None, 4.0, "red")
    assert measured(kpis, DISTRICT, JUNE, "K19") == (3.0, 4.0, 0.75, "red")
    k18 = row(kpis, DISTRICT, JUNE, "K18")
    assert (k18["target"], k18["expected"]) == (20.0, pytest.approx(20 * 365 / 549))
    assert row(kpis, DAWAN, JUNE, "K18")["target"] is None


def fund(name, fund_type, amount, paid) -> dict:
    return {"project_name": name, "fund_type": fund_type, "amount_yuan": amount, "paid_date": paid}


def test_fund_kpis_city_award_over_one_topup_cap_and_running_funds_pro_rata(world):
    march = D(2022, 3, 1)
    world.workbook(
        DAWAN,
        march,
        D(2022, 4, 2),
        {
            "facilities": [
                facility("大湾镇养老服务中心", "镇养老服务中心", "已建成"),
                facility("大湾敬老院", "敬老院", "已运营"),
                facility("红竹敬老院", "敬老院", "已运营"),
                facility("石板敬老院", "敬老院", "在建"),
            ],
            "funds": [
                fund("大湾镇养老服务中心", "市级奖补", 800000.0, D(2021, 11, 1)),
                fund("大湾养老服务中心", "市级奖补", 300000.0, D(2022, 2, 1)),
                fund("养老服务中心", "市级奖补", 500000.0, D(2022, 3, 10)),
                fund("大湾镇养老服务中心", "市级奖补", None, D(2022, 3, 10)),
                fund("大湾镇养老服务中心", "市级奖补", 200000.0, None),
                fund("大湾镇养老服务中心", "区级补助", 600000.0, D(2021, 10, 1)),
                fund("大湾镇养老服务中心", "区级补助", 500000.0, D(2022, 1, 1)),
                fund("大湾敬老院", "运行经费", 30000.0, D(2022, 1, 15)),
                fund("大湾镇红竹敬老院", "运行经费", 12000.0, D(2022, 3, 31)),
                fund("大湾敬老院", "运行经费", 50000.0, D(2021, 12, 20)),
                fund("石板敬老院", "运行经费", 9000.0, D(2022, 2, 1)),
            ],
        },
    )
    world.workbook(
        MUER,
        march,
        D(2022, 4, 2),
        {
            "facilities": [facility("木耳镇养老服务中心", "镇养老服务中心", "在建")],
            "funds": [
                fund("木耳镇养老服务中心", "市级奖补", 1000000.0, D(2022, 1, 1)),
                fund("木耳镇养老服务中心", "区级补助", 200000.0, D(2022, 1, 1)),
            ],
        },
    )

    def resident(sequence, mode, status, home, allowance, valid=True):
        pid = person_id(D(1990, 1, 1), sequence) if valid else None
        return {"id_number": pid, "id_valid": valid, "town_code": DAWAN, "support_mode": mode,
                "person_status": status, "institution": home, "annual_allowance_yuan": allowance}

    world.registry(
        "tekun",
        D(2022, 3, 1),
        [
            resident(1, "集中供养", "正常", "大湾敬老院", 120000.0),
            resident(2, "集中供养", "正常", "大湾镇红竹敬老院", 60000.0),
            resident(3, "集中供养", "终止", "大湾敬老院", 60000.0),
            resident(4, "分散供养", "正常", "大湾敬老院", 60000.0),
            resident(5, "集中供养", "正常", "石板敬老院", 60000.0),
            resident(6, "集中供养", "正常", "大湾敬老院", None),
            resident(7, "集中供养", "正常", "大湾敬老院", 30000.0, valid=False),
        ],
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, march, "K23") == (1300000.0, 1000000.0, 1.3, "info")
    assert measured(kpis, DAWAN, march, "K24") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, DAWAN, march, "K26") == (42000.0, 45000.0, pytest.approx(42000 / 45000), "green")
    assert measured(kpis, MUER, march, "K23") == (1000000.0, 0.0, None, "na")
    assert measured(kpis, MUER, march, "K24") == (0.0, 0.0, None, "na")
    assert measured(kpis, MUER, march, "K26") == (0.0, 0.0, None, "na")
    assert measured(kpis, DISTRICT, march, "K23") == (2300000.0, 1000000.0, 2.3, "info")
    assert measured(kpis, DISTRICT, march, "K24") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, DISTRICT, march, "K26") == (42000.0, 45000.0, pytest.approx(42000 / 45000), "green")


def test_effective_workbook_carries_sheets_forward_marks_stale_and_scores_submissions(world):
    dec, jan, feb = D(2021, 12, 1), D(2022, 1, 1), D(2022, 2, 1)
    centre = "大湾镇养老服务中心"
    world.workbook(
        DAWAN,
        dec,
        D(2022, 1, 4),
        {
            "facilities": [facility(centre, "镇养老服务中心", "在建")],
            "village_points": [point(DAWAN_VILLAGES[0], "单独设立", "已建成", area_m2=150.0, assistants=1)],
            "trainings": [training(person_id(D(1980, 1, 1), 1), "院长/主管", D(2021, 11, 1))],
        },
    )
    world.workbook(
        DAWAN, jan, D(2022, 2, 3), {"facilities": [facility(centre, "镇养老服务中心", "已运营")]}, status="superseded"
    )
    world.workbook(
        DAWAN,
        jan,
        D(2022, 2, 8),
        {"facilities": [facility(centre, "镇养老服务中心", "已建成")]},
        rejected_sheets=("trainings",),
    )
    world.registry("elderly", D(2021, 11, 30), [elder(person_id(D(1950, 1, 1), 11), town=MUER, village=MUER_VILLAGES[0])])
    world.workbook(MUER, jan, D(2022, 2, 5), {"facilities": [facility("木耳镇养老服务中心", "镇养老服务中心", "已建成")]})
    world.workbook(MUER, feb, D(2022, 3, 6), {"facilities": []})
    kpis, _, _ = world.compute()
    assert kpis["month"].unique().sort().to_list() == [dec, jan, feb]
    assert kpis.height == 3 * 4 * 30  # two towns, the district and the city

    def flags(scope, month, kpi):
        r = row(kpis, scope, month, kpi)
        return r["value"], r["status"], r["stale"]

    assert flags(DAWAN, dec, "K05") == (0.0, "red", False)
    assert flags(DAWAN, jan, "K05") == (1.0, "done", False)
    assert flags(DAWAN, jan, "K09") == (1.0, "yellow", True)
    assert flags(DAWAN, jan, "K17") == (1.0, "info", True)
    assert flags(DAWAN, jan, "K14") == (None, "na", True)
    assert flags(DAWAN, jan, "K30") == (1.0, "info", False)
    assert flags(DAWAN, feb, "K05") == (1.0, "done", True)
    assert flags(DAWAN, feb, "K09") == (1.0, "red", True)
    assert flags(DAWAN, feb, "K30") == (0.0, "info", True)

    assert flags(MUER, dec, "K05") == (None, "na", True)
    assert flags(MUER, dec, "K21") == (1.0, "info", True)
    assert flags(MUER, dec, "K30") == (0.0, "info", True)
    assert flags(MUER, jan, "K05") == (1.0, "done", False)
    assert flags(MUER, jan, "K09") == (None, "na", True)
    assert flags(MUER, jan, "K30") == (1.0, "info", False)
    assert flags(MUER, feb, "K05") == (0.0, "red", False)
    assert row(kpis, MUER, feb, "K05")["expected"] == 1.0
    assert flags(MUER, feb, "K30") == (0.0, "info", False)

    assert flags(DISTRICT, dec, "K05") == (0.0, "red", True)
    assert flags(DISTRICT, dec, "K30") == (0.5, "info", True)
    assert flags(DISTRICT, jan, "K05") == (2.0, "done", False)
    assert flags(DISTRICT, jan, "K09") == (1.0, "yellow", True)
    assert flags(DISTRICT, jan, "K30") == (1.0, "info", False)
    assert flags(DISTRICT, feb, "K05") == (1.0, "green", True)
    k05 = row(kpis, DISTRICT, jan, "K05")
    assert (k05["target"], k05["due_date"]) == (2.0, D(2022, 12, 31))
    assert k05["expected"] == pytest.approx(1 + 31 / 365)


def test_town_ranking_orders_by_completion_then_value_then_code(world):
    months = [D(2022, 6, 1)]
    for town, built in ((DAWAN, 2), (MUER, 1)):
        world.workbook(
            town,
            months[0],
            D(2022, 7, 1),
            {
                "village_points": [
                    point(code, "单独设立", "已运营", assistants=1)
                    for code in (DAWAN_VILLAGES if town == DAWAN else MUER_VILLAGES)[:built]
                ]
                + ([point(MUER_VILLAGES[1], "不设立（拟撤并）")] if town == MUER else [])
            },
        )
    kpis, town_rank, district_rank = world.compute()
    # K09: 大湾 2/4 and 木耳 1/2 tie on completion; the larger value ranks first.
    assert (row(kpis, DAWAN, months[0], "K09")["rank"], row(kpis, MUER, months[0], "K09")["rank"]) == (1, 2)
    # K10: 大湾 2/4 vs 木耳 2/2 (乙村 is about to be merged away).
    assert (row(kpis, DAWAN, months[0], "K10")["rank"], row(kpis, MUER, months[0], "K10")["rank"]) == (2, 1)
    # K13: both 0 of their villages: same completion and value, the lower town code first.
    assert (row(kpis, DAWAN, months[0], "K13")["rank"], row(kpis, MUER, months[0], "K13")["rank"]) == (1, 2)
    # K05, K14, K15: no value for either town: by town code.
    assert row(kpis, MUER, months[0], "K05")["rank"] == 2
    assert row(kpis, DAWAN, months[0], "K01")["rank"] is None
    assert row(kpis, DISTRICT, months[0], "K09")["rank"] is None
    # mean ranks: 大湾 (1+2+1+1+1+1)/6, 木耳 (2+1+2+2+2+2)/6.
    assert town_rank.sort("town_code").to_dicts() == [
        {"town_code": DAWAN, "month": months[0], "mean_rank": 7 / 6, "overall_rank": 1},
        {"town_code": MUER, "month": months[0], "mean_rank": 11 / 6, "overall_rank": 2},
    ]
    # The one district ranks first among the city's districts on every KPI it has a target for.
    assert district_rank.to_dicts() == [
        {"district_code": DISTRICT, "month": months[0], "mean_rank": 1.0, "overall_rank": 1},
    ]


def test_sheet_never_sent_is_null_na_and_stale_beside_a_current_workbook(world):
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert (row(kpis, DAWAN, JUNE, "K09")["value"], row(kpis, DAWAN, JUNE, "K09")["status"]) == (None, "na")
    assert row(kpis, DAWAN, JUNE, "K09")["stale"] is True
    assert row(kpis, DAWAN, JUNE, "K05")["stale"] is False
    assert row(kpis, DAWAN, JUNE, "K23")["stale"] is True


def test_town_without_workbook_has_every_row_stale_including_registry_kpis_and_k30(world):
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    muer = kpis.filter(pl.col("scope_code") == MUER)
    assert muer["stale"].all()
    assert kpis.filter(pl.col("scope_code") == DISTRICT)["stale"].all()
    assert measured(kpis, MUER, JUNE, "K30") == (0.0, 1.0, 0.0, "info")


def test_submission_rate_uses_earliest_accepted_workbook_and_the_fifth_inclusive(world):
    world.workbook(DAWAN, JUNE, D(2022, 7, 5), {"facilities": []}, status="superseded")
    world.workbook(DAWAN, JUNE, D(2022, 7, 20), {"facilities": []})
    world.workbook(MUER, JUNE, D(2022, 7, 1), {"facilities": []}, status="rejected")
    world.workbook(MUER, JUNE, D(2022, 7, 6), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K30") == (1.0, 1.0, 1.0, "info")
    assert measured(kpis, MUER, JUNE, "K30") == (0.0, 1.0, 0.0, "info")
    assert measured(kpis, DISTRICT, JUNE, "K30") == (1.0, 2.0, 0.5, "info")


def test_superseded_workbook_is_never_in_force_even_when_submitted_later(world):
    world.workbook(DAWAN, JUNE, D(2022, 7, 9), {"facilities": [facility("大湾镇养老服务中心", "镇养老服务中心", "已运营")]},
                   status="superseded")
    world.workbook(DAWAN, JUNE, D(2022, 7, 2), {"facilities": [facility("大湾镇养老服务中心", "镇养老服务中心", "在建")]})
    kpis, _, _ = world.compute()
    assert row(kpis, DAWAN, JUNE, "K05")["value"] == 0.0


def test_district_village_rates_divide_by_all_villages_of_its_towns(world):
    # 木耳镇 has no 互助养老点 sheet: K10 counts its 2 villages as not covered, not as absent
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"village_points": [point(DAWAN_VILLAGES[0], "单独设立", "已建成")]})
    world.workbook(MUER, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DISTRICT, JUNE, "K10") == (1.0, 6.0, 1 / 6, "red")
    assert measured(kpis, DISTRICT, JUNE, "K09") == (1.0, None, 1.0, "red")


def test_district_rate_sums_only_towns_with_both_parts(world):
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"village_points": [point(DAWAN_VILLAGES[0], "单独设立", "已建成",
                                                                        equipment_subsidy_yuan=1000.0)]})
    world.workbook(MUER, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DISTRICT, JUNE, "K25") == (1.0, 1.0, 1.0, "green")


def test_duplicate_village_main_row_counts_nowhere(world):
    v1 = DAWAN_VILLAGES[0]
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {
            "village_points": [
                point(v1, "单独设立", "在建", equipment_subsidy_yuan=1000.0),
                point(v1, "单独设立", "已建成", assistants=3, has_elderly_association=True, volunteer_teams=1,
                      equipment_subsidy_yuan=90000.0),
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K09")[0] == 0.0
    assert measured(kpis, DAWAN, JUNE, "K13")[0] == 0.0
    assert measured(kpis, DAWAN, JUNE, "K25") == (1.0, 1.0, 1.0, "green")


def test_community_and_unmatched_village_rows_are_ignored_by_every_point_kpi(world):
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {
            "village_points": [
                {"village_name_code": DAWAN_COMMUNITY, "village_level": "community", "setup_mode": "单独设立",
                 "build_status": "已建成", "equipment_subsidy_yuan": 90000.0},
                {"village_name_code": None, "village_level": None, "setup_mode": "单独设立",
                 "build_status": "已建成", "equipment_subsidy_yuan": 90000.0},
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K09")[0] == 0.0
    assert measured(kpis, DAWAN, JUNE, "K25") == (0.0, 0.0, None, "na")


def test_three_ones_takes_association_and_teams_from_the_main_row_and_assistants_from_any_row(world):
    v1, v2 = DAWAN_VILLAGES[:2]
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {
            "village_points": [
                point(v1, "单独设立", "已建成", has_elderly_association=True, volunteer_teams=1, assistants=0),
                point(v1, None, "已建成", assistants=1, is_sub_point=True),
                point(v2, "单独设立", "已建成", has_elderly_association=None, volunteer_teams=1, assistants=1),
                point(v2, None, "已建成", has_elderly_association=True, is_sub_point=True),
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K13")[:2] == (1.0, 4.0)


def test_merged_village_is_covered_only_when_its_target_has_a_built_own_point(world):
    v1, v2, v3, v4 = DAWAN_VILLAGES
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {
            "village_points": [
                point(v1, "依托公共资源", "已运营"),
                point(v2, "合并设置", merge_into_code=v1),
                point(v3, "合并设置", merge_into_code=v3),
                point(v4, "合并设置", merge_into_code=v3),
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K10")[:2] == (2.0, 4.0)


def test_person_town_prefers_in_scope_elderly_row_then_tekun_then_dibao(world):
    a, b = person_id(D(1950, 1, 1), 1), person_id(D(1950, 1, 1), 3)
    world.registry("elderly", D(2022, 6, 1), [elder(a, town="500112002", village=None)])
    world.registry("tekun", D(2022, 6, 1), [{"id_number": a, "town_code": MUER, "support_mode": "分散供养", "person_status": "正常"},
                                            {"id_number": b, "town_code": DAWAN, "support_mode": "分散供养", "person_status": "正常"}])
    world.registry("dibao", D(2022, 6, 1), [{"id_number": b, "town_code": MUER, "assistance_category": "低保", "person_status": "正常"}])
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"pairings": []})
    world.workbook(MUER, JUNE, D(2022, 7, 1), {"pairings": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K14")[:2] == (0.0, 1.0)
    assert measured(kpis, MUER, JUNE, "K14")[:2] == (0.0, 1.0)


def test_unreadable_status_or_category_fails_the_key_group_condition(world):
    a, b = person_id(D(1950, 1, 1), 1), person_id(D(1950, 1, 1), 3)
    world.registry("tekun", D(2022, 6, 1), [{"id_number": a, "town_code": DAWAN, "support_mode": "分散供养", "person_status": None}])
    world.registry("dibao", D(2022, 6, 1), [{"id_number": b, "town_code": DAWAN, "assistance_category": None, "person_status": "正常"}])
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"pairings": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K14")[:2] == (0.0, 0.0)
    assert measured(kpis, DAWAN, JUNE, "K22")[:2] == (None, None)


def test_elderly_database_completeness_counts_rows_of_every_age_and_invalid_ids(world):
    world.registry(
        "elderly",
        D(2022, 6, 1),
        [
            elder(person_id(D(1990, 1, 1), 1)),
            elder(person_id(D(1950, 1, 1), 3), village=DAWAN_COMMUNITY),
            elder(None, id_valid=False),
            elder(None, id_valid=False),
        ],
    )
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K21") == (2.0, 4.0, 0.5, "info")


def test_registry_kpis_are_na_until_their_registry_has_an_export(world):
    world.registry("elderly", D(2022, 6, 1), [elder(person_id(D(1950, 1, 1), 1))])
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K20") == (None, None, None, "na")
    assert measured(kpis, DAWAN, JUNE, "K21") == (1.0, 1.0, 1.0, "info")


def test_later_registry_export_replaces_the_earlier_from_its_date_on(world):
    a, b = person_id(D(1950, 1, 1), 1), person_id(D(1950, 1, 1), 3)
    world.registry("elderly", D(2022, 5, 10), [elder(a), elder(b)])
    world.registry("elderly", D(2022, 6, 30), [elder(a)])
    world.workbook(DAWAN, D(2022, 5, 1), D(2022, 6, 1), {"facilities": []})
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, D(2022, 5, 1), "K21")[:2] == (2.0, 2.0)
    assert measured(kpis, DAWAN, JUNE, "K21")[:2] == (1.0, 1.0)


def test_city_award_counts_payments_to_a_centre_named_only_in_the_plan(world):
    world.workbook(
        MUER,
        JUNE,
        D(2022, 7, 1),
        {
            "facilities": [facility("木耳镇养老服务中心（新）", "镇养老服务中心", "已建成")],
            "funds": [fund("木耳镇养老服务中心", "市级奖补", 400000.0, D(2022, 5, 1)),
                      fund("木耳镇养老服务中心（新）", "市级奖补", 100000.0, D(2022, 6, 1))],
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, MUER, JUNE, "K23") == (500000.0, 1000000.0, 0.5, "info")


def test_district_topup_counts_every_payment_and_only_centres_with_an_amount(world):
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {
            "facilities": [],
            "funds": [fund("大湾镇养老服务中心", "区级补助", 700000.0, None),
                      fund("大湾镇养老服务中心", "区级补助", 300000.0, D(2021, 1, 1)),
                      fund("大湾镇养老服务中心", "区级补助", None, D(2022, 1, 1))],
        },
    )
    world.workbook(
        MUER,
        JUNE,
        D(2022, 7, 1),
        {"facilities": [], "funds": [fund("木耳镇养老服务中心", "区级补助", 5000000.0, D(2022, 1, 1))]},
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K24") == (1.0, 1.0, 1.0, "green")
    assert measured(kpis, MUER, JUNE, "K24") == (0.0, 0.0, None, "na")


def test_running_fund_ratio_scales_allowances_by_month_number_and_ignores_age(world):
    january = D(2022, 1, 1)
    world.workbook(
        DAWAN,
        january,
        D(2022, 2, 1),
        {
            "facilities": [facility("大湾敬老院", "敬老院", "已运营")],
            "funds": [fund("大湾敬老院", "运行经费", 1000.0, D(2022, 1, 20))],
        },
    )
    world.registry(
        "tekun",
        D(2022, 1, 1),
        [{"id_number": person_id(D(2000, 1, 1), 1), "town_code": DAWAN, "support_mode": "集中供养",
          "person_status": "正常", "institution": "大湾敬老院", "annual_allowance_yuan": 24000.0}],
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, january, "K26") == (1000.0, 2000.0, 0.5, "green")


def test_centre_area_standard_comes_from_the_plan_project_matched_by_name(world):
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {"facilities": [facility("大湾养老服务中心", "镇养老服务中心", "已建成", area_m2=5000.0)]},
    )
    world.workbook(
        MUER,
        JUNE,
        D(2022, 7, 1),
        {"facilities": [facility("养老服务中心", "镇养老服务中心", "已建成", area_m2=800.0)]},
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K06") == (0.0, 1.0, 0.0, "red")
    assert measured(kpis, MUER, JUNE, "K06") == (1.0, 1.0, 1.0, "green")


def test_grid_pairing_needs_a_known_mode_and_visits_count_on_any_row(world):
    alone, key = person_id(D(1955, 1, 1), 1), person_id(D(1955, 1, 1), 3)
    world.registry("elderly", D(2022, 6, 1), [elder(alone, living="独居"), elder(key)])
    world.registry("dibao", D(2022, 6, 1), [{"id_number": key, "town_code": DAWAN, "assistance_category": "低保",
                                             "person_status": "正常"}])
    world.workbook(
        DAWAN,
        JUNE,
        D(2022, 7, 1),
        {
            "pairings": [
                {"id_number": alone, "pairing_mode": None, "visits_this_month": 1},
                {"id_number": key, "pairing_mode": "一对一", "visits_this_month": 0},
                {"id_number": key, "pairing_mode": None, "visits_this_month": 2},
            ]
        },
    )
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K15")[:2] == (0.0, 1.0)
    assert measured(kpis, DAWAN, JUNE, "K14")[:2] == (1.0, 1.0)
    assert measured(kpis, DAWAN, JUNE, "K16")[:2] == (1.0, 1.0)


def test_registry_rows_of_files_not_loaded_are_ignored(world):
    world.registry("elderly", D(2022, 6, 1), [elder(person_id(D(1950, 1, 1), 1))])
    world.registry("elderly", D(2022, 6, 20), [elder(person_id(D(1950, 1, 1), 3)), elder(None, id_valid=False)])
    world.tables["files"][-1]["status"] = "duplicate"
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"facilities": []})
    kpis, _, _ = world.compute()
    assert measured(kpis, DAWAN, JUNE, "K21")[:2] == (1.0, 1.0)


# A second district, 509901, with one town of two villages and rate rows of its own.
SECOND_DISTRICT, HILL = "509901", "509901001"
HILL_VILLAGES = ["509901001001", "509901001002"]
TWO_DISTRICTS = DIVISIONS + f"""{HILL},山镇,town,{SECOND_DISTRICT},,true
{HILL_VILLAGES[0]},山一村村民委员会,village,{HILL},,true
{HILL_VILLAGES[1]},山二村村民委员会,village,{HILL},,true
"""
TWO_DISTRICT_TARGETS = TARGETS + f"""K09_village_points_built,{HILL},山镇,2022-12-31,2,a
K10_village_coverage,{SECOND_DISTRICT},第1区,2022-12-31,0.50,a
K16_key_group_visit_rate,{SECOND_DISTRICT},第1区,2022-12-31,0.70,a
"""


@pytest.fixture
def two_districts(tmp_path) -> World:
    return World(tmp_path, TWO_DISTRICTS, TWO_DISTRICT_TARGETS)


def test_each_district_adds_up_its_own_towns_and_the_city_all_towns(two_districts):
    world = two_districts
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"village_points": [point(DAWAN_VILLAGES[0], "单独设立", "已建成")]})
    world.workbook(MUER, JUNE, D(2022, 7, 1), {"village_points": [point(MUER_VILLAGES[0], "单独设立", "已建成")]})
    world.workbook(HILL, JUNE, D(2022, 7, 1), {"village_points": [point(HILL_VILLAGES[0], "依托公共资源", "已建成")]})
    kpis, _, _ = world.compute()
    assert sorted(kpis["scope_code"].unique()) == sorted([DAWAN, MUER, HILL, DISTRICT, SECOND_DISTRICT, "city"])
    assert kpis.height == 6 * 30
    assert measured(kpis, DISTRICT, JUNE, "K09")[:3] == (2.0, None, 2.0)
    assert measured(kpis, SECOND_DISTRICT, JUNE, "K09")[:3] == (1.0, None, 1.0)
    assert measured(kpis, "city", JUNE, "K09")[:3] == (3.0, None, 3.0)
    # K10 over all villages of the area's towns: 4 + 2, 2, and 8 for the city
    assert measured(kpis, DISTRICT, JUNE, "K10")[:3] == (2.0, 6.0, 2 / 6)
    assert measured(kpis, SECOND_DISTRICT, JUNE, "K10")[:3] == (1.0, 2.0, 0.5)
    assert measured(kpis, "city", JUNE, "K10")[:3] == (3.0, 8.0, 3 / 8)
    # the districts' progress targets are their own plan rows; the city has none
    assert row(kpis, DISTRICT, JUNE, "K09")["target"] == 6.0
    assert row(kpis, SECOND_DISTRICT, JUNE, "K09")["target"] is None
    assert row(kpis, SECOND_DISTRICT, JUNE, "K10")["target"] == 0.5
    assert row(kpis, "city", JUNE, "K09")["status"] == "info"
    assert (row(kpis, "city", JUNE, "K10")["target"], row(kpis, "city", JUNE, "K10")["status"]) == (None, "info")


def test_towns_inherit_rate_targets_from_their_own_district_and_the_city_takes_catalogue_thresholds(two_districts):
    world = two_districts
    for town in (DAWAN, HILL):
        world.workbook(town, JUNE, D(2022, 7, 1), {"village_points": [], "pairings": []})
    kpis, _, _ = world.compute()
    assert row(kpis, DAWAN, JUNE, "K10")["target"] == 1.0
    assert row(kpis, HILL, JUNE, "K10")["target"] == 0.5
    assert row(kpis, HILL, JUNE, "K16")["target"] == 0.7
    assert row(kpis, HILL, JUNE, "K02")["target"] is None  # 500112's K02 row is not 509901's
    assert row(kpis, DAWAN, JUNE, "K02")["target"] == 0.8
    assert row(kpis, "city", JUNE, "K16")["target"] == 1.0  # the catalogue threshold
    assert row(kpis, "city", JUNE, "K02")["target"] is None  # a threshold KPI without a catalogue threshold
    assert row(kpis, "city", JUNE, "K10")["due_date"] is None


def test_trainings_are_distinct_within_each_area_and_staleness_spreads_to_the_areas(two_districts):
    world = two_districts
    a, b = person_id(D(1980, 1, 1), 1), person_id(D(1981, 1, 1), 3)
    may = D(2022, 5, 1)
    world.workbook(DAWAN, may, D(2022, 6, 1), {"trainings": [training(a, "院长/主管", D(2022, 5, 2))]})
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"trainings": [training(a, "院长/主管", D(2022, 5, 2))]})
    world.workbook(HILL, may, D(2022, 6, 1), {"trainings": [training(a, "院长/主管", D(2022, 5, 2)),
                                                             training(b, "院长/主管", D(2022, 5, 3))]})
    kpis, _, _ = world.compute()
    assert measured(kpis, DISTRICT, JUNE, "K17")[0] == 1.0
    assert measured(kpis, SECOND_DISTRICT, JUNE, "K17")[0] == 2.0
    assert measured(kpis, "city", JUNE, "K17")[0] == 2.0  # a is trained in both districts: once
    # 山镇 sent nothing for June: its district and the city are stale, 500112 only through 木耳镇
    assert row(kpis, HILL, JUNE, "K17")["stale"] and row(kpis, SECOND_DISTRICT, JUNE, "K17")["stale"]
    assert row(kpis, "city", JUNE, "K17")["stale"]
    assert not row(kpis, DAWAN, JUNE, "K17")["stale"]


def test_towns_are_ranked_within_their_district(two_districts):
    world = two_districts
    world.workbook(DAWAN, JUNE, D(2022, 7, 1), {"village_points": [point(DAWAN_VILLAGES[0], "单独设立", "已建成")]})
    world.workbook(MUER, JUNE, D(2022, 7, 1), {"village_points": [point(MUER_VILLAGES[0], "单独设立", "已建成")]})
    world.workbook(HILL, JUNE, D(2022, 7, 1), {"village_points": []})
    kpis, town_rank, _ = world.compute()
    # 山镇 built nothing but is alone in its district
    assert row(kpis, HILL, JUNE, "K09")["rank"] == 1
    assert row(kpis, MUER, JUNE, "K09")["rank"] == 1  # 1 of 2 before 大湾镇's 1 of 4
    assert row(kpis, DAWAN, JUNE, "K09")["rank"] == 2
    assert dict(town_rank.filter(pl.col("month") == JUNE).select("town_code", "overall_rank").iter_rows())[HILL] == 1
