-- 低保对象名册 rows.
{{ renamed_and_cast('registry_dibao', [
    'file_id', 'row_number', 'export_date', 'id_number', 'person_name', 'person_key', 'town_code',
    'village_name_code as village_code', 'assistance_category', 'person_status'
]) }}
