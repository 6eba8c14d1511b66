"""Ingest: town workbooks and registry exports into the raw layer (Parquet + DuckDB `raw.*`)."""

__all__ = ["IngestSummary", "run_ingest", "INGEST_ASSETS", "INGEST_CHECKS"]


def __getattr__(name: str):
    # Imported on first use: the processes the loader spawns (pipelines/ingest/prefetch.py,
    # suite_process.py) import a module of this package each and need neither the loader's
    # libraries (≈ 0.4 s apiece) nor dagster, which the Dagster definitions import.
    if name in ("IngestSummary", "run_ingest"):
        from pipelines.ingest import run

        return getattr(run, name)
    if name in ("INGEST_ASSETS", "INGEST_CHECKS"):
        from pipelines.ingest import assets

        return getattr(assets, name)
    raise AttributeError(name)
