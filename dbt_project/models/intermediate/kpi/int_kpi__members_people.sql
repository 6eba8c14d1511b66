-- The persons behind K14-K16 per town and month (int_person_monthly, as int_kpi__pairing
-- counts them), by person_key with their village and group, and the registry export and
-- record row that place them in the town (the elderly database first, then 特困, then 低保).
-- The registry-only info KPIs K20-K22 have no members here (decisions.md: their persons are
-- fct_person_monthly's rows, and listing them would triple the analyst copy).
{{ config(materialized='view') }}  -- read once, by kpi_members: no copy of millions of person rows
with people as (
    select
        p.*,
        {{ member_columns('person', 'p.person_key', file_id='e.file_id', source_row='p.home_row_number',
                          own=['village_code', 'person_group']) }},
        concat_ws('、',
            case when p.is_dispersed_tekun then '分散供养特困' end,
            case when p.is_low_income then '低保/低保边缘' end,
            case when p.is_disabled_family_planning_special then '计生特殊家庭失能' end) as key_group_zh,
        concat_ws('、',
            case when p.is_high_age then '高龄' end,
            case when p.lives_alone then '独居' end,
            case when p.is_left_behind then '留守' end) as grid_group_zh
    from {{ ref('int_person_monthly') }} as p
    inner join {{ ref('int_effective_registries') }} as e on e.month = p.month and e.registry = p.home_registry
),

grouped as (
    select
        *,
        case
            when is_key_group then '重点对象（' || key_group_zh || '）'
            when is_grid_group then '其他重点老人（' || grid_group_zh || '）'
        end as person_group
    from people
)

{{ kpi_member_rows('grouped', [
    {'kpi': 'K14_one_to_one_pairing', 'numerator': 'is_paired_one_to_one', 'denominator': 'is_key_group',
     'reason': "case when is_paired_one_to_one then '有一对一结对记录' when is_paired then '仅有网格化结对记录，无一对一结对记录'
                else '无一对一结对记录' end", 'where': 'is_key_group'},
    {'kpi': 'K15_grid_pairing', 'numerator': 'is_paired', 'denominator': 'is_grid_group',
     'reason': "case when is_paired_one_to_one then '有一对一结对记录' when is_paired then '有网格化结对记录' else '无结对记录' end",
     'where': 'is_grid_group'},
    {'kpi': 'K16_key_group_visit_rate', 'numerator': 'is_visited', 'denominator': 'is_key_group',
     'reason': "case when is_visited then '本月已探访' when is_paired then '本月探访次数为0或未填' else '无结对记录' end",
     'where': 'is_key_group'}
]) }}
