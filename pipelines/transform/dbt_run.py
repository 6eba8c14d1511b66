"""How ruralcare calls dbt: the shared DuckDB path exported, the division list and plan as vars."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pipelines.settings import BUILTIN_DIVISIONS, BUILTIN_PLAN_DIR, DBT_PROJECT_DIR, Settings
from pipelines.transform.dbt_cli import ParseAhead

PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's saved parse, in its target folder

# What a refresh's build leaves out: dbt's unit tests check the SQL of the models, not the data
# (`make test` runs them: tests/integration/test_kpi_models_scenario.py); dbt's debug log file
# (a line per statement, a fifth of the build's time) — its events still reach the refresh log.
REFRESH_BUILD_FLAGS = ["--exclude-resource-type", "unit_test", "--log-level-file", "warn"]


def dbt_args_for(command: str, settings: Settings, extra_vars: Mapping[str, object] | None = None,
                 full_refresh: bool = False, leave_out: Sequence[str] = ()) -> list[str]:
    """dbt's arguments; leave_out: models and seeds not to build (with the tests on them alone)."""
    args = [command, *(REFRESH_BUILD_FLAGS if command == "build" else [])]
    if full_refresh:
        args.append("--full-refresh")  # the month-by-month models too (pipelines/transform/months.py)
    if leave_out:
        # cautious: a test is left out only when every node it reads is (a relationship from a
        # fact to a left-out dimension still runs).
        args += ["--exclude", " ".join(leave_out), "--indirect-selection", "cautious"]
    dbt_vars = dict(extra_vars or {})
    if settings.divisions_file.resolve() != BUILTIN_DIVISIONS.resolve():
        dbt_vars["divisions_file"] = str(settings.divisions_file.resolve())
    if settings.plan_dir.resolve() != BUILTIN_PLAN_DIR.resolve():
        dbt_vars["plan_dir"] = str(settings.plan_dir.resolve())
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if settings.engine == "spark":
        args += ["--target", "spark"]
    return args


