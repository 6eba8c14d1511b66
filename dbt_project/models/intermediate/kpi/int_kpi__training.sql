-- K17-K19, per town and for the district, per month: distinct ID numbers over the 培训情况
-- rows in force with a valid 培训日期 on or before the month's last day (distinct across
-- towns for the district). K19: trained caregivers with a caregiver row certified and numbered.
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

district_people as (
    select
        month,
        person_key,
        max(is_manager) as is_manager,
        max(is_caregiver) as is_caregiver,
        max(is_certified_caregiver) as is_certified_caregiver
    from people
    group by month, person_key
),

district_sums as (
    select
        month,
        sum(is_manager) as managers,
        sum(is_caregiver) as caregivers,
        sum(is_certified_caregiver) as certified_caregivers
    from district_people
    group by month
),

district_counts as (
    select
        s.month,
        max(case when s.has_sheet then 1 else 0 end) = 1 as has_sheet,
        max(case when s.is_stale then 1 else 0 end) = 1 as is_stale,
        coalesce(max(d.managers), 0) as managers,
        coalesce(max(d.caregivers), 0) as caregivers,
        coalesce(max(d.certified_caregivers), 0) as certified_caregivers
    from sheet as s
    left join district_sums as d on d.month = s.month
    group by s.month
),

measures as (
    select town_code as scope_code, month, has_sheet, is_stale, managers, caregivers, certified_caregivers
    from town_counts
    union all
    select '{{ var("district_code") }}', month, has_sheet, is_stale, managers, caregivers, certified_caregivers
    from district_counts
)

{{ kpi_rows('measures', [
    ('K17_manager_training', 'managers', none),
    ('K18_caregiver_training', 'caregivers', none),
    ('K19_caregiver_certification', 'certified_caregivers', 'caregivers')
], present='has_sheet', scope='scope_code') }}
