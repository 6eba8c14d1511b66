"""The KPI models on a hand-made raw layer: two towns, three months, every KPI family.

王家街道 sends January (late, but an earlier superseded version was on time), nothing in
February (stale), and March with a rejected 互助养老点 sheet (carried forward); 洛碛镇 sends
only February, its 机构设施 sheet rejected. dbt build runs once for the module.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import create_raw_tables
from pipelines.settings import DBT_PROJECT_DIR
from pipelines.transform import dbt_cli

WANGJIA = "500112018"  # 王家街道: villages 201, 202, 204, 205
LUOQI = "500112144"  # 洛碛镇
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(birth: dt.date, sequence: int) -> str:
    first17 = f"500112{birth:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return first17 + "10X98765432"[total % 11]


def person(birth: dt.date, sequence: int) -> dict:
    id_number = make_id(birth, sequence)
    return {"id_number": id_number, "person_key": f"key-{sequence}", "id_valid": True}


P1 = person(dt.date(1951, 6, 1), 1)  # 70: 低保 key group, paired 一对一 and visited
P2 = person(dt.date(1936, 3, 1), 2)  # 85, 独居: grid group, 网格化 pairing
P3 = person(dt.date(1950, 1, 1), 3)  # 分散供养 特困: key group, unpaired
P4 = person(dt.date(1945, 1, 1), 4)  # 集中供养 特困 in 王家敬老院
P5 = person(dt.date(1963, 1, 1), 5)  # 59 at 2022-03-31: not an older person
INVALID = {"id_number": None, "person_key": None, "id_valid": False}


def _file(file_id, kind, status, **extra):
    return {"file_id": file_id, "file_name": f"{file_id}.xlsx", "kind": kind, "status": status, **extra}


def files() -> list[dict]:
    wb = "town_workbook"
    return [
        _file("a1", wb, "loaded", town_code=WANGJIA, month=dt.date(2022, 1, 1), submission_date=dt.date(2022, 2, 8)),
        _file("a1x", wb, "superseded", town_code=WANGJIA, month=dt.date(2022, 1, 1),
              submission_date=dt.date(2022, 2, 3)),
        _file("a3", wb, "loaded", town_code=WANGJIA, month=dt.date(2022, 3, 1), submission_date=dt.date(2022, 4, 10)),
        _file("b2", wb, "loaded", town_code=LUOQI, month=dt.date(2022, 2, 1), submission_date=dt.date(2022, 3, 1)),
        _file("bad", wb, "rejected", town_code=LUOQI, month=dt.date(2021, 12, 1)),
        _file("el", "registry", "loaded", registry="elderly", export_date=dt.date(2022, 1, 15)),
        _file("tk", "registry", "loaded", registry="tekun", export_date=dt.date(2022, 1, 10)),
        _file("db", "registry", "loaded", registry="dibao", export_date=dt.date(2022, 1, 10)),
        _file("fd", "registry", "loaded", registry="family_doctor", export_date=dt.date(2022, 2, 20)),
    ]


def sheets() -> list[dict]:
    loaded = [("a1", k) for k in ("facilities", "village_points", "pairings", "trainings", "funds")]
    rows = [{"file_id": f, "sheet_kind": k, "status": "loaded"} for f, k in loaded]
    rows += [
        {"file_id": "a3", "sheet_kind": "facilities", "status": "loaded"},
        {"file_id": "a3", "sheet_kind": "village_points", "status": "rejected"},
        {"file_id": "b2", "sheet_kind": "facilities", "status": "rejected"},
        {"file_id": "b2", "sheet_kind": "village_points", "status": "loaded"},
    ]
    return rows


def _town_row(file_id, town, month, row_number, **fields):
    return {"file_id": file_id, "town_code": town, "month": month, "row_number": row_number, **fields}


JAN, MAR = dt.date(2022, 1, 1), dt.date(2022, 3, 1)


def facilities() -> list[dict]:
    centre = dict(facility_name="王家街道养老服务中心", facility_type="镇养老服务中心", build_mode="改建",
                  build_status="已运营", operation_mode="委托运营", operator="某养老机构")
    return [
        _town_row("a1", WANGJIA, JAN, 3, area_m2=900.0, **centre),
        _town_row("a1", WANGJIA, JAN, 4, facility_name="王家街道 失能特困人员集中照护中心",
                  facility_type="失能特困人员集中照护中心", build_status="已建成", beds=100, nursing_beds=85),
        _town_row("a1", WANGJIA, JAN, 5, facility_name="王家街道王家敬老院", facility_type="敬老院",
                  build_status="已运营", operation_mode="公建民营", has_clinic=True, legal_person_registered=True),
        # The same home again: the first row counts.
        _town_row("a1", WANGJIA, JAN, 6, facility_name="王家敬老院", facility_type="敬老院",
                  build_status="已运营", operation_mode="公办公营", has_clinic=False),
        _town_row("a3", WANGJIA, MAR, 3, area_m2=700.0, **centre),
    ]


def village_points() -> list[dict]:
    v = "500112018"
    return [
        _town_row("a1", WANGJIA, JAN, 3, village_name_code=v + "201", village_level="village", setup_mode="单独设立",
                  build_status="已运营", area_m2=120.0, assistants=1, has_elderly_association=True,
                  volunteer_teams=1, equipment_subsidy_yuan=15000.0, equipment_subsidy_yuan_raw="15000"),
        _town_row("a1", WANGJIA, JAN, 4, village_name_code=v + "201", village_level="village", is_sub_point=True,
                  build_status="已运营", assistants=2, equipment_subsidy_yuan=25000.0,
                  equipment_subsidy_yuan_raw="2.5万"),
        _town_row("a1", WANGJIA, JAN, 5, village_name_code=v + "202", village_level="village", setup_mode="合并设置",
                  merge_into_code=v + "201", assistants=0, has_elderly_association=True, volunteer_teams=1),
        _town_row("a1", WANGJIA, JAN, 6, village_name_code=v + "204", village_level="village",
                  setup_mode="依托公共资源", build_status="在建", equipment_subsidy_yuan_raw="约2万"),
        _town_row("a1", WANGJIA, JAN, 7, village_name_code=v + "001", village_level="community",
                  setup_mode="单独设立", build_status="已运营", equipment_subsidy_yuan=30000.0),
        _town_row("b2", LUOQI, dt.date(2022, 2, 1), 3, village_name_code=LUOQI + "201", village_level="village",
                  setup_mode="不设立（拟撤并）"),
    ]


def pairings() -> list[dict]:
    return [
        _town_row("a1", WANGJIA, JAN, 3, pairing_mode="一对一", visits_this_month=1, **P1),
        _town_row("a1", WANGJIA, JAN, 4, pairing_mode="网格化", visits_this_month=0, **P2),
        _town_row("a1", WANGJIA, JAN, 5, pairing_mode="一对一", visits_this_month=2, **INVALID),
    ]


def trainings() -> list[dict]:
    t = [person(dt.date(1980, 1, 1), 100 + i) for i in range(4)]
    day = dt.date(2022, 1, 10)
    return [
        _town_row("a1", WANGJIA, JAN, 3, training_category="院长/主管", training_date=day, **t[0]),
        _town_row("a1", WANGJIA, JAN, 4, training_category="养老护理员", training_date=day, certified=True,
                  certificate_no="Z-001", **t[1]),
        _town_row("a1", WANGJIA, JAN, 5, training_category="养老护理员", training_date=day, certified=True, **t[2]),
        _town_row("a1", WANGJIA, JAN, 6, training_category="养老护理员", training_date=None, certified=True,
                  certificate_no="Z-003", **t[3]),
    ]


def funds() -> list[dict]:
    return [
        _town_row("a1", WANGJIA, JAN, 3, project_name="王家街道养老服务中心", fund_type="市级奖补",
                  amount_yuan=500000.0, paid_date=dt.date(2022, 1, 10)),
        _town_row("a1", WANGJIA, JAN, 4, project_name="王家街道养老服务中心", fund_type="区级补助",
                  amount_yuan=1200000.0, paid_date=dt.date(2022, 1, 10)),
        _town_row("a1", WANGJIA, JAN, 5, project_name="王家敬老院", fund_type="运行经费",
                  amount_yuan=600.0, paid_date=dt.date(2022, 1, 20)),
        _town_row("a1", WANGJIA, JAN, 6, project_name="王家敬老院", fund_type="运行经费",
                  amount_yuan=999.0, paid_date=dt.date(2021, 12, 20)),
    ]


def _registry_row(file_id, export_date, row_number, **fields):
    return {"file_id": file_id, "export_date": export_date, "row_number": row_number, "town_code": WANGJIA, **fields}


def registry_elderly() -> list[dict]:
    d = dt.date(2022, 1, 15)
    complete = dict(living_situation="空巢", left_behind=False, ability_level=0)
    return [
        _registry_row("el", d, 2, village_name_code=WANGJIA + "201", smart_device=True, **complete, **P1),
        _registry_row("el", d, 3, village_name_code=WANGJIA + "202", living_situation="独居", left_behind=False,
                      smart_device=False, **P2),
        _registry_row("el", d, 4, village_name_code=WANGJIA + "201", **complete, **P5),
        _registry_row("el", d, 5, village_name_code=WANGJIA + "201", **complete, **INVALID),
    ]


def registry_tekun() -> list[dict]:
    d = dt.date(2022, 1, 10)
    return [
        _registry_row("tk", d, 2, support_mode="分散供养", person_status="正常", **P3),
        _registry_row("tk", d, 3, support_mode="集中供养", person_status="正常", institution="王家敬老院",
                      annual_allowance_yuan=12000.0, **P4),
    ]


def registry_dibao() -> list[dict]:
    return [_registry_row("db", dt.date(2022, 1, 10), 2, assistance_category="低保", person_status="正常", **P1)]


def registry_family_doctor() -> list[dict]:
    d = dt.date(2022, 2, 20)
    return [
        {"file_id": "fd", "export_date": d, "row_number": 2, "contract_status": "有效",
         "contract_date": dt.date(2022, 1, 5), **P1},
        {"file_id": "fd", "export_date": d, "row_number": 3, "contract_status": "解约",
         "contract_date": dt.date(2022, 1, 5), **P2},
    ]


TABLES = {
    "files": files, "sheets": sheets, "town_facilities": facilities, "town_village_points": village_points,
    "town_pairings": pairings, "town_trainings": trainings, "town_funds": funds,
    "registry_elderly": registry_elderly, "registry_tekun": registry_tekun, "registry_dibao": registry_dibao,
    "registry_family_doctor": registry_family_doctor,
}


def insert_rows(con) -> None:
    """Insert the scenario into the (already created) raw tables."""
    for table, rows_of in TABLES.items():
        for row in rows_of():
            columns = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            con.execute(f"INSERT INTO raw.{table} ({columns}) VALUES ({marks})", list(row.values()))


def run_dbt_build(work_db: Path, scratch: Path) -> subprocess.CompletedProcess:
    """`dbt build` (models, data tests, unit tests) against work_db; target and logs in scratch."""
    dbt = dbt_cli.executable()
    env = {**os.environ, "RURALCARE_WORK_DB": str(work_db), "DO_NOT_TRACK": "1"}
    return subprocess.run(
        [str(dbt), "build", "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
        env=env, capture_output=True, text=True, check=False,
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("kpi_scenario")
    work_db = scratch / "work.duckdb"
    con = duckdb.connect(str(work_db))
    create_raw_tables(con)
    insert_rows(con)
    con.close()
    result = run_dbt_build(work_db, scratch)
    assert result.returncode == 0, result.stdout[-4000:]
    con = duckdb.connect(str(work_db), read_only=True)
    yield con
    con.close()


def town_kpi(con, town: str, month: str, kpi_prefix: str) -> dict:
    row = con.execute(
        "select numerator, denominator, value, target, due_date, expected, status, stale, rank "
        "from marts.kpi_town_monthly where town_code = ? and month = ? and kpi_id like ?",
        [town, dt.date.fromisoformat(month), kpi_prefix + "%"],
    ).fetchone()
    keys = ("numerator", "denominator", "value", "target", "due_date", "expected", "status", "stale", "rank")
    return dict(zip(keys, row))


def district_kpi(con, month: str, kpi_prefix: str) -> dict:
    row = con.execute(
        "select numerator, denominator, value, status, stale from marts.kpi_district_monthly "
        "where month = ? and kpi_id like ?",
        [dt.date.fromisoformat(month), kpi_prefix + "%"],
    ).fetchone()
    return dict(zip(("numerator", "denominator", "value", "status", "stale"), row))


def test_every_kpi_town_and_month_has_a_row(warehouse):
    towns, district, months = warehouse.execute(
        "select (select count(*) from marts.kpi_town_monthly), (select count(*) from marts.kpi_district_monthly), "
        "(select count(distinct month) from marts.kpi_town_monthly)"
    ).fetchone()
    assert months == 3  # 2022-01 .. 2022-03: the rejected December file does not count
    assert (towns, district) == (30 * 11 * 3, 30 * 3)


@pytest.mark.parametrize(
    ("month", "kpi", "numerator", "denominator", "status", "stale"),
    [
        ("2022-01-01", "K01", 1, None, "info", False),  # care centre built; no town target
        ("2022-01-01", "K02", 85, 100, "green", False),  # ≥ 0.80 (district target applies)
        ("2022-01-01", "K05", 1, None, "done", False),
        ("2022-01-01", "K06", 1, 1, "green", False),
        ("2022-03-01", "K06", 0, 1, "red", False),  # 700 m² < 800 m²
        ("2022-01-01", "K08", 1, 1, "green", False),  # the duplicate 公办公营 row does not count
        ("2022-01-01", "K28", 0, 1, "red", False),  # 备案 unknown fails
        ("2022-03-01", "K08", 0, 0, "na", False),  # March lists no home: zero denominator
        ("2022-01-01", "K09", 1, None, "red", False),
        ("2022-01-01", "K10", 2, 4, "green", False),  # own point + 合并设置 into it; 社区 row ignored
        ("2022-03-01", "K10", 2, 4, "green", True),  # rejected sheet: January's in force
        ("2022-01-01", "K13", 1, 4, "yellow", False),
        ("2022-01-01", "K25", 1, 3, "red", False),  # 25000 over the cap; 约2万 unreadable: counts, fails
        ("2022-01-01", "K14", 1, 2, "green", False),
        ("2022-01-01", "K15", 1, 1, "done", False),
        ("2022-01-01", "K16", 1, 2, "red", False),
        ("2022-01-01", "K17", 1, None, "info", False),
        ("2022-01-01", "K18", 2, None, "info", False),  # the undated row does not count
        ("2022-01-01", "K19", 1, 2, "red", False),  # certified without a number fails
        ("2022-01-01", "K20", None, None, "na", False),  # no family-doctor export yet
        ("2022-02-01", "K20", 1, 2, "info", True),  # no workbook in February: stale
        ("2022-01-01", "K21", 2, 4, "info", False),  # the invalid-ID row is in the denominator
        ("2022-01-01", "K22", 1, 3, "info", False),
        ("2022-01-01", "K23", 500000, 1000000, "info", False),
        ("2022-01-01", "K24", 0, 1, "red", False),  # 1,200,000 > 1,000,000
        ("2022-01-01", "K26", 600, 1000, "green", False),  # 12000 × 1/12; last year's payment excluded
        ("2022-02-01", "K26", 600, 2000, "green", True),
        ("2022-01-01", "K30", 1, 1, "info", False),  # the earliest accepted version was on time
        ("2022-02-01", "K30", 0, 1, "info", True),
        ("2022-03-01", "K30", 0, 1, "info", False),
    ],
)
def test_wangjia_kpis(warehouse, month, kpi, numerator, denominator, status, stale):
    row = town_kpi(warehouse, WANGJIA, month, kpi + "_")
    assert (row["numerator"], row["denominator"], row["status"], row["stale"]) == (
        numerator, denominator, status, stale)


def test_targets_and_expected_progress(warehouse):
    k09 = town_kpi(warehouse, WANGJIA, "2022-01-01", "K09_")
    assert (k09["target"], k09["due_date"]) == (3, dt.date(2022, 12, 31))
    assert k09["expected"] == pytest.approx(2 + 31 / 365)
    k10 = town_kpi(warehouse, WANGJIA, "2022-01-01", "K10_")
    assert k10["expected"] == pytest.approx(215 / 549)  # from 0 on 2021-06-30 to 1.0 on 2022-12-31
    k05 = town_kpi(warehouse, WANGJIA, "2022-01-01", "K05_")
    assert (k05["target"], k05["due_date"]) == (1, dt.date(2021, 12, 31))


def test_town_without_accepted_sheet_is_na_and_stale(warehouse):
    assert town_kpi(warehouse, LUOQI, "2022-02-01", "K01_")["status"] == "na"
    assert town_kpi(warehouse, LUOQI, "2022-02-01", "K01_")["stale"] is True
    k10 = town_kpi(warehouse, LUOQI, "2022-02-01", "K10_")
    assert (k10["numerator"], k10["denominator"], k10["stale"]) == (1, 16, False)
    assert town_kpi(warehouse, LUOQI, "2022-01-01", "K10_")["status"] == "na"


def test_district_rows(warehouse):
    k10 = district_kpi(warehouse, "2022-02-01", "K10_")
    assert (k10["numerator"], k10["denominator"], k10["stale"]) == (3, 168, True)
    k30 = district_kpi(warehouse, "2022-01-01", "K30_")
    assert (k30["numerator"], k30["denominator"]) == (1, 11)
    k18 = district_kpi(warehouse, "2022-01-01", "K18_")
    assert (k18["numerator"], k18["denominator"], k18["status"]) == (2, None, "red")


def test_ranks(warehouse):
    ranks = dict(warehouse.execute(
        "select town_code, rank from marts.kpi_town_monthly where month = '2022-01-01' and kpi_id like 'K10_%'"
    ).fetchall())
    assert ranks[WANGJIA] == 1 and ranks[LUOQI] == 11  # null values rank last, by town code
    overall = warehouse.execute(
        "select town_code, mean_rank from marts.town_rank_monthly where month = '2022-02-01' order by overall_rank"
    ).fetchall()
    assert overall[0] == (WANGJIA, 1.0)
    # 洛碛镇: 2nd in K09, K10, K13 (the only other values, 0 ranks above null), 11th where it has none.
    assert dict(overall)[LUOQI] == pytest.approx((11 + 2 + 2 + 2 + 11 + 11) / 6)
    assert warehouse.execute(
        "select count(*) from marts.kpi_town_monthly where rank is not null and kpi_id not in "
        "('K05_town_centre_coverage', 'K09_village_points_built', 'K10_village_coverage', "
        "'K13_village_three_ones', 'K14_one_to_one_pairing', 'K15_grid_pairing')"
    ).fetchone() == (0,)


def test_published_marts_hold_no_personal_data(warehouse):
    columns = {c for (c,) in warehouse.execute(
        "select column_name from information_schema.columns where table_schema = 'marts'").fetchall()}
    assert not columns & {"id_number", "person_name", "elder_name", "phone", "helper_phone"}
    assert warehouse.execute("select count(*) from marts.fct_person_monthly where month = '2022-01-01'").fetchone() == (4,)
