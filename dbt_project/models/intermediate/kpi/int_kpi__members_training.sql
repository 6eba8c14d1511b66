-- The trainees behind K17-K19 per town and month (by person_key: the HMAC of their ID number),
-- as int_kpi__training counts them, with their first counted row of the 培训情况 sheet in force.
{{ config(materialized='view') }}  -- read once, by kpi_members: no copy of millions of person rows
with sheet as (
    {{ sheet_in_force('trainings', ['month_end']) }}
),

trainees as (
    select
        p.*,
        {{ member_columns('person', 'p.person_key',
                          person_group="concat_ws('、', case when p.is_manager = 1 then '院长/主管' end,
                                                       case when p.is_caregiver = 1 then '养老护理员' end)",
                          sheet_kind='trainings', source_row='p.first_row_number', own=['file_id']) }}
    from ({{ trained_people('sheet') }}) as p
)

{{ kpi_member_rows('trainees', [
    {'kpi': 'K17_manager_training', 'numerator': 'is_manager = 1', 'denominator': none,
     'reason': "'截至月末已培训（院长/主管）'", 'where': 'is_manager = 1'},
    {'kpi': 'K18_caregiver_training', 'numerator': 'is_caregiver = 1', 'denominator': none,
     'reason': "'截至月末已培训（养老护理员）'", 'where': 'is_caregiver = 1'},
    {'kpi': 'K19_caregiver_certification', 'numerator': 'is_certified_caregiver = 1', 'denominator': 'is_caregiver = 1',
     'reason': "case when is_certified_caregiver = 1 then '已取证并填写证书编号' else '未取证或未填写证书编号' end",
     'where': 'is_caregiver = 1'}
]) }}
