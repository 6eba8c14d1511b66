-- Findings of the ingest layer (per file, sheet, row or cell), personal values already masked.
select
    cast(rule_id as varchar) as rule_id,
    cast(severity as varchar) as severity,
    cast(town_code as varchar) as town_code,
    cast(month as date) as month,
    cast(file_id as varchar) as file_id,
    cast(source_file as varchar) as source_file,
    cast(sheet as varchar) as sheet,
    cast(row_number as integer) as row_number,
    cast(column_name as varchar) as column_name,
    cast(value as varchar) as value,
    cast(message_zh as varchar) as message_zh,
    cast(message_en as varchar) as message_en,
    cast(refresh_id as varchar) as refresh_id
from {{ source('raw', 'ingest_findings') }}
