-- The payments, centres and persons behind K23, K24 and K26 per town and month, with the
-- amounts they add to int_kpi__funds' sums (the same payments and residents: macros/fund_members.sql).
-- K23: 市级奖补 payments to centres (numerator) and built centres at 1,000,000 元 each
-- (denominator); K24: the plan's centres in a home with a 区级补助; K26: 运行经费 payments to
-- operating homes this year (numerator) and their 集中供养 特困 residents' yearly allowance
-- × month number ÷ 12 (denominator).
{{ config(materialized='view') }}  -- read once, by kpi_members: no copy of millions of person rows
with paid as (
    select p.*, m.month_end, s.file_id
    from ({{ fund_payments_paid() }}) as p
    inner join {{ ref('int_months') }} as m on m.month = p.month
    inner join {{ ref('int_effective_sheets') }} as s
        on s.town_code = p.town_code and s.month = p.month and s.sheet_kind = 'funds'
),

payments as (
    select
        town_code,
        month,
        case
            when fund_type = '市级奖补' and is_to_town_centre and paid_date <= month_end then 'city_award'
            when fund_type = '运行经费' and is_operating_home and paid_date <= month_end
                and extract(year from paid_date) = extract(year from month_end) then 'running_funds'
        end as role,
        {{ member_columns('payment', "file_id || ':' || cast(row_number as string)", 'project_name', file_id='file_id',
                          sheet_kind='funds', source_row='row_number') }},
        amount_yuan as amount,
        fund_type || cast(amount_yuan as string) || '元，到位日期' || cast(paid_date as string) as reason_zh
    from paid
),

built_centres as (
    select
        town_code,
        month,
        'built_centre' as role,
        {{ member_columns('facility', 'facility_key', 'facility_name', file_id='file_id', sheet_kind='facilities',
                          source_row='row_number') }},
        {{ city_award_per_centre_yuan() }} as amount,
        '镇养老服务中心已建成（' || build_status || '），应到位市级奖补' || '{{ city_award_per_centre_yuan() }}' || '元' as reason_zh
    from {{ ref('int_facility_monthly') }}
    where facility_type = '镇养老服务中心' and is_built
),

topup_centres as (
    select
        p.town_code,
        p.month,
        'topup_centre' as role,
        {{ member_columns('project', 'pp.project_id', 'pp.facility_name', file_id='min(p.file_id)', sheet_kind='funds',
                          source_row='min(p.row_number)') }},
        sum(p.amount_yuan) as amount,
        '区级补助合计' || cast(sum(p.amount_yuan) as string) || '元'
        || case when sum(p.amount_yuan) <= {{ district_topup_cap_yuan() }} then '，未超过100万元' else '，超过100万元' end
            as reason_zh
    from paid as p
    inner join {{ ref('int_plan_projects') }} as pp
        on pp.town_code = p.town_code and pp.name_stripped = p.name_stripped
    where p.fund_type = '区级补助' and pp.is_centre_in_nursing_home
    group by p.town_code, p.month, pp.project_id, pp.facility_name
),

residents as (
    select
        h.town_code,
        h.month,
        'resident' as role,
        {{ member_columns('person', 'h.person_key', village_code='h.village_code', person_group="'集中供养特困人员'",
                          file_id='h.file_id', source_row='h.row_number') }},
        coalesce(h.annual_allowance_yuan, 0) * m.month_number / 12.0 as amount,
        '供养于' || f.facility_name || '，年基本生活标准'
        || coalesce(cast(h.annual_allowance_yuan as string) || '元', '未填') as reason_zh
    from ({{ running_fund_residents() }}) as h
    inner join {{ ref('int_facility_monthly') }} as f
        on f.town_code = h.town_code and f.month = h.month and f.facility_key = h.facility_key
    inner join {{ ref('int_months') }} as m on m.month = h.month
    where f.is_operating_home
),

members as (
    select * from payments
    union all
    select * from built_centres
    union all
    select * from topup_centres
    union all
    select * from residents
)

{{ kpi_member_rows('members', [
    {'kpi': 'K23_city_subsidy_received', 'numerator': "role = 'city_award'", 'denominator': "role = 'built_centre'",
     'numerator_value': "case when role = 'city_award' then amount end",
     'denominator_value': "case when role = 'built_centre' then amount end", 'reason': 'reason_zh'},
    {'kpi': 'K24_district_topup_compliance', 'numerator': 'amount <= ' ~ district_topup_cap_yuan(),
     'denominator': 'true', 'reason': 'reason_zh', 'where': "role = 'topup_centre'"},
    {'kpi': 'K26_running_fund_ratio', 'numerator': "role = 'running_funds'", 'denominator': "role = 'resident'",
     'numerator_value': "case when role = 'running_funds' then amount end",
     'denominator_value': "case when role = 'resident' then amount end", 'reason': 'reason_zh'}
]) }}
