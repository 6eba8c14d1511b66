-- DQ24_unknown_facility: a 机构设施 name or a 资金情况 项目名称 that matches neither the plan's
-- projects of the town nor a name on a row of the town's earlier workbooks (facilities, point
-- names, payments); a payment may also name a facility or point of the same workbook. Names
-- match as docs/inputs.md says (after normalising, with or without the town's name at the start).
-- A town's first workbook is its baseline: no DQ24 there.
with workbooks as (
    select w.town_code, w.report_month, w.file_id, {{ normalise_name('t.town_name') }} as town_name_norm
    from {{ ref('int_town_workbooks') }} as w
    inner join {{ ref('dim_town') }} as t on t.town_code = w.town_code
),

named_rows as (
    select w.town_code, w.report_month, w.file_id, 'facilities' as sheet_kind, f.row_number,
        f.facility_name as name, w.town_name_norm
    from workbooks as w
    inner join {{ ref('stg_towns__facilities') }} as f on f.file_id = w.file_id
    union all
    select w.town_code, w.report_month, w.file_id, 'village_points', p.row_number, p.point_name, w.town_name_norm
    from workbooks as w
    inner join {{ ref('stg_towns__village_points') }} as p on p.file_id = w.file_id
    union all
    select w.town_code, w.report_month, w.file_id, 'funds', f.row_number, f.project_name, w.town_name_norm
    from workbooks as w
    inner join {{ ref('stg_towns__funds') }} as f on f.file_id = w.file_id
),

names as (
    select *, {{ strip_town_prefix(normalise_name('name'), 'town_name_norm') }} as name_key
    from named_rows
    where name is not null and trim(name) <> ''
),

plan_names as (
    select town_code, name_stripped as name_key
    from {{ ref('int_plan_projects') }}
),

baseline as (
    select town_code, min(report_month) as first_month
    from workbooks
    group by town_code
),

checked as (
    select n.*, s.sheet_name as sheet
    from names as n
    inner join baseline as b on b.town_code = n.town_code and n.report_month > b.first_month
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.file_id = n.file_id and s.month = n.report_month and s.sheet_kind = n.sheet_kind
    where n.sheet_kind in ('facilities', 'funds')
),

unknown as (
    select c.*
    from checked as c
    where not exists (select 1 from plan_names as p where p.town_code = c.town_code and p.name_key = c.name_key)
        and not exists (
            select 1 from names as e
            where e.town_code = c.town_code and e.name_key = c.name_key
                and (e.report_month < c.report_month
                     or (c.sheet_kind = 'funds' and e.file_id = c.file_id and e.sheet_kind <> 'funds'))
        )
),

found as (
    select
        town_code,
        report_month as month,
        file_id,
        sheet,
        row_number,
        case sheet_kind when 'facilities' then '设施名称' else '项目名称' end as column_name,
        name as value,
        '「' || name || '」与规划项目和本镇街以往报表中的名称都对不上' as what_zh,
        'the name matches neither a plan project nor any name in the town''s earlier workbooks' as what_en
    from unknown
)

{{ quality_findings('DQ24_unknown_facility') }}
