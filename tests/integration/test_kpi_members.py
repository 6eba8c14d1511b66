"""Explain a number and early warning on a full refresh of the generated district: the members of
marts.kpi_members add up to every town's KPI rows, carry their lineage and no person's identity;
marts.kpi_forecast_monthly is the linear projection of kpi_town_monthly's last three months."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from pipelines.publish.database import FORBIDDEN_COLUMN, FULL_ID_OR_PHONE, MASKED_VALUE

pytestmark = pytest.mark.slow

# Members that count one each: in_numerator rows are the numerator, in_denominator rows the denominator.
COUNTED_ONE_EACH = ("K09_village_points_built", "K10_village_coverage", "K13_village_three_ones",
                    "K14_one_to_one_pairing")
MONEY = ("K23_city_subsidy_received", "K26_running_fund_ratio")
# Every KPI with members: all but the registry-only info KPIs K20-K22 (decisions.md).
WITH_MEMBERS = tuple(f"K{n:02d}" for n in range(1, 31) if n not in (20, 21, 22))


@pytest.fixture(scope="module")
def published(refreshed_warehouse):
    con = duckdb.connect(str(refreshed_warehouse.published_db), read_only=True)
    yield con
    con.close()


def kpi_rows_with_members(con, kpi_id: str) -> list[tuple]:
    """Each town row of the KPI beside its members' sums and counts (0 when it has none)."""
    return con.execute(
        """
        with members as (
            select town_code, month, sum(numerator_value) as numerator_sum, sum(denominator_value) as denominator_sum,
                   count(*) filter (where in_numerator) as in_numerator, count(*) filter (where in_denominator) as in_denominator,
                   count(*) as members
            from marts.kpi_members where kpi_id = ? group by town_code, month
        )
        select k.town_code, k.month, k.numerator, k.denominator,
               coalesce(m.numerator_sum, 0), m.denominator_sum, coalesce(m.in_numerator, 0),
               coalesce(m.in_denominator, 0), coalesce(m.members, 0)
        from marts.kpi_town_monthly as k
        left join members as m on m.town_code = k.town_code and m.month = k.month
        where k.kpi_id = ?
        order by k.town_code, k.month
        """,
        [kpi_id, kpi_id],
    ).fetchall()


def same(ours: float | None, kpi: float | None, kpi_id: str) -> bool:
    if ours is None or kpi is None:
        return ours is None and kpi is None
    if kpi_id in MONEY:
        return math.isclose(ours, kpi, rel_tol=1e-9, abs_tol=1e-9)
    return ours == kpi


@pytest.mark.parametrize("kpi_id", ["K09_village_points_built", "K10_village_coverage", "K13_village_three_ones",
                                    "K14_one_to_one_pairing", "K23_city_subsidy_received", "K26_running_fund_ratio"])
def test_members_add_up_to_every_town_and_month(published, generated_months, kpi_id: str) -> None:
    rows = kpi_rows_with_members(published, kpi_id)
    assert len(rows) == 11 * len(generated_months), "every town and month of the generated data"
    assert any(numerator for _, _, numerator, *_ in rows), f"{kpi_id} counts nothing: the test would be vacuous"
    wrong = []
    for town, month, numerator, denominator, num_sum, den_sum, in_num, in_den, members in rows:
        if numerator is None:
            if members:
                wrong.append(f"{town} {month}: no KPI value but {members} members")
            continue
        if not same(num_sum, numerator, kpi_id):
            wrong.append(f"{town} {month}: members' numerator {num_sum} vs KPI {numerator}")
        expected_den_sum = None if denominator is None else (den_sum if members else 0)
        if not same(expected_den_sum, denominator, kpi_id):
            wrong.append(f"{town} {month}: members' denominator {den_sum} vs KPI {denominator}")
        if kpi_id in COUNTED_ONE_EACH:
            if in_num != numerator:
                wrong.append(f"{town} {month}: {in_num} members in the numerator vs KPI {numerator}")
            if denominator is not None and in_den != denominator:
                wrong.append(f"{town} {month}: {in_den} members in the denominator vs KPI {denominator}")
    assert wrong == [], "\n".join(wrong[:20])


def test_every_other_kpi_adds_up_too(published) -> None:
    """Every KPI with members, whether or not it counts anything in these months (a range that ends
    before the first care centre is built has no K02 member): one that counts has members adding up."""
    with_members = [kpi for (kpi,) in published.execute("select kpi_id from marts.dim_kpi order by kpi_id").fetchall()
                    if kpi[:3] in WITH_MEMBERS]
    assert [kpi[:3] for kpi in with_members] == list(WITH_MEMBERS)
    covered = {kpi for (kpi,) in published.execute("select distinct kpi_id from marts.kpi_members").fetchall()}
    assert covered <= set(with_members), "the registry-only info KPIs have no members"
    wrong = []
    for kpi_id in with_members:
        for town, month, numerator, denominator, num_sum, den_sum, *_, members in kpi_rows_with_members(published, kpi_id):
            if numerator is None:
                continue
            tolerant = math.isclose(num_sum, numerator, rel_tol=1e-9, abs_tol=1e-9) and (
                denominator is None if members and den_sum is None
                else math.isclose(den_sum or 0, denominator or 0, rel_tol=1e-9, abs_tol=1e-9))
            if not tolerant:
                wrong.append(f"{kpi_id} {town} {month}: members {num_sum}/{den_sum} vs KPI {numerator}/{denominator}")
    assert wrong == [], "\n".join(wrong[:20])


