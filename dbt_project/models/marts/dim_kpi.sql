-- The KPI catalogue (seeds/kpi_catalogue.csv; docs/kpis.md).
select
    kpi_id,
    kpi_no,
    name_zh,
    kind,
    measure,
    unit,
    feeding_sheet,
    definition_zh
from {{ ref('kpi_catalogue') }}
