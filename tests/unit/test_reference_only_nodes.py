"""A build that is not a full one leaves out the models and seeds of reference data alone
(pipelines/transform/dbt_run.py): nothing that reads an inbox table, and no test that also reads one;
and the views, but for those a test reads alone."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.settings import Settings
from pipelines.transform.dbt_run import (
    accepted_values_check,
    contract_checked_tests,
    dbt_args_for,
    node_names,
    reference_only_nodes,
    relations_no_node_makes,
    unchanged_views,
)
from pipelines.transform.project import DBT_PROJECT


def _node(kind: str, name: str) -> dict:
    return {"resource_type": kind, "name": name}


# raw.files → stg_files → fct; seed → stg_seed → dim; fct also reads dim.
MANIFEST = {
    "nodes": {
        "model.p.stg_files": _node("model", "stg_files"),
        "model.p.fct": _node("model", "fct"),
        "seed.p.catalogue": _node("seed", "catalogue"),
        "model.p.stg_catalogue": _node("model", "stg_catalogue"),
        "model.p.dim": _node("model", "dim"),
        "model.p.constant": _node("model", "constant"),
        "test.p.unique_dim": _node("test", "unique_dim"),
        "test.p.relationships_fct_dim": _node("test", "relationships_fct_dim"),
        "test.p.not_null_fct": _node("test", "not_null_fct"),
    },
    "parent_map": {
        "model.p.stg_files": ["source.p.raw.files"],
        "model.p.fct": ["model.p.stg_files", "model.p.dim"],
        "seed.p.catalogue": [],
        "model.p.stg_catalogue": ["seed.p.catalogue"],
        "model.p.dim": ["model.p.stg_catalogue"],
        "model.p.constant": [],
        "test.p.unique_dim": ["model.p.dim"],
        "test.p.relationships_fct_dim": ["model.p.fct", "model.p.dim"],
        "test.p.not_null_fct": ["model.p.fct"],
        "source.p.raw.files": [],
    },
}


def test_reference_only_nodes_are_those_with_no_source_upstream_and_their_own_tests():
    assert reference_only_nodes(MANIFEST) == [
        "model.p.constant", "model.p.dim", "model.p.stg_catalogue", "seed.p.catalogue", "test.p.unique_dim"]


def test_the_build_names_the_models_and_seeds_left_out_and_selects_tests_cautiously(tmp_path: Path):
    names = node_names(MANIFEST, reference_only_nodes(MANIFEST))
    assert names == ["constant", "dim", "stg_catalogue", "catalogue"]
    args = dbt_args_for("build", Settings.from_env(warehouse_dir=tmp_path), leave_out=names)
    # One --exclude value (dagster-dbt passes a selection on as one argument); cautious indirect
    # selection keeps relationships_fct_dim, which also reads the built fct.
    assert args[args.index("--exclude") + 1] == "constant dim stg_catalogue catalogue"
    assert args[args.index("--indirect-selection") + 1] == "cautious"
    assert "--indirect-selection" not in dbt_args_for("build", Settings.from_env(warehouse_dir=tmp_path))


def test_in_the_project_the_dimensions_and_seeds_are_left_out_and_the_people_facts_are_not():
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    left_out = set(reference_only_nodes(manifest))
    assert {"model.ruralcare.dim_town", "model.ruralcare.dim_kpi", "seed.ruralcare.divisions",
            "seed.ruralcare.rule_catalogue"} <= left_out
    reading_inbox = {"model.ruralcare.fct_person_monthly", "model.ruralcare.kpi_town_monthly",
                     "model.ruralcare.dim_facility", "model.ruralcare.findings"}
    assert reading_inbox & left_out == set()
    # e.g. relationships_kpi_members_town_code__town_code__ref_dim_town_
    from_facts_to_dim_town = [u for u, parents in manifest["parent_map"].items() if u.startswith("test.")
                              and "model.ruralcare.dim_town" in parents and not set(parents) <= left_out]
    assert len(from_facts_to_dim_town) > 3 and left_out.isdisjoint(from_facts_to_dim_town)


def _view(name: str) -> dict:
    return {"resource_type": "model", "name": name, "config": {"materialized": "view"}}


def test_views_are_left_out_but_those_a_test_reads_alone():
    manifest = {
        "nodes": {**MANIFEST["nodes"],
                  "model.p.stg_registry": _view("stg_registry"),     # read by fct_people only
                  "model.p.stg_sheets": _view("stg_sheets"),         # its own test
                  "model.p.v_dim": _view("v_dim"),                   # a view of reference data, tested with dim
                  "model.p.v_both": _view("v_both"),                 # tested with a built table
                  "model.p.fct_people": _node("model", "fct_people"),
                  "test.p.accepted_values_stg_sheets": _node("test", "accepted_values_stg_sheets"),
                  "test.p.relationships_v_dim_dim": _node("test", "relationships_v_dim_dim"),
                  "test.p.relationships_v_both_fct": _node("test", "relationships_v_both_fct")},
        "parent_map": {**MANIFEST["parent_map"],
                       "model.p.stg_registry": ["source.p.raw.registry"],
                       "model.p.stg_sheets": ["source.p.raw.sheets"],
                       "model.p.v_dim": ["model.p.dim"],
                       "model.p.v_both": ["model.p.fct"],
                       "model.p.fct_people": ["model.p.stg_registry"],
                       "test.p.accepted_values_stg_sheets": ["model.p.stg_sheets"],
                       "test.p.relationships_v_dim_dim": ["model.p.v_dim", "model.p.dim"],
                       "test.p.relationships_v_both_fct": ["model.p.v_both", "model.p.fct"]},
    }
    reference_only = reference_only_nodes(manifest)
    assert "model.p.v_dim" in reference_only  # left out already, with its test
    assert unchanged_views(manifest, reference_only) == ["model.p.stg_registry", "model.p.v_both"]


def test_in_the_project_the_staging_views_are_left_out_and_every_test_still_runs():
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    reference_only = reference_only_nodes(manifest)
    views = unchanged_views(manifest, reference_only)
    assert {"model.ruralcare.stg_registry__elderly", "model.ruralcare.stg_towns__pairings"} <= set(views)
    assert "model.ruralcare.stg_ingest__files" not in views  # its unique and accepted_values tests read it alone
    left_out = set(reference_only) | set(views)
    tests_left_out = {u for u, parents in manifest["parent_map"].items()
                      if u.startswith("test.") and parents and set(parents) <= left_out}
    assert tests_left_out == {u for u in reference_only if u.startswith("test.")}


def test_the_rule_and_kpi_family_models_are_views_read_by_one_model_and_left_out():
    """The SQL rules and the KPI families are views (docs/decisions.md): each is computed once, by the
    one table that reads it, and a build that is not a full one does not run them as nodes."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    nodes, children = manifest["nodes"], manifest["child_map"]
    rules = {u for u, n in nodes.items() if "quality_rule" in n.get("tags", ())}
    families = {f"model.ruralcare.int_kpi__{family}" for family in
                ("facilities", "submission", "training", "village_points", "funds", "pairing", "registry")}
    as_views = {u for u in rules | families if nodes[u]["config"]["materialized"] == "view"}
    incremental = {u for u in rules if nodes[u]["config"]["materialized"] == "incremental"}
    assert as_views == (rules - incremental) | families and len(as_views) == 20
    readers = {u: [c for c in children[u] if c.startswith("model.")] for u in as_views}
    assert {u: r for u, r in readers.items() if len(r) != 1} == {}
    assert {r[0] for u, r in readers.items() if u in rules} == {"model.ruralcare.findings"}
    assert {r[0] for u, r in readers.items() if u in families} == {"model.ruralcare.int_kpi__all_scopes"}
    assert as_views <= set(unchanged_views(manifest, reference_only_nodes(manifest)))


