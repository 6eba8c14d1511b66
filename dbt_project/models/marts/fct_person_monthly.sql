-- People in the KPIs per month, de-identified: the person key (HMAC of the ID), town,
-- village, age band, group flags and what the programme reached them with. No name, ID or phone.
-- A view on DuckDB: its rows are int_person_monthly's (built month by month) without the exact
-- age, and the analyst copy writes it as a table (docs/decisions.md, "The published persons are a
-- view"). A table on Spark, whose build hands back tables only (pipelines/transform/spark.py).
{{ config(materialized='view' if target.type == 'duckdb' else 'table') }}
select
    person_key,
    month,
    town_code,
    village_code,
    {{ age_band('age') }} as age_band,
    is_key_group,
    is_grid_group,
    is_device_group,
    is_high_age,
    lives_alone,
    is_left_behind,
    in_elderly_database,
    is_paired_one_to_one,
    is_paired,
    is_visited,
    has_smart_device,
    has_family_doctor_contract
from {{ ref('int_person_monthly') }}
