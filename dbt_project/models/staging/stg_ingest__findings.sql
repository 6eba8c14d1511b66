-- Findings of the ingest layer (per file, sheet, row or cell), personal values already masked.
{{ renamed_and_cast('ingest_findings', [
    'rule_id', 'severity', 'town_code', 'month', 'file_id', 'source_file', 'sheet', 'row_number',
    'column_name', 'value', 'message_zh', 'message_en', 'refresh_id'
]) }}
