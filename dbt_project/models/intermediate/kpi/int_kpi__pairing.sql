{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K14-K16, per town and month: the town's key-group and grid-group people (registries at the
-- month) against the 结对扶老 sheet in force for the town.
with sheet as (
    {{ sheet_in_force('pairings') }}
),

per_town as (
    select
        town_code,
        month,
        sum(case when is_key_group then 1 else 0 end) as key_group,
        sum(case when is_key_group and is_paired_one_to_one then 1 else 0 end) as key_paired_one_to_one,
        sum(case when is_key_group and is_visited then 1 else 0 end) as key_visited,
        sum(case when is_grid_group then 1 else 0 end) as grid_group,
        sum(case when is_grid_group and is_paired then 1 else 0 end) as grid_paired
    from {{ ref('int_person_monthly') }}
    group by town_code, month
)

{{ kpi_rows('sheet', [
    ('K14_one_to_one_pairing', 'key_paired_one_to_one', 'key_group'),
    ('K15_grid_pairing', 'grid_paired', 'grid_group'),
    ('K16_key_group_visit_rate', 'key_visited', 'key_group')
], present='has_sheet', counts=['per_town']) }}
