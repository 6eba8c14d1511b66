"""End to end: generate the district's sources, refresh (ingest, dbt build, publish), and compare every
KPI row (every town, the district, every month) and the overall ranking with the generator's
answer key, which is computed independently from the programme model (docs/kpis.md)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path

import dagster as dg
import duckdb
import pytest

pytestmark = pytest.mark.slow

NUMERIC = ("numerator", "denominator", "value", "target", "expected")
EXACT = ("due_date", "status", "stale", "rank")


def _number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def _key_row(row: dict) -> dict:
    return {
        "numerator": _number(row["numerator"]),
        "denominator": _number(row["denominator"]),
        "value": _number(row["value"]),
        "target": _number(row["target"]),
        "expected": _number(row["expected"]),
        "due_date": row["due_date"] or None,
        "status": row["status"],
        "stale": row["stale"].strip().lower() in ("true", "1"),
        "rank": int(float(row["rank"])) if row.get("rank") not in (None, "") else None,
    }


def differences(ours: dict, key: dict) -> list[str]:
    """The fields where a KPI row of the models differs from the answer key's."""
    out = []
    for field in NUMERIC:
        a, b = ours[field], key[field]
        if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)):
            out.append(f"{field}: models {a} vs key {b}")
    for field in EXACT:
        if ours[field] != key[field]:
            out.append(f"{field}: models {ours[field]} vs key {key[field]}")
    return out


@pytest.fixture(scope="module")
def built(refreshed_warehouse, generated_sources):
    """The published marts of a full refresh (ingest, dbt build, publish) of the generated inbox."""
    con = duckdb.connect(str(refreshed_warehouse.published_db), read_only=True)
    yield con, generated_sources / "answer_key"
    con.close()


DISTRICT_CODE = "500112"
CITY = "city"  # the answer key's scope code of the city level (marts.kpi_city_monthly)
TOWNS = 11


def every_town(con) -> list[str]:
    towns = [code for (code,) in con.execute("select town_code from marts.dim_town where is_rural_scope").fetchall()]
    assert len(towns) == TOWNS, f"the programme covers the district's {TOWNS} rural towns, dim_town lists {towns}"
    return towns


def expected_kpi_rows(con, months: list[dt.date]) -> set[tuple[str, str, str]]:
    """Every KPI for every town, the district and the city level in every generated month: the answer key must
    hold exactly these (and the models the answer key's rows), or the comparison could pass on two empty sides."""
    kpis = [kpi for (kpi,) in con.execute("select kpi_id from marts.dim_kpi").fetchall()]
    assert kpis, "marts.dim_kpi is empty"
    return {(scope, month, kpi) for scope in [DISTRICT_CODE, CITY, *every_town(con)]
            for month in (m.isoformat() for m in months) for kpi in kpis}


def our_kpis(con) -> dict[tuple[str, str, str], dict]:
    """Every KPI row of the towns, districts and city marts, keyed as the answer key (city: `city`)."""
    rows = con.execute(
        """
        select town_code, month, kpi_id, numerator, denominator, value, target, due_date, expected, status, stale, rank
        from marts.kpi_town_monthly
        union all
        select district_code, month, kpi_id, numerator, denominator, value, target, due_date, expected, status, stale,
            null
        from marts.kpi_district_monthly
        union all
        select ?, month, kpi_id, numerator, denominator, value, target, due_date, expected, status, stale, null
        from marts.kpi_city_monthly
        """, [CITY]
    ).fetchall()
    out = {}
    for scope, month, kpi, num, den, value, target, due, expected, status, stale, rank in rows:
        out[(scope, month.isoformat(), kpi)] = {
            "numerator": num, "denominator": den, "value": value, "target": target, "expected": expected,
            "due_date": due.isoformat() if isinstance(due, dt.date) else None,
            "status": status, "stale": stale, "rank": rank,
        }
    return out


def read_kpi_key(answer_key: Path) -> dict[tuple[str, str, str], dict]:
    with (answer_key / "kpis.csv").open(encoding="utf-8") as handle:
        return {(r["scope_code"], r["month"][:7] + "-01", r["kpi_id"]): _key_row(r) for r in csv.DictReader(handle)}


def kpi_mismatches(key: dict, ours: dict) -> list[str]:
    """Every row missing on one side or differing (printed, the first 200)."""
    mismatches = []
    for row_key in sorted(set(key) | set(ours)):
        if row_key not in ours or row_key not in key:
            mismatches.append(f"{row_key}: {'missing in models' if row_key not in ours else 'not in answer key'}")
            continue
        mismatches += [f"{row_key} {d}" for d in differences(ours[row_key], key[row_key])]
    print(f"{len(key)} answer-key rows, {len(mismatches)} mismatches")
    print("\n".join(mismatches[:200]))
    return mismatches


def read_rank_key(answer_key: Path, level: str = "town") -> dict[tuple[str, str], tuple[float, int]]:
    """(code, month) → (mean rank, overall rank) of the answer key's town_rank.csv or district_rank.csv."""
    with (answer_key / f"{level}_rank.csv").open(encoding="utf-8") as handle:
        return {(r[f"{level}_code"], r["month"][:7] + "-01"): (float(r["mean_rank"]), int(float(r["overall_rank"])))
                for r in csv.DictReader(handle)}


