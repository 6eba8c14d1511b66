"""The refresh's helper processes, started before the refresh imports Dagster.

A refresh's first seconds are one core importing Dagster, dagster-dbt and the definitions,
while the other core has nothing to do. The helpers — the expectation suites' process
(pipelines/ingest/suite_process.py) and the warm dbt process that imports dbt and parses the
project (pipelines/transform/dbt_cli.py) — need none of it, so the command line starts them
first: their imports then run on the idle core instead of beside the loader's reading.
This module imports no Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from pipelines.settings import Settings

_running = False


@contextmanager
def helpers_running(settings: Settings) -> Iterator[None]:
    """Within the block the refresh's helpers run; a block inside another starts none again."""
    global _running
    if _running:
        yield
        return
    from pipelines.ingest.suite_process import suites_ahead
    from pipelines.transform.dbt_cli import warm_dbt
    from pipelines.transform.dbt_run import parse_ahead, start_from_project_parse

    with ExitStack() as helpers:
        # Great Expectations imported, and the dbt project parsed, while the definitions are
        # imported and the files read.
        helpers.enter_context(suites_ahead())
        if settings.engine == "duckdb":
            start_from_project_parse(settings.dbt_target_dir)
            helpers.enter_context(warm_dbt(parse_ahead(settings)))
        _running = True
        try:
            yield
        finally:
            _running = False