def _model(columns: dict[str, list[str]], enforced: bool = True, materialized: str = "table") -> dict:
    return {"resource_type": "model", "name": "m",
            "config": {"contract": {"enforced": enforced}, "materialized": materialized},
            "columns": {name: {"constraints": [{"type": c} for c in kinds]} for name, kinds in columns.items()}}


def _test(kind: str, model: str, column: str, where: str | None = None, **arguments) -> dict:
    return {"resource_type": "test", "name": f"{kind}_{model}_{column}", "test_metadata": {"name": kind, "kwargs": arguments},
            "attached_node": f"model.p.{model}", "column_name": column, "config": {"where": where}}


def test_contract_checked_tests_are_not_null_tests_of_columns_an_enforced_contract_declares_not_null():
    manifest = {"nodes": {
        "model.p.fct": _model({"a": ["not_null"], "b": [], "c": ["not_null"]}),
        "model.p.loose": _model({"a": ["not_null"]}, enforced=False),
        "model.p.view": _model({"a": ["not_null"]}, materialized="view"),
        "test.p.not_null_fct_a": _test("not_null", "fct", "a"),
        "test.p.not_null_fct_b": _test("not_null", "fct", "b"),          # no constraint
        "test.p.not_null_fct_c": _test("not_null", "fct", "c", "month = '2022-12-01'"),  # a test of part only
        "test.p.unique_fct_a": _test("unique", "fct", "a"),              # DuckDB is not asked for this
        "test.p.not_null_loose_a": _test("not_null", "loose", "a"),      # contract not enforced
        "test.p.not_null_view_a": _test("not_null", "view", "a"),        # DuckDB does not enforce a view's constraints
    }}
    assert contract_checked_tests(manifest) == ["test.p.not_null_fct_a"]


