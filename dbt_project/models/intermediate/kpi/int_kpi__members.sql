-- Every KPI family's members per town and month (int_kpi__members_<family>), with the file and
-- sheet names of the row that decides each one, and the town itself for K30 (its workbook).
{{ config(materialized='view') }}  -- read once, by kpi_members: no copy of millions of person rows
with town_workbooks as (
    select
        town_code,
        month,
        {{ member_columns('town', 'town_code', 'town_name', file_id='workbook_file_id') }},
        is_on_time,
        case
            when is_on_time then '次月' || '{{ submission_deadline_day() }}' || '日前（含）已报送'
            when has_workbook then '逾期报送'
            else '本月未报送进度表'
        end as reason_zh
    from {{ ref('int_town_months') }}
),

members as (
    {% for family in ['int_kpi__members_facilities', 'int_kpi__members_village_points', 'int_kpi__members_people',
                      'int_kpi__members_funds', 'int_kpi__members_training'] %}
    select * from {{ ref(family) }}
    union all
    {% endfor %}
    {{ kpi_member_rows('town_workbooks', [
        {'kpi': 'K30_submission_rate', 'numerator': 'is_on_time', 'denominator': 'true', 'reason': 'reason_zh'}
    ]) }}
)

select
    m.kpi_id, m.town_code, m.month, m.member_kind, m.member_id, m.member_name, m.village_code, m.person_group,
    m.in_numerator, m.in_denominator, m.numerator_value, m.denominator_value, m.reason_zh,
    f.file_name as source_file,
    s.sheet_name as source_sheet,
    m.source_row
from members as m
left join {{ ref('stg_ingest__files') }} as f on f.file_id = m.file_id
left join {{ ref('stg_ingest__sheets') }} as s on s.file_id = m.file_id and s.sheet_kind = m.sheet_kind
