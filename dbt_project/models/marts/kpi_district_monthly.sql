-- Every KPI for the district (渝北区) and month, with target, 序时进度 and status.
select
    month,
    kpi_id,
    numerator,
    denominator,
    value,
    target,
    due_date,
    expected,
    status,
    stale
from {{ ref('int_kpi__status') }}
where scope_code = '{{ var("district_code") }}'
