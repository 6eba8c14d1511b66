{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K01-K08 and K27-K29, per town and month, from the 机构设施 sheet in force.
-- numerator/denominator are null when the town has no version of the sheet yet.
with sheet as (
    {{ sheet_in_force('facilities') }}
),

facilities as (
    select
        f.*,
        f.facility_type = '失能特困人员集中照护中心' and f.is_built as is_built_care_centre,
        f.facility_type = '镇养老服务中心' and f.is_built as is_built_town_centre,
        p.build_mode as plan_build_mode,
        p.facility_type as plan_facility_type
    from {{ ref('int_facility_monthly') }} as f
    left join {{ ref('int_plan_projects') }} as p on p.project_id = f.project_id
),

per_town as (
    select
        town_code,
        month,
        sum(case when is_built_care_centre then 1 else 0 end) as care_centres_built,
        sum(case when is_built_care_centre then nursing_beds end) as care_centre_nursing_beds,
        sum(case when is_built_care_centre then beds end) as care_centre_beds,
        sum(case when plan_build_mode = '改造升级' and is_built then 1 else 0 end) as upgrades_built,
        sum(case when plan_build_mode = '新建' and plan_facility_type = '敬老院' and is_built then 1 else 0 end)
            as new_homes_built,
        max(case when is_built_town_centre then 1 else 0 end) as has_built_centre,
        sum(case when is_built_town_centre and area_m2 >= min_area_m2 then 1 else 0 end) as centres_area_ok,
        sum(case when is_built_town_centre then 1 else 0 end) as centres_built,
        sum(case when is_built_town_centre and is_socialised and has_operator then 1 else 0 end)
            as centres_institution_run,
        sum(case when is_operating_home then 1 else 0 end) as operating_homes,
        sum(case when is_operating_home and is_socialised then 1 else 0 end) as homes_socialised,
        sum(case when is_operating_home and has_clinic then 1 else 0 end) as homes_with_clinic,
        sum(case when is_operating_home and is_legal_person_registered and is_filed then 1 else 0 end)
            as homes_registered,
        sum(case when plan_build_mode = '撤并' and build_status = '已撤并' then 1 else 0 end) as homes_merged_away
    from facilities
    group by town_code, month
)

{{ kpi_rows('sheet', [
    ('K01_care_centres_built', 'care_centres_built', none),
    ('K02_care_centre_nursing_bed_share', 'care_centre_nursing_beds', 'care_centre_beds'),
    ('K03_nursing_home_upgrades', 'upgrades_built', none),
    ('K04_nursing_home_new_builds', 'new_homes_built', none),
    ('K05_town_centre_coverage', 'has_built_centre', none),
    ('K06_centre_area_compliance', 'centres_area_ok', 'centres_built'),
    ('K07_centre_institution_run', 'centres_institution_run', 'centres_built'),
    ('K08_nursing_home_socialised_rate', 'homes_socialised', 'operating_homes'),
    ('K27_nursing_home_clinic_rate', 'homes_with_clinic', 'operating_homes'),
    ('K28_nursing_home_registration_rate', 'homes_registered', 'operating_homes'),
    ('K29_consolidation_completed', 'homes_merged_away', none)
], present='has_sheet', counts=['per_town']) }}
