-- K23, K24 and K26, per town and month, from the 资金情况 sheet in force and the facilities
-- in force (payments matched to facilities by name); K26 also reads the 特困 register.
-- Sums skip null amounts; a centre with an unreadable 区级补助 amount fails K24.
with sheets as (
    select
        tm.town_code,
        tm.month,
        tm.month_end,
        tm.month_number,
        fac.file_id is not null and fund.file_id is not null as has_sheets,
        fac.is_stale or fund.is_stale as is_stale
    from {{ ref('int_town_months') }} as tm
    inner join {{ ref('int_effective_sheets') }} as fac
        on fac.town_code = tm.town_code and fac.month = tm.month and fac.sheet_kind = 'facilities'
    inner join {{ ref('int_effective_sheets') }} as fund
        on fund.town_code = tm.town_code and fund.month = tm.month and fund.sheet_kind = 'funds'
),

paid as (
    select
        p.*,
        f.facility_type,
        f.is_built,
        f.is_operating_home,
        coalesce(pp.is_centre_in_nursing_home, false) as is_centre_in_nursing_home
    from {{ ref('int_fund_payments_monthly') }} as p
    inner join {{ ref('int_facility_monthly') }} as f
        on f.town_code = p.town_code and f.month = p.month and f.facility_key = p.facility_key
    left join {{ ref('int_plan_projects') }} as pp on pp.project_id = f.project_id
),

city_award as (
    select p.town_code, p.month, sum(p.amount_yuan) as received
    from paid as p
    inner join {{ ref('int_months') }} as m on m.month = p.month
    where p.fund_type = '市级奖补' and p.facility_type = '镇养老服务中心' and p.paid_date <= m.month_end
    group by p.town_code, p.month
),

centres_built as (
    select town_code, month, count(*) as centres
    from {{ ref('int_facility_monthly') }}
    where facility_type = '镇养老服务中心' and is_built
    group by town_code, month
),

topup_by_centre as (
    select
        town_code,
        month,
        facility_key,
        coalesce(sum(amount_yuan), 0) as topup,
        max(case when is_amount_unreadable then 1 else 0 end) = 1 as has_unreadable_amount
    from paid
    where fund_type = '区级补助' and is_centre_in_nursing_home and (amount_yuan > 0 or is_amount_unreadable)
    group by town_code, month, facility_key
),

topup as (
    select
        town_code,
        month,
        sum(case when not has_unreadable_amount and topup <= {{ district_topup_cap_yuan() }} then 1 else 0 end)
            as centres_within_cap,
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

residents as (
    select
        e.month,
        r.town_code,
        r.annual_allowance_yuan,
        {{ normalise_name('r.institution') }} as name_norm,
        {{ normalise_name('t.town_name') }} as town_name_norm
    from {{ ref('int_effective_registries') }} as e
    inner join {{ ref('stg_registry__tekun') }} as r on r.file_id = e.file_id
    inner join {{ ref('dim_town') }} as t on t.town_code = r.town_code
    where e.registry = 'tekun' and r.person_key is not null and r.person_status = '正常'
        and r.support_mode = '集中供养'
        and r.row_number = (
            select min(r2.row_number) from {{ ref('stg_registry__tekun') }} as r2
            where r2.file_id = r.file_id and r2.person_key = r.person_key
        )
),

resident_homes as (
    select
        r.month,
        r.town_code,
        r.annual_allowance_yuan,
        coalesce(
            (select min(f.facility_key) from {{ ref('int_facility_monthly') }} as f
             where f.town_code = r.town_code and f.month = r.month and f.name_norm = r.name_norm),
            (select min(f.facility_key) from {{ ref('int_facility_monthly') }} as f
             where f.town_code = r.town_code and f.month = r.month
                and f.name_stripped = {{ strip_town_prefix('r.name_norm', 'r.town_name_norm') }})
        ) as facility_key
    from residents as r
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
