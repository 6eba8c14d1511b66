"""The dbt layers hold (dbt_project/README.md): sources are read in staging only, every model
takes its schema from its layer's folder, names follow the layer's scheme, and the sheet in
force comes from the one macro rather than a copied join."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from pipelines.settings import DBT_PROJECT_DIR
from pipelines.transform import dbt_cli

LAYER_SCHEMAS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts", "quality": "quality"}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    target = tmp_path_factory.mktemp("dbt_target")
    done = subprocess.run(
        [str(dbt_cli.executable()), "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False,
        env={**os.environ, "DO_NOT_TRACK": "1", "RURALCARE_WORK_DB": str(target / "work.duckdb")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    found = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert found
    return found


def folder(model: dict) -> tuple[str, ...]:
    """The folders between models/ and the file, e.g. ("intermediate", "kpi")."""
    return Path(model["original_file_path"]).parent.relative_to("models").parts


def test_only_staging_models_read_sources(models: list[dict]) -> None:
    outside = sorted(m["name"] for m in models
                     if folder(m)[0] != "staging" and any(n.startswith("source.") for n in m["depends_on"]["nodes"]))
    assert outside == [], f"these models read a source; read its staging model instead: {outside}"


def test_each_staging_model_reads_one_source_table_or_seed(models: list[dict]) -> None:
    for model in (m for m in models if folder(m)[0] == "staging"):
        parents = model["depends_on"]["nodes"]
        assert len(parents) == 1 and parents[0].split(".")[0] in ("source", "seed"), (model["name"], parents)


def test_models_take_their_schema_from_their_layer(models: list[dict]) -> None:
    for model in models:
        assert model["config"]["schema"] == LAYER_SCHEMAS[folder(model)[0]], model["name"]
        assert not re.search(r"config\([^)]*\bschema\s*=", model["raw_code"]), f"{model['name']} overrides its schema"


def test_model_names_follow_their_layers_scheme(models: list[dict]) -> None:
    for model in models:
        name, path = model["name"], folder(model)
        if path[0] == "staging":
            expected = r"stg_[a-z]+__[a-z0-9_]+"
        elif path[0] == "intermediate" and len(path) == 1:
            expected = r"int_[a-z0-9]+(_[a-z0-9]+)*"  # int_<concern>, single underscores
        elif path[0] == "intermediate":
            expected = rf"int_{path[1]}__[a-z0-9_]+"  # int_<group>__<name> in intermediate/<group>/
        elif path[:2] == ("quality", "rules"):
            expected = r"dq\d{2}_[a-z0-9_]+"
        else:  # marts and quality: the published names, no layer prefix
            expected = r"(?!stg_|int_|dq\d)[a-z0-9_]+"
        assert re.fullmatch(expected, name), f"{model['original_file_path']}: {name} does not match {expected}"


def test_the_sheet_in_force_is_joined_in_one_place(models: list[dict]) -> None:
    copies = sorted(m["name"] for m in models
                    if "ref('int_town_months')" in m["raw_code"] and "ref('int_effective_sheets')" in m["raw_code"])
    assert copies == [], f"join int_town_months to int_effective_sheets through sheet_in_force(): {copies}"
