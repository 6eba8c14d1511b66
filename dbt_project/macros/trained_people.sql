{#- K17-K19's trainees per town and month: distinct ID numbers (person_key) over the 培训情况 rows
    of the sheet in force (`sheet`: sheet_in_force('trainings', ['month_end'])) with a valid 培训日期
    on or before the month's last day, with what they were trained as and their first such row.
    int_kpi__training counts them, int_kpi__members_training lists them. -#}
{% macro trained_people(sheet) -%}
    select
        s.town_code,
        s.month,
        s.file_id,
        t.person_key,
        min(t.row_number) as first_row_number,
        max(case when t.training_category = '院长/主管' then 1 else 0 end) as is_manager,
        max(case when t.training_category = '养老护理员' then 1 else 0 end) as is_caregiver,
        max(case when t.training_category = '养老护理员' and coalesce(t.is_certified and trim(t.certificate_no) <> '', false)
                 then 1 else 0 end) as is_certified_caregiver
    from {{ sheet }} as s
    inner join {{ ref('stg_towns__trainings') }} as t on t.file_id = s.file_id
    where t.person_key is not null and t.training_date <= s.month_end
    group by s.town_code, s.month, s.file_id, t.person_key
{%- endmacro %}
