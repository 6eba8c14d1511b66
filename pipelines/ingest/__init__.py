"""Ingest: town workbooks and registry exports into the raw layer (Parquet + DuckDB `raw.*`)."""

from pipelines.ingest.run import IngestSummary, run_ingest

__all__ = ["IngestSummary", "run_ingest", "INGEST_ASSETS", "INGEST_CHECKS"]


def __getattr__(name: str):
    # The Dagster definitions import dagster; plain loader users (CLI, tests) need not.
    if name in ("INGEST_ASSETS", "INGEST_CHECKS"):
        from pipelines.ingest import assets

        return getattr(assets, name)
    raise AttributeError(name)
