-- 农村老年人信息库 rows (every row of an export is active).
{{ renamed_and_cast('registry_elderly', [
    'file_id', 'row_number', 'export_date', 'id_number', 'person_name', 'person_key', 'town_code',
    'village_name_code as village_code', 'living_situation', 'left_behind as is_left_behind',
    'ability_level', 'family_planning_special as is_family_planning_special',
    'smart_device as has_smart_device'
]) }}
