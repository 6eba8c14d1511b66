"""dbt's graph agrees with the rule catalogue: the models tagged quality_rule are exactly the
catalogue's SQL-layer rules, and quality.findings depends on each of them."""

import json
import os
import subprocess
from pathlib import Path

from pipelines.catalogue import rules_of_layer
from pipelines.settings import DBT_PROJECT_DIR
from pipelines.transform import dbt_cli


def test_tagged_rule_models_are_the_catalogues_sql_rules_and_feed_findings(tmp_path: Path):
    done = subprocess.run(
        [str(dbt_cli.executable()), "ls", "--resource-type", "model", "--select", "tag:quality_rule",
         "--output", "name", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path)],
        cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False,
        env={**os.environ, "DO_NOT_TRACK": "1", "RURALCARE_WORK_DB": str(tmp_path / "work.duckdb")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tagged = set(done.stdout.split())
    assert tagged == {rule.model for rule in rules_of_layer("sql")}

    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    upstream = manifest["nodes"]["model.ruralcare.findings"]["depends_on"]["nodes"]
    # Besides the rules, findings reads the ingest layer's findings (through staging).
    assert {node.split(".")[-1] for node in upstream if node.startswith("model.")} == tagged | {"stg_ingest__findings"}
