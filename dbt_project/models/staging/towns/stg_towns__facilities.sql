-- 机构设施 rows: one per town-level facility.
{{ renamed_and_cast('town_facilities', [
    'file_id', 'row_number', 'town_code', 'month as report_month', 'facility_name', 'facility_type',
    'build_mode', 'host_facility', 'build_status', 'area_m2', 'beds', 'nursing_beds', 'residents',
    'tekun_residents', 'operation_mode', 'operator',
    'legal_person_registered as is_legal_person_registered', 'filed as is_filed', 'has_clinic',
    'start_date', 'completion_date'
]) }}
