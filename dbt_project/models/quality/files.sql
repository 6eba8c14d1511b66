-- Every file the inbox has seen, with what happened to it (published as quality.files).
select
    file_id,
    file_name,
    relative_path,
    sha256,
    kind,
    registry,
    town_code,
    month,
    export_date,
    submission_date,
    status,
    reason_zh,
    reason_en,
    rows,
    loaded_at,
    refresh_id
from {{ source('raw', 'files') }}
