-- Every file seen in the inbox (town workbooks and registry exports) with its load status.
{{ renamed_and_cast('files', [
    'file_id', 'file_name', 'relative_path', 'sha256', 'kind as file_kind', 'registry', 'town_code',
    'month as report_month', 'export_date', 'submission_date', 'modified_at',
    'status as file_status', 'reason_zh', 'reason_en', 'rows as row_count', 'loaded_at',
    'refresh_id'
]) }}
