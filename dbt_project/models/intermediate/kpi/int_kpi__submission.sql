{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K30, per town and month: 1 when the town's earliest accepted workbook for the month was
-- submitted on or before the 5th of the next month, out of 1. Stale when nothing was sent.
select
    town_code,
    month,
    'K30_submission_rate' as kpi_id,
    cast(case when is_on_time then 1 else 0 end as double) as numerator,
    cast(1 as double) as denominator,
    not has_workbook as is_stale
from {{ ref('int_town_months') }}
