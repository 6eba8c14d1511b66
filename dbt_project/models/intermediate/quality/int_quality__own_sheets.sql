-- Each town's own sheets per report month: the sheets of the workbook in force for the month
-- (not carried forward from an earlier month), with the file and sheet names a clerk sees.
-- Row-level rules look only at these, so a row is reported once, in its own month.
select
    es.town_code,
    es.month,
    es.sheet_kind,
    es.file_id,
    f.file_name as source_file,
    s.sheet_name
from {{ ref('int_effective_sheets') }} as es
inner join {{ ref('stg_ingest__files') }} as f on f.file_id = es.file_id
inner join {{ ref('stg_ingest__sheets') }} as s
    on s.file_id = es.file_id and s.sheet_kind = es.sheet_kind and s.sheet_status = 'loaded'
where es.file_id is not null and es.source_month = es.month
