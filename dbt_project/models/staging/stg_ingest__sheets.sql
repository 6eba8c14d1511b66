-- One row per recognised sheet of a town workbook, with its status (loaded/rejected).
select
    cast(file_id as varchar) as file_id,
    cast(sheet_kind as varchar) as sheet_kind,
    cast(sheet_name as varchar) as sheet_name,
    cast(status as varchar) as sheet_status,
    cast(rows as bigint) as row_count
from {{ source('raw', 'sheets') }}
