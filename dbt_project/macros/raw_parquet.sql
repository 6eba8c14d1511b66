{#- On Spark the raw layer is the loader's Parquet files: before a build, each source table of
    models/staging/_sources.yml is (re)declared as a table over its folder, given by the var
    `raw_locations` ({table: folder}, pipelines/transform/spark.py). On DuckDB the loader writes
    the raw schema itself: nothing to do. -#}
{% macro declare_raw_parquet() -%}
    {{ return(adapter.dispatch('declare_raw_parquet')()) }}
{%- endmacro %}
{% macro default__declare_raw_parquet() -%}
{%- endmacro %}
{% macro spark__declare_raw_parquet() -%}
    {%- set locations = var('raw_locations', {}) -%}
    {%- if execute and locations -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table, folder in locations.items() -%}
            {%- do run_query('drop table if exists raw.' ~ table) -%}
            {%- do run_query('create table raw.' ~ table ~ " using parquet options (mergeSchema 'true') location " ~ sql_string(folder)) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
