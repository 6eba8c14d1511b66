{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K17-K19, per town and for each area above the towns (int_scope_areas: district, city), per
-- month: distinct ID numbers over the 培训情况 rows in force with a valid 培训日期 on or before
-- the month's last day (distinct across the area's towns). K19: trained caregivers with a
-- caregiver row certified and numbered.
with sheet as (
    {{ sheet_in_force('trainings', ['month_end']) }}
),

-- Each trainee per town and month (macros/trained_people.sql).
people as (
    {{ trained_people('sheet') }}
),

town_counts as (
    select
        s.town_code,
        s.month,
        s.has_sheet,
        s.is_stale,
        coalesce(sum(p.is_manager), 0) as managers,
        coalesce(sum(p.is_caregiver), 0) as caregivers,
        coalesce(sum(p.is_certified_caregiver), 0) as certified_caregivers
    from sheet as s
    left join people as p on p.town_code = s.town_code and p.month = s.month
    group by s.town_code, s.month, s.has_sheet, s.is_stale
),

area_people as (
    select
        a.scope_code,
        p.month,
        p.person_key,
        max(p.is_manager) as is_manager,
        max(p.is_caregiver) as is_caregiver,
        max(p.is_certified_caregiver) as is_certified_caregiver
    from people as p
    inner join {{ ref('int_scope_areas') }} as a on a.town_code = p.town_code
    group by a.scope_code, p.month, p.person_key
),

area_sums as (
    select
        scope_code,
        month,
        sum(is_manager) as managers,
        sum(is_caregiver) as caregivers,
        sum(is_certified_caregiver) as certified_caregivers
    from area_people
    group by scope_code, month
),

area_counts as (
    select
        a.scope_code,
        s.month,
        max(case when s.has_sheet then 1 else 0 end) = 1 as has_sheet,
        max(case when s.is_stale then 1 else 0 end) = 1 as is_stale,
        coalesce(max(d.managers), 0) as managers,
        coalesce(max(d.caregivers), 0) as caregivers,
        coalesce(max(d.certified_caregivers), 0) as certified_caregivers
    from sheet as s
    inner join {{ ref('int_scope_areas') }} as a on a.town_code = s.town_code
    left join area_sums as d on d.scope_code = a.scope_code and d.month = s.month
    group by a.scope_code, s.month
),

measures as (
    select town_code as scope_code, month, has_sheet, is_stale, managers, caregivers, certified_caregivers
    from town_counts
    union all
    select scope_code, month, has_sheet, is_stale, managers, caregivers, certified_caregivers
    from area_counts
)

{{ kpi_rows('measures', [
    ('K17_manager_training', 'managers', none),
    ('K18_caregiver_training', 'caregivers', none),
    ('K19_caregiver_certification', 'certified_caregivers', 'caregivers')
], present='has_sheet', scope='scope_code') }}
