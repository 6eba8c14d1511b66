-- 特困人员名册 rows.
{{ renamed_and_cast('registry_tekun', [
    'file_id', 'row_number', 'export_date', 'id_number', 'person_name', 'person_key', 'town_code',
    'village_name_code as village_code', 'support_mode', 'self_care', 'institution',
    'annual_allowance_yuan', 'person_status'
]) }}
