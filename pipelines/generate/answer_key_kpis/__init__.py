"""The generator's KPI answer key (docs/kpis.md), computed in Polars from the truth tables.

Written independently of the dbt KPI models, so that each checks the other.
`pipelines.generate.answer_kpis.compute_answer_kpis` is the entry point.
"""
