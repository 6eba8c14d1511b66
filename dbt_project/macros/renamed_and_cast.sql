{#- A staging model's select: the listed columns of one raw table ('name', or 'raw_name as name'
    to rename), each cast to the type models/staging/_sources.yml declares for it (generated from
    the raw layer's contract; column_type() names it for the engine), so that a type is written
    in one place. dbt knows the sources' columns only once the graph exists; while parsing, only
    the dependency on the source counts. -#}
{% macro renamed_and_cast(table, columns) -%}
    {%- set relation = source('raw', table) -%}
    {%- set declared = graph.sources.get('source.' ~ project_name ~ '.raw.' ~ table, {}).get('columns', {})
                       if execute else {} -%}
select
    {%- for column in columns %}
    {%- set raw_name = column.split(' as ')[0] %}
    {%- set data_type = declared.get(raw_name, {}).get('data_type') %}
    {%- if execute and not data_type %}
        {{ exceptions.raise_compiler_error('raw.' ~ table ~ '.' ~ raw_name ~ ' has no data_type in models/staging/_sources.yml') }}
    {%- endif %}
    cast({{ raw_name }} as {{ column_type(data_type or 'string') }}) as {{ column.split(' as ')[-1] }}
    {{- ',' if not loop.last }}
    {%- endfor %}
from {{ relation }}
{%- endmacro %}
