"""A build that is not a full one leaves out the models and seeds of reference data alone
(pipelines/transform/dbt_run.py): nothing that reads an inbox table, and no test that also reads one."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.settings import Settings
from pipelines.transform.dbt_run import dbt_args_for, node_names, reference_only_nodes
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
