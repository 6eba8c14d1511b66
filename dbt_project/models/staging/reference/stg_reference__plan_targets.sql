-- The plan's milestones per KPI and scope: the built-in seed, or plan_targets.csv of the folder
-- given to `ruralcare refresh --plan` (dbt var `plan_dir`).
-- depends_on: {{ ref('plan_targets') }}
{% set plan_dir = var('plan_dir', none) %}
{{ seed_or_file_rows('plan_targets', plan_dir ~ '/plan_targets.csv' if plan_dir else none, [
    ('kpi_id', 'string'), ('scope_code', 'string'), ('scope_name', 'string'), ('due_date', 'date'),
    ('target_value', 'double'), ('basis', 'string')
]) }}
