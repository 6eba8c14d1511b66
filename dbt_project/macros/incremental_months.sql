{#- Models rebuilt month by month (docs/decisions.md, "Months rebuilt, months kept"). A month's
    rows in such a model depend only on that month's inputs (int_month_inputs); the refresh keeps,
    in state.built_month_inputs, the inputs each month had when it was last built, and a build
    rewrites only the months whose inputs differ (a new month, a late re-submission, a late
    registry export) and drops months that no longer exist. Anything else — a model, macro,
    seed, division list or plan — makes the refresh pass --full-refresh
    (pipelines/transform/months.py). Spark builds these models in full, as tables.
    A model whose month reads earlier months too (`from_first_changed=true`: kpi_members, whose
    KPI rows are cumulative) rebuilds every month from the first changed one on. -#}

{#- The materialization of a month-by-month model. -#}
{% macro incremental_by_month() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#- The months whose rows stay as built: their inputs are unchanged since they were built. -#}
{% macro months_built_and_unchanged(inputs=none, built=none) -%}
    select now_.month
    from {{ inputs or ref('int_month_inputs') }} as now_
    inner join {{ built or ref('stg_state__built_month_inputs') }} as built
        on built.month = now_.month and built.inputs = now_.inputs
{%- endmacro %}

{#- The months to build: those whose inputs are new or changed since they were built. -#}
{% macro months_to_build(inputs=none, built=none) -%}
    select month from {{ inputs or ref('int_month_inputs') }}
    where month not in ({{ months_built_and_unchanged(inputs, built) }})
{%- endmacro %}

{#- The first month whose rows change: the first month to build, or the first built month that
    no longer exists; null when none does. -#}
{% macro first_changed_month(inputs=none, built=none) -%}
    (select min(month) from (
        {{ months_to_build(inputs, built) }}
        union all
        select month from {{ built or ref('stg_state__built_month_inputs') }}
        where month not in (select month from {{ inputs or ref('int_month_inputs') }})
    ))
{%- endmacro %}

{#- A filter for the rows to build: every month in a full build, the changed ones otherwise. The
    months are looked up when the model is built and written into its SQL as dates, so that DuckDB
    skips the other months' rows while scanning, through the views and unions in between: a
    subquery (`>= (select min(month) …)`) is no constant to prune by, and kpi_members read every
    month's members for the one it builds — a city's new month on top of 3 months 1.9 s against
    1.1 s with the date, growing with the months kept. -#}
{% macro in_months_to_build(month_expr, from_first_changed=false) -%}
    {%- if not is_incremental() %}true
    {%- elif model.resource_type == 'unit_test' -%}
        {#- a unit test's inputs exist only inside the model's own SQL: the months are found there -#}
        {%- if from_first_changed %}{{ month_expr }} >= {{ first_changed_month() }}
        {%- else %}{{ month_expr }} in ({{ months_to_build() }}){% endif -%}
    {%- else -%}
        {%- set months = months_to_build_listed(from_first_changed) -%}
        {%- if not months %}false
        {%- elif from_first_changed %}{{ month_expr }} >= date '{{ months[0] }}'
        {%- else %}{{ month_expr }} in ({% for month in months %}date '{{ month }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The months to build (from_first_changed: the first changed month alone), as 'YYYY-MM-DD' texts. -#}
{% macro months_to_build_listed(from_first_changed) -%}
    {%- if from_first_changed -%}
        {%- set query = 'select ' ~ first_changed_month() ~ ' as month' -%}
    {%- else -%}
        {%- set query = 'select distinct month from (' ~ months_to_build() ~ ') order by month' -%}
    {%- endif -%}
    {%- set months = [] -%}
    {%- for row in run_query(query).rows if row[0] is not none -%}
        {%- do months.append((row[0] | string)[:10]) -%}
    {%- endfor -%}
    {{- return(months) -}}
{%- endmacro %}

{#- The pre-hook of a month-by-month model: before the changed months are appended, their old
    rows (and those of months that are gone) are deleted. -#}
{% macro delete_months_to_build(from_first_changed=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where month not in ({{ months_built_and_unchanged() }})
        {%- if from_first_changed %} or month >= {{ first_changed_month() }}{% endif %}
    {%- endif -%}
{%- endmacro %}

{#- Declares what a month-by-month model reads to decide its months (dbt finds refs inside
    is_incremental() blocks only when they are also made at parse time). -#}
{% macro month_by_month_dependencies() -%}
    -- months to build: {{ ref('int_month_inputs') }} against {{ ref('stg_state__built_month_inputs') }}
{%- endmacro %}

{#- The data tests of a month-by-month model check the months the build wrote: in a test's
    `where`, `__months_built__` (`__months_built_from_first_changed__` for kpi_members) becomes a
    filter on those months, unless the build is a full one. The months kept were checked when
    they were built, and a city's person rows are millions a month. Read from the relations
    themselves (the test runs after its model, which depends on them). The relation is given an
    alias: Spark reads `from t where (true)` as the alias `where` with a column list. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__months_built_from_first_changed__' in where -%}
        {%- set where = where | replace('__months_built_from_first_changed__', '(' ~ months_built_filter(from_first_changed=true) ~ ')') -%}
    {%- endif -%}
    {%- if where and '__months_built__' in where -%}
        {%- set where = where | replace('__months_built__', '(' ~ months_built_filter(from_first_changed=false) ~ ')') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' as dbt_tested where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro months_built_filter(from_first_changed) -%}
    {%- if not execute or flags.FULL_REFRESH or target.type != 'duckdb' -%}
        true
    {%- else -%}
        {%- set inputs = graph.nodes['model.' ~ project_name ~ '.int_month_inputs'].relation_name -%}
        {%- set built = graph.nodes['model.' ~ project_name ~ '.stg_state__built_month_inputs'].relation_name -%}
        {%- if from_first_changed -%}
            month >= {{ first_changed_month(inputs, built) }}
        {%- else -%}
            month in ({{ months_to_build(inputs, built) }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
