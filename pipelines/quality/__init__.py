"""Data quality: cross-source rule checks on quality.findings and the towns' feedback workbooks.

The Dagster definitions import `pipelines.quality.assets` and `.checks` themselves: the feedback
workbooks' spawned writer processes import only `pipelines.quality.feedback`, not Dagster.
"""
