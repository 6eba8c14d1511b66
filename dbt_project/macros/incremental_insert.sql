{#- The incremental materialization on DuckDB, for the month-by-month models
    (macros/incremental_months.sql): the project's own in place of dbt-duckdb's, which the root
    project's takes precedence over. dbt-duckdb writes the months to build into a temporary
    table, compares its columns with the model's table and then inserts it; here the months are
    inserted straight from the model's SQL, by column name (docs/decisions.md, "The month-by-month
    models insert their months straight into their table"). The pre-hook that deletes the months
    to build runs in the same transaction, so a failed insert leaves the table as it was. A first
    build or a full refresh creates the table as dbt-duckdb does, contract included, and every
    build writes the model's descriptions as comments.
    Any change of a model makes the refresh a full one (pipelines/transform/months.py), so a
    month's columns are those of its table; with `on_schema_change='fail'` (a contracted model,
    kpi_members) the names are still compared first, from the query's empty result, as dbt-duckdb
    did; and an insert by name with a column the table lacks fails anyway. -#}
{% materialization incremental, adapter='duckdb', supported_languages=['sql'] -%}
    {%- if config.get('incremental_strategy') != 'append' -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": the project's incremental materialization (macros/incremental_insert.sql) appends "
            ~ "the months to build; incremental_strategy='append' is the one it supports") }}
    {%- endif -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
    {%- if on_schema_change not in ('ignore', 'fail') -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": the project's incremental materialization (macros/incremental_insert.sql) supports "
            ~ "on_schema_change 'ignore' and 'fail', not '" ~ on_schema_change ~ "'") }}
    {%- endif -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set rebuild = existing_relation is not none and (existing_relation.is_view or should_full_refresh()) -%}
    {%- if existing_relation is not none and not rebuild and on_schema_change == 'fail' -%}
        {%- set model_columns = get_column_schema_from_query(compiled_code) | map(attribute='name') | map('lower') | sort -%}
        {%- set table_columns = adapter.get_columns_in_relation(existing_relation) | map(attribute='name') | map('lower') | sort -%}
        {%- if model_columns != table_columns -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ ": its columns (" ~ model_columns | join(', ') ~ ") are not its table's ("
                ~ table_columns | join(', ') ~ ") and on_schema_change is 'fail': build it with --full-refresh") }}
        {%- endif -%}
    {%- endif -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation,
                                                   existing_relation.type if existing_relation is not none else 'table') -%}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is none -%}
        {%- set build_sql = create_table_as(False, target_relation, compiled_code) -%}
    {%- elif rebuild -%}
        {%- set build_sql = create_table_as(False, intermediate_relation, compiled_code) -%}
    {%- else -%}
        {%- set build_sql -%}
            insert into {{ target_relation }} by name (
            {{ compiled_code }}
            )
        {%- endset -%}
    {%- endif -%}
    {% call statement('main') -%}
        {{ build_sql }}
    {%- endcall %}

    {%- if rebuild -%}
        {%- do adapter.rename_relation(existing_relation, backup_relation) -%}
        {%- do adapter.rename_relation(intermediate_relation, target_relation) -%}
    {%- endif -%}

    {%- do persist_docs(target_relation, model) -%}  {#- dbt's descriptions as comments, which the analyst copy carries -#}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {%- if rebuild -%}
        {%- do adapter.drop_relation(backup_relation) -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