@contextmanager
def exported_env(env: Mapping[str, str]) -> Iterator[None]:
    """dagster-dbt passes os.environ to dbt: export ours for the call, then restore."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def parse_ahead(settings: Settings) -> ParseAhead:
    """The refresh's dbt build as the warm dbt process parses it ahead (pipelines/transform/dbt_cli.py):
    the vars of dbt_args_for, the environment dagster-dbt gives dbt in pipelines/transform/assets.py (the
    project and profiles folders of pipelines/transform/project.py). Without dagster-dbt's import, so
    that the warm process starts while the refresh imports its definitions."""
    env = {**settings.dbt_env(), "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
           "DBT_TARGET_PATH": str(settings.dbt_target_dir)}
    return ParseAhead(args=dbt_args_for("parse", settings)[1:], env=env, project_dir=str(DBT_PROJECT_DIR))


def start_from_project_parse(target_dir: Path, project_dir: Path = DBT_PROJECT_DIR) -> None:
    """A warehouse's first dbt call starts from the project's own saved parse (setup's `dbt parse`,
    pipelines/transform/project.py) instead of parsing every file again (≈ 3.5 s of CPU while the
    loader reads). dbt still checks it against the project's files, vars and profile: what
    differs is parsed again, and a saved parse made with other vars or another profile (another
    division list, a test's memory limit) is parsed anew, as without it."""
    saved, wanted = project_dir / "target" / PARTIAL_PARSE_FILE, target_dir / PARTIAL_PARSE_FILE
    if wanted.exists() or not saved.is_file():
        return
    target_dir.mkdir(parents=True, exist_ok=True)
    with saved.open("rb") as source, tempfile.NamedTemporaryFile(
            dir=target_dir, prefix=f".{PARTIAL_PARSE_FILE}.", delete=False) as copy:
        shutil.copyfileobj(source, copy)
    os.replace(copy.name, wanted)  # a dbt reading the folder meanwhile sees no file or the whole one


def reference_only_nodes(manifest: Mapping) -> list[str]:
    """The unique ids of the models and seeds with no dbt source upstream, and of the tests that
    read those alone: built from the project's files, the division list and the plan only (seeds,
    `var('divisions_file')`, `var('plan_dir')`), which the project signature covers
    (pipelines/transform/months.py). While the signature holds, building them again writes what
    they already hold."""
    parents = manifest["parent_map"]
    from_sources: dict[str, bool] = {}

    def reads_a_source(unique_id: str) -> bool:
        if unique_id not in from_sources:
            from_sources[unique_id] = unique_id.startswith("source.") or any(
                reads_a_source(parent) for parent in parents.get(unique_id, ()))
        return from_sources[unique_id]

    built = {unique_id for unique_id, node in manifest["nodes"].items()
             if node["resource_type"] in ("model", "seed") and not reads_a_source(unique_id)}
    tests = {unique_id for unique_id, node in manifest["nodes"].items()
             if node["resource_type"] == "test" and parents.get(unique_id) and set(parents[unique_id]) <= built}
    return sorted(built | tests)


def unchanged_views(manifest: Mapping, left_out: Sequence[str]) -> list[str]:
    """The unique ids of the views a build that is not a full one leaves out beside `left_out`: a
    view holds its query, not rows, which the project signature covers (pipelines/transform/months.py),
    so creating it again writes what it already holds (≈ 45 ms of dbt a view, 37 views). A view a
    test reads alone (or with nodes left out) is built: cautious selection would leave the test out
    with it, and the rows it checks changed."""
    nodes, parents = manifest["nodes"], manifest["parent_map"]
    views = {unique_id for unique_id, node in nodes.items()
             if node["resource_type"] == "model" and node.get("config", {}).get("materialized") == "view"}
    covered = views | set(left_out)
    tested_alone = {parent for unique_id, node in nodes.items()
                    if node["resource_type"] == "test" and set(parents.get(unique_id, ())) <= covered
                    for parent in parents.get(unique_id, ())}
    return sorted(views - tested_alone - set(left_out))


def contract_checked_tests(manifest: Mapping) -> list[str]:
    """The unique ids of the tests whose rule the column's constraint in its model's enforced
    contract states too: a not_null test where the column is declared not null, an accepted_values
    test where it has the check `<column> in (<the values>)` (`accepted_values_check`). DuckDB
    creates the column so and refuses a row that breaks it when the model is built, so after a
    successful build the test cannot fail; a Spark table is not checked so, and runs them
    (pipelines/transform/assets.py). A view's contract holds column names and types only: its
    tests run."""
    nodes = manifest["nodes"]
    checked = []
    for unique_id, node in nodes.items():
        stated = _constraint_stating(node) if node["resource_type"] == "test" else None
        model = nodes.get(node.get("attached_node") or "")
        if (stated is None or not model or not model["config"].get("contract", {}).get("enforced")
                or model["config"].get("materialized") == "view"):
            continue
        constraints = model["columns"].get(node.get("column_name") or "", {}).get("constraints", [])
        if any({key: constraint.get(key) for key in stated} == stated for constraint in constraints):
            checked.append(unique_id)
    return sorted(checked)


def accepted_values_check(column: str, values: Sequence[str]) -> str:
    """The check constraint that states an accepted_values test: `status in ('done', 'red')`."""
    quoted = ", ".join("'" + str(value).replace("'", "''") + "'" for value in values)
    return f"{column} in ({quoted})"


def _constraint_stating(test: Mapping) -> dict | None:
    """The column constraint that states what `test` checks, if it is one DuckDB can enforce."""
    metadata, column = test.get("test_metadata") or {}, test.get("column_name")
    if test["config"].get("where") or not column:
        return None  # a test of some rows only, or of no one column
    if metadata.get("name") == "not_null":
        return {"type": "not_null"}
    arguments = metadata.get("kwargs") or {}
    if metadata.get("name") == "accepted_values" and arguments.get("quote", True) and arguments.get("values"):
        return {"type": "check", "expression": accepted_values_check(column, arguments["values"])}
    return None


def node_names(manifest: Mapping, unique_ids: Sequence[str]) -> list[str]:
    """The names that select these models and seeds (the tests on them alone follow, cautiously)
    and these tests that read a built model too (the contract-checked ones)."""
    chosen = set(unique_ids)
    parents = manifest.get("parent_map", {})
    return [manifest["nodes"][u]["name"] for u in unique_ids
            if manifest["nodes"][u]["resource_type"] != "test" or not set(parents.get(u, ())) <= chosen]


def relations_no_node_makes(manifest: Mapping, relations: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Of a database's relations (schema, name, type), those in the schemas dbt builds into that no
    model or seed of the project makes: the table of a model since removed or renamed, a
    `…__dbt_tmp` left by a build that was stopped. dbt drops none of them, and the analyst copy
    publishes what the marts and quality schemas hold. The schemas of dbt's sources (raw, state)
    are not dbt's to clear."""
    made = {(node["schema"].lower(), (node.get("alias") or node["name"]).lower())
            for node in manifest["nodes"].values()
            if node["resource_type"] in ("model", "seed", "snapshot")
            and node["config"].get("materialized") != "ephemeral"}
    source_schemas = {source["schema"].lower() for source in manifest["sources"].values()}
    built_schemas = {schema for schema, _ in made} - source_schemas
    return [(schema, name, kind) for schema, name, kind in relations
            if schema.lower() in built_schemas and (schema.lower(), name.lower()) not in made]
