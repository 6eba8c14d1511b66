-- Every file the inbox has seen, with what happened to it (published as quality.files).
select
    file_id,
    file_name,
    relative_path,
    sha256,
    file_kind as kind,
    registry,
    town_code,
    report_month as month,
    export_date,
    submission_date,
    file_status as status,
    reason_zh,
    reason_en,
    row_count as rows,
    loaded_at,
    refresh_id
from {{ ref('stg_ingest__files') }}
