-- The plan's projects: the built-in seed, or plan_projects.csv of the folder given to
-- `ruralcare refresh --plan` (dbt var `plan_dir`).
-- depends_on: {{ ref('plan_projects') }}
{% set plan_dir = var('plan_dir', none) %}
{{ seed_or_file_rows('plan_projects', plan_dir ~ '/plan_projects.csv' if plan_dir else none, [
    ('project_id', 'string'), ('town_code', 'string'), ('town_name', 'string'), ('facility_name', 'string'),
    ('facility_type', 'string'), ('build_mode', 'string'), ('host_facility', 'string'), ('min_area_m2', 'double'),
    ('due_date', 'date'), ('merge_into', 'string'), ('basis', 'string')
]) }}
