-- People in the KPIs per month, de-identified: the person key (HMAC of the ID), town,
-- village, age band, group flags and what the programme reached them with. No name, ID or phone.
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
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
where {{ in_months_to_build('month') }}
