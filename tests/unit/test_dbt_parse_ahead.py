"""When the warm dbt process may run a command on the manifest it parsed ahead
(pipelines/transform/dbt_cli.py): only when nothing the parse depended on differs."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from pipelines.transform import dbt_cli


def parsed_in(project: Path) -> dbt_cli._Parsed:
    (project / "models").mkdir(parents=True)
    (project / "models" / "a.sql").write_text("select 1 as a", encoding="utf-8")
    (project / "dbt_project.yml").write_text("name: p\n", encoding="utf-8")
    manifest = SimpleNamespace(env_vars={"RURALCARE_WORK_DB": "/w/work.duckdb"})  # what the project read
    return dbt_cli._Parsed(manifest, dbt_cli._parse_options(["--vars", '{"plan_dir": "/p"}']),
                           {"DBT_TARGET_PATH": "/w/target"}, str(project), dbt_cli._project_files(str(project)))


ENV = {"RURALCARE_WORK_DB": "/w/work.duckdb", "DBT_TARGET_PATH": "/w/target", "DBT_LOG_FORMAT": "json"}
BUILD = ["build", "--exclude-resource-type", "unit_test", "--vars", '{"plan_dir": "/p"}', "--select", "fqn:*"]


def test_a_command_with_the_same_vars_folders_environment_and_files_uses_the_parse(tmp_path: Path):
    parsed = parsed_in(tmp_path)
    assert parsed.still_holds(BUILD, ENV, str(tmp_path))
    assert parsed.still_holds(["--log-format", "json", *BUILD], {**ENV, "UNRELATED": "x"}, str(tmp_path))


def test_anything_the_parse_depended_on_that_differs_makes_dbt_parse_again(tmp_path: Path):
    parsed = parsed_in(tmp_path)
    other_vars = ["build", "--vars", '{"plan_dir": "/q"}']
    no_vars = ["build"]
    assert not parsed.still_holds(other_vars, ENV, str(tmp_path))
    assert not parsed.still_holds(no_vars, ENV, str(tmp_path))
    assert not parsed.still_holds([*BUILD, "--target", "spark"], ENV, str(tmp_path))
    assert not parsed.still_holds(BUILD, {**ENV, "RURALCARE_WORK_DB": "/v/work.duckdb"}, str(tmp_path))
    assert not parsed.still_holds(BUILD, {**ENV, "DBT_TARGET_PATH": "/v/target"}, str(tmp_path))
    assert not parsed.still_holds(BUILD, ENV, str(tmp_path / "models"))

    model = tmp_path / "models" / "a.sql"
    model.write_text("select 2 as a", encoding="utf-8")  # same size, a later modification time
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    assert not parsed.still_holds(BUILD, ENV, str(tmp_path))


def test_options_are_read_in_both_spellings():
    assert dbt_cli._parse_options(["--vars={\"a\": 1}", "--target", "spark"])["--vars"] == '{"a": 1}'
    assert dbt_cli._parse_options(["--vars={\"a\": 1}", "--target", "spark"])["--target"] == "spark"
