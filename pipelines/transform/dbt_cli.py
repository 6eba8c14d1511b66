"""`ruralcare-dbt`: dbt's own command line, made to re-use its parse across warehouses.

dbt re-parses the whole project (≈ 2–3 s) when the profile's connection details differ from
those of its saved parse, and the DuckDB file's path is one of them: every new warehouse (a
first refresh, a test, a benchmark) paid a full parse although no model reads `target.path`.
Here the path is left out of that comparison; the database name, schema and settings, which
the models do see, still count.
"""

from __future__ import annotations

import sys
from pathlib import Path


def executable() -> Path:
    """The `ruralcare-dbt` installed beside this interpreter (also when the venv is not activated)."""
    return Path(sys.executable).parent / "ruralcare-dbt"


def main() -> None:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.cli.main import cli

    connection_keys = DuckDBCredentials._connection_keys

    def connection_keys_but_path(credentials: DuckDBCredentials) -> tuple[str, ...]:
        return tuple(key for key in connection_keys(credentials) if key != "path")

    DuckDBCredentials._connection_keys = connection_keys_but_path
    sys.exit(cli())
