-- One row per recognised sheet of a town workbook, with its status (loaded/rejected).
{{ renamed_and_cast('sheets', [
    'file_id', 'sheet_kind', 'sheet_name', 'status as sheet_status', 'rows as row_count'
]) }}
