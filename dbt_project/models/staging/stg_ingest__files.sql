-- Every file seen in the inbox (town workbooks and registry exports) with its load status.
select
    cast(file_id as varchar) as file_id,
    cast(file_name as varchar) as file_name,
    cast(relative_path as varchar) as relative_path,
    cast(sha256 as varchar) as sha256,
    cast(kind as varchar) as file_kind,
    cast(registry as varchar) as registry,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(export_date as date) as export_date,
    cast(submission_date as date) as submission_date,
    cast(modified_at as timestamp) as modified_at,
    cast(status as varchar) as file_status,
    cast(reason_zh as varchar) as reason_zh,
    cast(reason_en as varchar) as reason_en,
    cast(rows as bigint) as row_count,
    cast(loaded_at as timestamp) as loaded_at,
    cast(refresh_id as varchar) as refresh_id
from {{ source('raw', 'files') }}
