"""Pure rules of the KPI answer key: name matching, milestones, 序时进度, traffic lights, ages."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.generate.answer_key_kpis.inputs import load_plan
from pipelines.generate.answer_key_kpis.names import facility_key
from pipelines.generate.answer_key_kpis.people import age_at, birth_ymd, month_day
from pipelines.generate.answer_key_kpis.targets import (
    applicable_milestone,
    expected_progress,
    milestones_for,
    rank_towns,
    traffic_light,
)
from pipelines.settings import SEEDS_DIR

D = dt.date
START = D(2021, 6, 30)
TWO_STEPS = [(D(2021, 12, 31), 2.0), (D(2022, 12, 31), 4.0)]


@pytest.mark.parametrize(
    ("name", "town", "key"),
    [
        ("大湾镇红竹敬老院", "大湾镇", "红竹敬老院"),
        ("红竹敬老院", "大湾镇", "红竹敬老院"),
        (" 大湾镇 红竹敬老院 ", "大湾镇", "红竹敬老院"),
        ("石船敬老院", "石船镇", "石船敬老院"),
        ("石船镇敬老院", "石船镇", "敬老院"),
        ("王家街道养老服务中心", "王家街道", "养老服务中心"),
        ("王家养老服务中心", "王家街道", "王家养老服务中心"),
        ("ＡＢ敬老院（新）", "大湾镇", "AB敬老院(新)"),
        ("大湾镇", "大湾镇", "大湾镇"),
        (None, "大湾镇", None),
    ],
)
def test_facility_key_normalises_and_drops_the_town_name(name, town, key):
    assert facility_key(name, town) == key


def test_facility_names_of_two_different_homes_do_not_match():
    assert facility_key("石船敬老院", "石船镇") != facility_key("石船镇敬老院", "石船镇")
    assert facility_key("大湾镇红竹敬老院", "大湾镇") == facility_key("红竹敬老院", "大湾镇")


@pytest.mark.parametrize(
    ("month_end", "milestone"),
    [
        (D(2021, 11, 30), (D(2021, 12, 31), 2.0)),
        (D(2021, 12, 31), (D(2021, 12, 31), 2.0)),
        (D(2022, 1, 31), (D(2022, 12, 31), 4.0)),
        (D(2023, 3, 31), (D(2022, 12, 31), 4.0)),
    ],
)
def test_applicable_milestone_is_the_earliest_due_on_or_after_month_end_else_the_last(month_end, milestone):
    assert applicable_milestone(TWO_STEPS, month_end) == milestone


@pytest.mark.parametrize(
    ("milestones", "as_of", "expected"),
    [
        ([(D(2021, 12, 31), 1.0)], D(2021, 9, 30), 92 / 184),
        ([(D(2021, 12, 31), 1.0)], D(2021, 6, 30), 0.0),
        ([(D(2021, 12, 31), 1.0)], D(2021, 12, 31), 1.0),
        ([(D(2021, 12, 31), 1.0)], D(2022, 5, 31), 1.0),
        (TWO_STEPS, D(2022, 6, 30), 2 + 2 * 181 / 365),
        (TWO_STEPS, D(2022, 12, 31), 4.0),
        (TWO_STEPS, D(2023, 1, 31), 4.0),
        ([(D(2021, 1, 1), 5.0), (D(2022, 6, 30), 10.0)], D(2021, 12, 31), 5 + 5 * 184 / 365),
        ([(D(2021, 6, 30), 3.0), (D(2022, 6, 30), 10.0)], D(2021, 6, 30), 3.0),
    ],
)
def test_expected_progress_is_linear_in_days_between_milestones(milestones, as_of, expected):
    assert expected_progress(milestones, START, as_of) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kind", "value", "target", "expected", "final", "status"),
    [
        ("progress", None, 4.0, 2.0, 4.0, "na"),
        ("progress", 3.0, None, None, None, "info"),
        ("info", 0.5, None, None, None, "info"),
        ("progress", 4.0, 2.0, 2.0, 4.0, "done"),
        ("progress", 0.0, 0.0, 0.0, 2.0, "green"),  # a zero milestone, more due later: on 序时进度
        ("progress", 0.0, 0.0, 0.5, 2.0, "red"),  # behind 序时进度 towards the next milestone
        ("progress", 0.95, 1.0, 1.0, 1.0, "green"),
        ("progress", 0.9, 1.0, 1.0, 1.1, "green"),
        ("progress", 0.89999995, 1.0, 1.0, 1.1, "green"),
        ("progress", 0.899999, 1.0, 1.0, 1.1, "yellow"),
        ("progress", 0.7, 1.0, 1.0, 1.1, "yellow"),
        ("progress", 0.69, 1.0, 1.0, 1.1, "red"),
        ("progress", 1.0, 4.0, 1.4, 4.0, "green"),
        ("progress", 1.0, 4.0, 2.2, 4.0, "yellow"),
        ("progress", 1.0, 4.0, 2.3, 4.0, "red"),
        ("threshold", 0.8, 0.8, None, None, "green"),
        ("threshold", 0.7, 0.8, None, None, "yellow"),
        ("threshold", 0.6999, 0.8, None, None, "red"),
        ("threshold", 0.9, 1.0, None, None, "yellow"),
        ("threshold", 2.0, 1.0, None, None, "green"),
    ],
)
def test_traffic_light(kind, value, target, expected, final, status):
    assert traffic_light(kind, value, target, expected, final) == status


def test_milestones_per_scope_from_the_real_plan():
    plan = load_plan(SEEDS_DIR)
    assert milestones_for(plan, "K09_village_points_built", "count", "500112133") == [
        (D(2021, 12, 31), 9.0),
        (D(2022, 12, 31), 12.0),
    ]
    assert milestones_for(plan, "K05_town_centre_coverage", "count", "500112018", "500112") == [(D(2021, 12, 31), 1.0)]
    assert milestones_for(plan, "K05_town_centre_coverage", "count", "500112135", "500112") == [(D(2022, 6, 30), 1.0)]
    assert milestones_for(plan, "K05_town_centre_coverage", "count", "500112") == [
        (D(2021, 12, 31), 4.0),
        (D(2022, 12, 31), 11.0),
    ]
    assert milestones_for(plan, "K10_village_coverage", "rate", "500112135", "500112") == [(D(2022, 12, 31), 1.0)]
    assert milestones_for(plan, "K02_care_centre_nursing_bed_share", "rate", "500112135", "500112") == [
        (D(2022, 12, 31), 0.8)
    ]
    assert milestones_for(plan, "K17_manager_training", "count", "500112135", "500112") == []
    assert milestones_for(plan, "K01_care_centres_built", "count", "500112018", "500112") == []
    # a town takes the rate rows of its own district only; the city (no district) has none
    assert milestones_for(plan, "K10_village_coverage", "rate", "500112135", "509901") == []
    assert milestones_for(plan, "K10_village_coverage", "rate", "city") == []
    assert plan.start_date == START


@pytest.mark.parametrize(
    ("birth", "month_end", "age"),
    [
        (D(1962, 6, 30), D(2022, 6, 30), 60),
        (D(1962, 7, 1), D(2022, 6, 30), 59),
        (D(1942, 7, 1), D(2022, 6, 30), 79),
        (D(1960, 2, 29), D(2020, 2, 29), 60),
        (D(1960, 2, 29), D(2021, 2, 28), 60),
        (D(1961, 3, 1), D(2021, 2, 28), 59),
    ],
)
def test_age_at_month_end_from_the_id_birth_date(birth, month_end, age):
    frame = pl.DataFrame({"id_number": [f"500112{birth:%Y%m%d}0011"], "month_end": [month_end]})
    end = pl.col("month_end")
    assert frame.select(age_at(end.dt.year(), month_day(end), birth_ymd(pl.col("id_number"))))[0, 0] == age


def test_towns_rank_by_completion_then_numerator_then_code():
    month = D(2022, 12, 1)
    rows = pl.DataFrame({
        "scope_code": ["T1", "T2", "T3", "T4", "T5"],
        "district_code": ["D"] * 5,
        "month": [month] * 5,
        "kpi_id": ["K10_village_coverage"] * 5,
        "kind": ["progress"] * 5,
        "target": [1.0] * 5,
        "numerator": [4.0, 23.0, 10.0, 9999999.0, 4.0],
        "value": [1.0, 1.0, 0.5, 0.9999999, 1.0],
    })
    ranks, _ = rank_towns(rows)
    # 0.9999999 rounds to a full completion; 23 of 23 villages before 4 of 4; then town code
    assert dict(ranks.select("scope_code", "rank").iter_rows()) == {"T4": 1, "T2": 2, "T1": 3, "T5": 4, "T3": 5}


def test_towns_rank_within_their_district():
    month = D(2022, 12, 1)
    rows = pl.DataFrame({
        "scope_code": ["A1", "A2", "B1", "B2", "B3"],
        "district_code": ["A", "A", "B", "B", "B"],
        "month": [month] * 5,
        "kpi_id": ["K09_village_points_built"] * 5,
        "kind": ["progress"] * 5,
        "target": [2.0] * 5,
        "numerator": [1.0, 2.0, 0.0, 2.0, 1.0],
        "value": [1.0, 2.0, 0.0, 2.0, 1.0],
    })
    ranks, overall = rank_towns(rows)
    assert dict(ranks.select("scope_code", "rank").iter_rows()) == {"A2": 1, "A1": 2, "B2": 1, "B3": 2, "B1": 3}
    assert dict(overall.select("town_code", "overall_rank").iter_rows()) == {
        "A1": 2, "A2": 1, "B1": 3, "B2": 1, "B3": 2
    }


def test_a_kpi_is_ranked_in_the_districts_where_its_towns_have_targets():
    month = D(2022, 12, 1)
    rows = pl.DataFrame({
        "scope_code": ["A1", "A2", "B1", "B2"],
        "district_code": ["A", "A", "B", "B"],
        "month": [month] * 4,
        "kpi_id": ["K14_one_to_one_pairing"] * 4,
        "kind": ["progress"] * 4,
        "target": [1.0, 1.0, None, None],
        "numerator": [1.0, 2.0, 1.0, 2.0],
        "value": [0.5, 1.0, 0.5, 1.0],
    })
    ranks, _ = rank_towns(rows)
    assert dict(ranks.select("scope_code", "rank").iter_rows()) == {"A2": 1, "A1": 2}
