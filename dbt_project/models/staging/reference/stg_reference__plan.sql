-- The plan (start and goal date): the built-in seed, or plan.csv of the folder given to
-- `ruralcare refresh --plan` (dbt var `plan_dir`).
-- depends_on: {{ ref('plan') }}
{% set plan_dir = var('plan_dir', none) %}
{{ seed_or_file_rows('plan', plan_dir ~ '/plan.csv' if plan_dir else none, [
    ('plan_id', 'string'), ('name', 'string'), ('start_date', 'date'), ('goal_date', 'date')
]) }}
