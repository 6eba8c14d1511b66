{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K23, K24 and K26, per town and month, from the 资金情况 sheet in force and the facilities
-- in force (payments matched to facilities by name); K23 and K24 also match payments to the
-- plan's centres by name, K26 also reads the 特困 register.
-- Sums skip null (unreadable) amounts, which are already DQ11 findings (docs/kpis.md): such a
-- payment counts nowhere, not even in K24's denominator (decisions.md).
with facilities_sheet as (
    {{ sheet_in_force('facilities', ['month_end', 'month_number']) }}
),

funds_sheet as (
    {{ sheet_in_force('funds') }}
),

sheets as (
    select
        fac.town_code,
        fac.month,
        fac.month_end,
        fac.month_number,
        fac.has_sheet and fund.has_sheet as has_sheets,
        fac.is_stale or fund.is_stale as is_stale
    from facilities_sheet as fac
    inner join funds_sheet as fund on fund.town_code = fac.town_code and fund.month = fac.month
),

-- Payments with what they were paid to (macros/fund_members.sql).
paid as (
    {{ fund_payments_paid() }}
),

city_award as (
    select p.town_code, p.month, sum(p.amount_yuan) as received
    from paid as p
    inner join {{ ref('int_months') }} as m on m.month = p.month
    where p.fund_type = '市级奖补' and p.is_to_town_centre and p.paid_date <= m.month_end
    group by p.town_code, p.month
),

centres_built as (
    select town_code, month, count(*) as centres
    from {{ ref('int_facility_monthly') }}
    where facility_type = '镇养老服务中心' and is_built
    group by town_code, month
),

-- K24: 区级补助 (any date) per plan centre renovated in a home, matched by name to the plan
-- project itself, so a centre without a 机构设施 row still counts. A centre is in the
-- denominator once it has a readable amount (0 included); unreadable amounts were dropped
-- in `paid` and neither add a centre nor fail one (decisions.md).
topup_by_centre as (
    select
        p.town_code,
        p.month,
        pp.project_id,
        sum(p.amount_yuan) as topup
    from paid as p
    inner join {{ ref('int_plan_projects') }} as pp
        on pp.town_code = p.town_code and pp.name_stripped = p.name_stripped
    where p.fund_type = '区级补助' and pp.is_centre_in_nursing_home
    group by p.town_code, p.month, pp.project_id
),

topup as (
    select
        town_code,
        month,
        sum(case when topup <= {{ district_topup_cap_yuan() }} then 1 else 0 end) as centres_within_cap,
        count(*) as centres_with_topup
    from topup_by_centre
    group by town_code, month
),

running_funds as (
    select p.town_code, p.month, sum(p.amount_yuan) as paid_this_year
    from paid as p
    inner join {{ ref('int_months') }} as m on m.month = p.month
    where p.fund_type = '运行经费' and p.is_operating_home
        and p.paid_date <= m.month_end
        and extract(year from p.paid_date) = extract(year from m.month_end)
    group by p.town_code, p.month
),

-- 集中供养 特困 persons with the home they live in (macros/fund_members.sql).
resident_homes as (
    {{ running_fund_residents() }}
),

allowances as (
    select h.town_code, h.month, sum(h.annual_allowance_yuan) as annual_allowance
    from resident_homes as h
    inner join {{ ref('int_facility_monthly') }} as f
        on f.town_code = h.town_code and f.month = h.month and f.facility_key = h.facility_key
    where f.is_operating_home
    group by h.town_code, h.month
),

measures as (
    select
        s.town_code,
        s.month,
        s.is_stale,
        s.has_sheets,
        coalesce(a.received, 0) as city_award_received,
        {{ city_award_per_centre_yuan() }} * coalesce(c.centres, 0) as city_award_due,
        coalesce(t.centres_within_cap, 0) as centres_within_cap,
        coalesce(t.centres_with_topup, 0) as centres_with_topup,
        coalesce(r.paid_this_year, 0) as running_funds_paid,
        coalesce(al.annual_allowance, 0) * s.month_number / 12.0 as running_funds_due
    from sheets as s
    left join city_award as a on a.town_code = s.town_code and a.month = s.month
    left join centres_built as c on c.town_code = s.town_code and c.month = s.month
    left join topup as t on t.town_code = s.town_code and t.month = s.month
    left join running_funds as r on r.town_code = s.town_code and r.month = s.month
    left join allowances as al on al.town_code = s.town_code and al.month = s.month
)

{{ kpi_rows('measures', [
    ('K23_city_subsidy_received', 'city_award_received', 'city_award_due'),
    ('K24_district_topup_compliance', 'centres_within_cap', 'centres_with_topup'),
    ('K26_running_fund_ratio', 'running_funds_paid', 'running_funds_due')
], present='has_sheets') }}
