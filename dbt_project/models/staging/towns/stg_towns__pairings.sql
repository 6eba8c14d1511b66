-- 结对扶老 rows: one per older person paired. KPIs count people by person key; the ID number
-- is here for the quality rules, which show it masked.
{{ renamed_and_cast('town_pairings', [
    'file_id', 'row_number', 'town_code', 'month as report_month', 'id_number', 'person_key',
    'village_name_code as village_code', 'pairing_mode', 'pairing_date', 'visits_this_month'
]) }}
