-- Payments of the 资金情况 sheet in force per town and month, matched by 项目名称 to a
-- facility in force for the same town and month (exactly after normalising, failing that
-- after dropping the town's name from the start). name_stripped is kept so that payments can
-- also be matched to plan projects that 机构设施 does not list (K23, K24).
with payments as (
    select
        f.month,
        f.town_code,
        f.row_number,
        f.project_name,
        f.fund_type,
        f.amount_yuan,
        {{ is_unreadable('f.amount_yuan', 'f.amount_text') }} as is_amount_unreadable,
        f.paid_date,
        {{ normalise_name('f.project_name') }} as name_norm,
        {{ normalise_name('t.town_name') }} as town_name_norm
    from ({{ sheet_rows_in_force('funds') }}) as f
    inner join {{ ref('dim_town') }} as t on t.town_code = f.town_code
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
    {{ matched_by_name('facility_key', ref('int_facility_monthly'), 'n', ['town_code', 'month']) }} as facility_key
from named as n
