-- 互助养老点 rows: one per village, plus sub-point (分点) rows.
{{ renamed_and_cast('town_village_points', [
    'file_id', 'row_number', 'town_code', 'month as report_month', 'village_name',
    'village_name_code as village_code', 'village_level', 'setup_mode',
    'merge_into as merge_into_village_name', 'merge_into_code as merge_into_village_code',
    'point_name', 'is_sub_point', 'build_status', 'area_m2', 'assistants',
    'has_elderly_association', 'volunteer_teams', 'meal_service as has_meal_service',
    'completion_date', 'equipment_subsidy_yuan',
    'equipment_subsidy_yuan_raw as equipment_subsidy_text'
]) }}
