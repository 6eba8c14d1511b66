{#- The payments of the 资金情况 sheet in force with a readable amount, with what they were paid
    to. A payment goes to a town centre when the facility it matches in 机构设施 (any status) is a
    centre, or when it names one of the town's plan centres: the plan centre counts even when
    机构设施 has no row for it (decisions.md, K23). Equal normalised names have equal
    town-stripped names, so matching plan projects on name_stripped alone covers both of
    docs/inputs.md's matching steps. int_kpi__funds sums them, int_kpi__members_funds lists them. -#}
{% macro fund_payments_paid() -%}
    select
        p.*,
        f.facility_type,
        coalesce(f.is_operating_home, false) as is_operating_home,
        coalesce(f.facility_type = '镇养老服务中心', false)
        or exists (
            select 1 from {{ ref('int_plan_projects') }} as pp
            where pp.town_code = p.town_code and pp.name_stripped = p.name_stripped
                and pp.facility_type = '镇养老服务中心'
        ) as is_to_town_centre
    from {{ ref('int_fund_payments_monthly') }} as p
    left join {{ ref('int_facility_monthly') }} as f
        on f.town_code = p.town_code and f.month = p.month and f.facility_key = p.facility_key
    where p.amount_yuan is not null
{%- endmacro %}

{#- K26's residents: the active 集中供养 rows of the 特困 export in force, one per person (the first
    such row: filtering first means an earlier 终止 or 分散供养 row of the same person does not hide
    an active one; decisions.md: deduplicated per export), with the facility their 供养机构 names
    (matched by name like a reported row) and the export row they come from. -#}
{% macro running_fund_residents() -%}
    with active_residents as (
        select
            r.month,
            r.town_code,
            r.village_code,
            r.person_key,
            r.file_id,
            r.row_number,
            r.annual_allowance_yuan,
            {{ normalise_name('r.institution') }} as name_norm,
            {{ normalise_name('t.town_name') }} as town_name_norm,
            row_number() over (partition by r.month, r.file_id, r.person_key order by r.row_number) as occurrence
        from ({{ registry_rows_in_force('tekun') }}) as r
        inner join {{ ref('dim_town') }} as t on t.town_code = r.town_code
        where r.person_key is not null and r.person_status = '正常' and r.support_mode = '集中供养'
    )

    select
        r.month, r.town_code, r.village_code, r.person_key, r.file_id, r.row_number, r.annual_allowance_yuan,
        {{ matched_by_name('facility_key', ref('int_facility_monthly'), 'r', ['town_code', 'month'],
                           name_stripped=strip_town_prefix('r.name_norm', 'r.town_name_norm')) }} as facility_key
    from active_residents as r
    where r.occurrence = 1
{%- endmacro %}