def test_an_uncovered_village_points_at_its_workbook_row(published) -> None:
    """A village K10 does not count names the workbook, sheet and row that say so (or none when the
    sheet has no row for it), and persons point at a registry export and its record row."""
    villages = published.execute(
        """
        select m.source_file, m.source_sheet, m.source_row, m.reason_zh, f.kind
        from marts.kpi_members as m left join quality.files as f on f.file_name = m.source_file
        where m.kpi_id = 'K10_village_coverage' and not m.in_numerator
        """
    ).fetchall()
    assert villages, "the generated district has uncovered villages"
    for source_file, sheet, row, reason, kind in villages:
        if row is None:
            assert reason == "进度表中无此村"
        else:
            assert kind == "town_workbook" and sheet and row >= 2, (source_file, sheet, row)
    persons = published.execute(
        """
        select count(*), count(*) filter (where f.kind = 'registry' and m.source_row >= 2 and m.source_sheet is null),
               count(*) filter (where m.member_id in (select person_key from marts.fct_person_monthly))
        from marts.kpi_members as m left join quality.files as f on f.file_name = m.source_file
        where m.kpi_id = 'K14_one_to_one_pairing'
        """
    ).fetchone()
    assert persons[0] > 0 and persons == (persons[0], persons[0], persons[0])


def test_no_person_identity_in_the_members(published) -> None:
    columns = published.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = 'marts' and table_name = 'kpi_members'"
    ).fetchall()
    assert [c for c, _ in columns if FORBIDDEN_COLUMN.search(c)] == []
    for column in (c for c, t in columns if t == "VARCHAR"):
        found = published.execute(
            f'select count(*) from marts.kpi_members where regexp_matches("{column}", ?) or regexp_matches("{column}", ?)',
            [FULL_ID_OR_PHONE, MASKED_VALUE],
        ).fetchone()[0]
        assert found == 0, f"kpi_members.{column} holds {found} ID, phone or masked values"
    named_persons = published.execute(
        "select count(*) from marts.kpi_members where member_kind = 'person' and member_name is not null"
    ).fetchone()[0]
    assert named_persons == 0


def add_months(month: dt.date, months: int) -> dt.date:
    total = month.year * 12 + month.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def test_forecast_is_the_linear_projection_of_the_last_three_months(published) -> None:
    kpis = {
        (town, month, kpi): (value, target, due)
        for town, month, kpi, value, target, due in published.execute(
            """
            select k.town_code, k.month, k.kpi_id, k.value, k.target, k.due_date
            from marts.kpi_town_monthly as k inner join marts.dim_kpi as d on d.kpi_id = k.kpi_id
            where d.kind = 'progress'
            """
        ).fetchall()
    }
    expected_keys = {
        key for key, (_, target, due) in kpis.items()
        if target is not None and due is not None and due >= add_months(key[1], 1) - dt.timedelta(days=1)
    }
    forecasts = published.execute(
        """
        select town_code, month, kpi_id, value, milestone_target, milestone_due_date, pace_per_month,
               projected_value, expected_completion_month, forecast_status, is_forecast_late
        from marts.kpi_forecast_monthly
        """
    ).fetchall()
    assert {(t, m, k) for t, m, k, *_ in forecasts} == expected_keys
    statuses = set()
    for town, month, kpi, value, target, due, pace, projected, completion, status, late in forecasts:
        assert (value, target, due) == kpis[(town, month, kpi)]
        earlier = kpis.get((town, add_months(month, -3), kpi), (None,))[0]
        want_pace = None if value is None or earlier is None else (value - earlier) / 3
        assert (pace is None) == (want_pace is None) and (pace is None or math.isclose(pace, want_pace, abs_tol=1e-12))
        months_left = (due.year - month.year) * 12 + due.month - month.month
        want_projected = None if want_pace is None else value + want_pace * months_left
        assert (projected is None) == (want_projected is None)
        assert projected is None or math.isclose(projected, want_projected, abs_tol=1e-9)
        if value is not None and round(value, 6) >= round(target, 6):
            want_status, want_completion = "已完成", month
        else:
            want_status = ("数据不足" if want_projected is None
                           else "预计按期" if round(want_projected, 6) >= round(target, 6) else "预计逾期")
            want_completion = (add_months(month, math.ceil(round((target - value) / want_pace, 6)))
                               if want_pace is not None and want_pace > 0 else None)
        assert (status, completion, late) == (want_status, want_completion, want_status == "预计逾期"), (town, month, kpi)
        statuses.add(status)
    assert statuses == {"已完成", "预计按期", "预计逾期", "数据不足"}, "the generated data shows every status"
