-- DQ16_subsidy_over_cap: Σ 区级补助 paid to a town centre (matched by 项目名称) above
-- 1,000,000 元 (one finding per centre; the row only when a single payment makes the sum),
-- or a 互助养老点 row (point or sub-point, each on its own) with 设备购置补助 above 20,000 元.
with topups as (
    select
        p.town_code,
        p.month,
        s.file_id,
        s.sheet_name as sheet,
        f.facility_name,
        count(*) as payments,
        min(p.row_number) as first_row_number,
        sum(p.amount_yuan) as total_yuan
    from {{ ref('int_fund_payments_monthly') }} as p
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.town_code = p.town_code and s.month = p.month and s.sheet_kind = 'funds'
    inner join {{ ref('int_facility_monthly') }} as f
        on f.town_code = p.town_code and f.month = p.month and f.facility_key = p.facility_key
    where p.fund_type = '区级补助' and p.amount_yuan is not null and f.facility_type = '镇养老服务中心'
    group by p.town_code, p.month, s.file_id, s.sheet_name, f.facility_key, f.facility_name
    having sum(p.amount_yuan) > {{ district_topup_cap_yuan() }}
),

equipment as (
    select
        p.town_code, p.month, p.file_id, p.sheet, p.row_number,
        coalesce(p.point_name, p.village_name) as subject,
        p.equipment_subsidy_yuan
    from ({{ own_sheet_rows('village_points', ['point_name', 'village_name', 'equipment_subsidy_yuan']) }}) as p
    where p.equipment_subsidy_yuan > {{ point_equipment_cap_yuan() }}
),

found as (
    select
        town_code, month, file_id, sheet,
        case when payments = 1 then first_row_number end as row_number,
        '金额' as column_name,
        cast(cast(round(total_yuan) as bigint) as string) || '元' as value,
        facility_name || '的区级补助合计' || cast(cast(round(total_yuan) as bigint) as string)
            || '元（' || cast(payments as string) || '笔），超过每个中心100万元的上限' as what_zh,
        'district top-up to this centre totals ' || cast(cast(round(total_yuan) as bigint) as string)
            || ' 元 over ' || cast(payments as string) || ' payment(s), above the cap of 1,000,000 元' as what_en
    from topups
    union all
    select
        town_code, month, file_id, sheet, row_number,
        '设备购置补助' as column_name,
        cast(cast(round(equipment_subsidy_yuan) as bigint) as string) || '元' as value,
        subject || '的设备购置补助' || cast(cast(round(equipment_subsidy_yuan) as bigint) as string)
            || '元，超过每个点2万元的上限' as what_zh,
        'equipment subsidy of ' || cast(cast(round(equipment_subsidy_yuan) as bigint) as string)
            || ' 元, above the cap of 20,000 元 per point' as what_en
    from equipment
)

{{ quality_findings('DQ16_subsidy_over_cap') }}