def test_contract_checked_tests_are_accepted_values_tests_whose_values_the_column_checks():
    fct = _model({"status": [], "kind": [], "mode": [], "band": []})
    fct["columns"]["status"]["constraints"] = [{"type": "not_null"},
                                               {"type": "check", "expression": "status in ('done', 'red')"}]
    fct["columns"]["kind"]["constraints"] = [{"type": "check", "expression": "kind in ('a')"}]
    fct["columns"]["mode"]["constraints"] = [{"type": "check", "expression": "mode in ('x', 'y')"}]
    manifest = {"nodes": {
        "model.p.fct": fct,
        "test.p.accepted_values_fct_status": _test("accepted_values", "fct", "status", values=["done", "red"]),
        "test.p.accepted_values_fct_kind": _test("accepted_values", "fct", "kind", values=["a", "b"]),  # other values
        "test.p.accepted_values_fct_mode": _test("accepted_values", "fct", "mode", values=["x", "y"], quote=False),
        "test.p.accepted_values_fct_band": _test("accepted_values", "fct", "band", values=["60-69"]),  # no check
    }}
    assert contract_checked_tests(manifest) == ["test.p.accepted_values_fct_status"]
    assert accepted_values_check("name", ["张三", "O'Brien"]) == "name in ('张三', 'O''Brien')"


def test_every_not_null_and_accepted_values_test_of_a_contracted_column_is_checked_by_the_contract():
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    nodes = manifest["nodes"]

    def contracted_table(node: dict) -> bool:
        config = node.get("config", {})
        return bool(config.get("contract", {}).get("enforced")) and config.get("materialized") != "view"

    on_contracted = [u for u, n in nodes.items() if n["resource_type"] == "test"
                     and (n.get("test_metadata") or {}).get("name") in ("not_null", "accepted_values")
                     and contracted_table(nodes.get(n.get("attached_node") or "", {}))]
    checked = contract_checked_tests(manifest)
    # the project declares the constraint wherever it tests not_null or accepted values on a contracted
    # table's column; a view's contract holds names and types only, so its tests run (fct_person_monthly)
    assert sorted(on_contracted) == checked and len([u for u in checked if ".accepted_values_" in u]) == 15
    assert not [u for u in checked if "fct_person_monthly" in u]
    # kpi_town_monthly's are named (their model is built); dim_town's go with the reference models
    names = node_names(manifest, sorted(set(reference_only_nodes(manifest)) | set(checked)))
    assert "not_null_kpi_town_monthly_town_code" in names and "not_null_dim_town_town_code" not in names
    assert "not_null_dim_town_town_code" in node_names(manifest, checked)


def test_what_no_model_makes_any_more_is_found_in_dbts_schemas_only():
    """After a full build the relations of removed models are dropped (pipelines/transform/assets.py):
    in the schemas the project's models and seeds build into, what none of them makes; never the
    schemas of dbt's sources (raw, state) nor those dbt does not build into (meta)."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    relations = [
        ("marts", "kpi_town_monthly", "BASE TABLE"),
        ("quality", "dq03_not_older", "VIEW"),
        ("quality", "rule_catalogue", "BASE TABLE"),  # a seed
        ("MARTS", "KPI_District_Monthly", "BASE TABLE"),  # DuckDB's names are not case-sensitive
        ("intermediate", "int_quality__registry_rows", "BASE TABLE"),  # a model since removed
        ("marts", "kpi_town_monthly__dbt_tmp", "BASE TABLE"),  # left by a stopped build
        ("quality", "dq99_removed_rule", "VIEW"),
        ("raw", "files", "BASE TABLE"),
        ("raw", "leftover", "BASE TABLE"),
        ("state", "published_inputs", "BASE TABLE"),
        ("meta", "refresh", "BASE TABLE"),
    ]
    assert relations_no_node_makes(manifest, relations) == [
        ("intermediate", "int_quality__registry_rows", "BASE TABLE"),
        ("marts", "kpi_town_monthly__dbt_tmp", "BASE TABLE"),
        ("quality", "dq99_removed_rule", "VIEW"),
    ]
