-- Payments of the 资金情况 sheet in force per town and month, matched by 项目名称 to a
-- facility in force for the same town and month (exactly after normalising, failing that
-- after dropping the town's name from the start). name_stripped is kept so that payments can
-- also be matched to plan projects that 机构设施 does not list (K23, K24).
with sheets as (
    select town_code, month, file_id, is_stale
    from {{ ref('int_effective_sheets') }}
    where sheet_kind = 'funds' and file_id is not null
),

payments as (
    select
        s.month,
        f.town_code,
        f.row_number,
        f.project_name,
        f.fund_type,
        f.amount_yuan,
        {{ is_unreadable('f.amount_yuan', 'f.amount_text') }} as is_amount_unreadable,
        f.paid_date,
        {{ normalise_name('f.project_name') }} as name_norm,
        {{ normalise_name('t.town_name') }} as town_name_norm
    from sheets as s
    inner join {{ ref('stg_towns__funds') }} as f on f.file_id = s.file_id
    inner join {{ ref('dim_town') }} as t on t.town_code = s.town_code
),

named as (
    select *, {{ strip_town_prefix('name_norm', 'town_name_norm') }} as name_stripped
    from payments
)

select
    n.town_code,
    n.month,
    n.row_number,
    n.project_name,
    n.fund_type,
    n.amount_yuan,
    n.is_amount_unreadable,
    n.paid_date,
    n.name_norm,
    n.name_stripped,
    coalesce(
        (select min(f.facility_key) from {{ ref('int_facility_monthly') }} as f
         where f.town_code = n.town_code and f.month = n.month and f.name_norm = n.name_norm),
        (select min(f.facility_key) from {{ ref('int_facility_monthly') }} as f
         where f.town_code = n.town_code and f.month = n.month and f.name_stripped = n.name_stripped)
    ) as facility_key
from named as n
