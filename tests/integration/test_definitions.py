"""The Dagster definitions load, and their shape matches the snapshot.

A refactor that drops or renames an asset, check, job, schedule or sensor fails here. After an
intended change, regenerate with: RURALCARE_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/integration/test_definitions.py
(that run writes the snapshot and fails; the run after it, without the variable, compares).
"""

import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).parent.parent / "snapshots" / "definitions.json"


def current_shape() -> dict:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assets = {
        key.to_user_string(): graph.get(key).group_name
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable
    }
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys)
    return {
        "assets": dict(sorted(assets.items())),
        "asset_checks": checks,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": sorted(s.name for s in (defs.schedules or [])),
        "sensors": sorted(s.name for s in (defs.sensors or [])),
    }


def test_definitions_match_snapshot() -> None:
    shape = current_shape()
    assert shape["assets"] and shape["asset_checks"] and shape["jobs"], f"the definitions loaded empty: {shape}"
    if os.environ.get("RURALCARE_UPDATE_SNAPSHOTS") == "1":
        # Comparing with what was just written would always pass: an updating run never passes.
        SNAPSHOT.write_text(json.dumps(shape, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        pytest.fail(f"snapshot updated ({SNAPSHOT}); review its diff and re-run without RURALCARE_UPDATE_SNAPSHOTS")
    assert shape == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_assets_are_grouped_by_stage() -> None:
    groups = set(current_shape()["assets"].values())
    assert groups == {"ingest", "transform", "quality", "report", "publish"}
