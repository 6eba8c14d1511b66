-- 培训情况 rows: one per person per training.
{{ renamed_and_cast('town_trainings', [
    'file_id', 'row_number', 'town_code', 'month as report_month', 'person_key',
    'training_category', 'training_date', 'hours', 'certified as is_certified', 'certificate_no'
]) }}
