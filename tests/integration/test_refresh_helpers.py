"""The refresh's helper processes started before Dagster is imported (pipelines/refresh_helpers.py):
the command line starts them, the refresh it then runs uses those, and none is left after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

_CODE = """
import json, os, sys
from pathlib import Path
from pipelines.ingest.suite_process import taken_ahead
from pipelines.refresh_helpers import helpers_running
from pipelines.settings import Settings
from pipelines.transform.dbt_cli import WARM_SOCKET_ENV

seen = {}
with helpers_running(Settings.from_env(warehouse_dir=Path(sys.argv[1]))):
    outer = (taken_ahead(), os.environ.get(WARM_SOCKET_ENV))
    seen["dagster_imported"] = "dagster" in sys.modules
    seen["pandas_imported"] = "pandas" in sys.modules  # GX's, in the suites process only
    seen["suites_started"] = outer[0] is not None and outer[0]._process.is_alive()
    seen["warm_socket"] = outer[1] is not None and Path(outer[1]).exists()
    with helpers_running(Settings.from_env(warehouse_dir=Path(sys.argv[1]))):
        seen["inner_starts_none"] = (taken_ahead(), os.environ.get(WARM_SOCKET_ENV)) == outer
    seen["outer_still_running"] = taken_ahead() is outer[0] and outer[0]._process.is_alive()
seen["suites_stopped"] = taken_ahead() is None and not outer[0]._process.is_alive()
seen["socket_gone"] = WARM_SOCKET_ENV not in os.environ and not Path(outer[1]).exists()
print(json.dumps(seen))
"""


def test_the_helpers_start_without_dagster_once_and_stop_with_their_block(tmp_path: Path):
    done = subprocess.run([sys.executable, "-c", _CODE, str(tmp_path / "warehouse")], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "dagster_imported": False, "pandas_imported": False, "suites_started": True, "warm_socket": True,
        "inner_starts_none": True, "outer_still_running": True, "suites_stopped": True, "socket_gone": True,
    }