def rank_mismatches(con, key: dict, level: str = "town") -> list[str]:
    """marts.town_rank_monthly (or district_rank_monthly) against the answer key's (mean rank, overall rank)."""
    ours = {(t, m.isoformat()): (mean, rank) for t, m, mean, rank in con.execute(
        f"select {level}_code, month, mean_rank, overall_rank from marts.{level}_rank_monthly").fetchall()}
    mismatches = [f"{k}: models {ours.get(k)} vs key {key.get(k)}" for k in sorted(set(key) | set(ours))
                  if k not in ours or k not in key or ours[k][1] != key[k][1]
                  or not math.isclose(ours[k][0], key[k][0], abs_tol=1e-9)]
    print("\n".join(mismatches[:100]))
    return mismatches


def test_every_kpi_row_equals_the_answer_key(built, generated_months):
    con, answer_key = built
    key = read_kpi_key(answer_key)
    expected = expected_kpi_rows(con, generated_months)
    assert set(key) == expected, f"answer key: {len(key)} rows, {len(expected)} expected"
    assert not kpi_mismatches(key, our_kpis(con))


def test_overall_town_ranking_equals_the_answer_key(built, generated_months):
    con, answer_key = built
    key = read_rank_key(answer_key)
    every_town_month = {(town, month.isoformat()) for town in every_town(con) for month in generated_months}
    assert set(key) == every_town_month, f"answer key: {len(key)} rows, {len(every_town_month)} expected"
    assert not rank_mismatches(con, key)


def test_the_district_ranks_first_of_its_city_as_the_answer_key_says(built, generated_months):
    con, answer_key = built
    key = read_rank_key(answer_key, "district")
    assert set(key) == {(DISTRICT_CODE, month.isoformat()) for month in generated_months}
    assert {rank for _, rank in key.values()} == {1}
    assert not rank_mismatches(con, key, "district")


def test_the_refresh_leaves_the_not_null_and_accepted_values_tests_to_duckdb_which_checks_those_columns(
        refreshed_warehouse, runs_of_last_refresh):
    """pipelines/transform/dbt_run.py contract_checked_tests: the build does not run them, and the
    working database refuses a null or another value there (its columns are NOT NULL, or have the
    CHECK of the accepted values), so nothing goes unchecked."""
    from pipelines.transform.dbt_run import contract_checked_tests
    from pipelines.transform.project import DBT_PROJECT

    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    checked = contract_checked_tests(manifest)
    run = json.loads((refreshed_warehouse.dbt_target_dir / "run_results.json").read_text(encoding="utf-8"))
    ran = {result["unique_id"] for result in run["results"]}
    assert ran.isdisjoint(checked)
    # a view's contract declares no constraints: the tests of marts.fct_person_monthly run
    of_the_view = [unique_id for unique_id, node in manifest["nodes"].items() if node["resource_type"] == "test"
                   and node.get("attached_node") == "model.ruralcare.fct_person_monthly"]
    assert len(of_the_view) == 5 and set(of_the_view) <= ran
    assert any(unique_id.startswith("test.ruralcare.unique_dim_town_town_code.") for unique_id in ran)  # others run
    nodes = manifest["nodes"]

    def column_of(test: str) -> tuple[str, str, str]:
        model = nodes[nodes[test]["attached_node"]]
        return model["schema"], model["alias"], nodes[test]["column_name"]

    not_null = {column_of(t) for t in checked if nodes[t]["test_metadata"]["name"] == "not_null"}
    in_values = {column_of(t): nodes[t]["test_metadata"]["kwargs"]["values"] for t in checked
                 if nodes[t]["test_metadata"]["name"] == "accepted_values"}
    with duckdb.connect(str(refreshed_warehouse.work_db), read_only=True) as con:
        nullable = {(schema, table, column): is_nullable for schema, table, column, is_nullable in con.execute(
            "select table_schema, table_name, column_name, is_nullable from information_schema.columns").fetchall()}
        checks = {(schema, table, columns[0]): expression for schema, table, columns, expression in con.execute(
            "select schema_name, table_name, constraint_column_names, expression from duckdb_constraints() "
            "where constraint_type = 'CHECK'").fetchall()}
    assert {column: nullable.get(column) for column in not_null} == dict.fromkeys(not_null, "NO")
    assert len(in_values) == 15  # fct_person_monthly, a view, runs its own (docs/decisions.md)
    for column, values in in_values.items():  # DuckDB's text of the check: (status IN ('done', ...)), "level" quoted
        assert (checks.get(column) or "").replace('"', "") == f"({column[2]} IN ({', '.join(repr(v) for v in values)}))"
    # Dagster records them as passed (the steps they gate wait on them), with no warning of a
    # blocking check left without a result.
    instance = dg.DagsterInstance.get()
    events = [event for run in runs_of_last_refresh(refreshed_warehouse.published_db)
              for event in instance.all_logs(run.run_id)]
    evaluations = {event.dagster_event.asset_check_evaluation_data.check_name:
                   event.dagster_event.asset_check_evaluation_data.passed
                   for event in events if event.dagster_event
                   and event.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    assert {nodes[t]["name"]: evaluations.get(nodes[t]["name"]) for t in checked} == {
        nodes[t]["name"]: True for t in checked}
    assert not [event.user_message for event in events if "emitted no result" in (event.user_message or "")]
