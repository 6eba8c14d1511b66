{#- The finding columns of docs/rules.md from a relation of what a rule found: town_code, month,
    file_id, sheet, row_number, column_name, value (already masked), what_zh, what_en.
    The messages say where (file, sheet, row, column, value), what is wrong and what to fix. -#}
{% macro quality_findings(rule_id, found='found') -%}
select
    r.rule_id,
    r.severity,
    r.layer,
    cast(f.town_code as string) as town_code,
    cast(f.month as date) as month,
    cast(f.file_id as string) as file_id,
    cast(files.file_name as string) as source_file,
    cast(f.sheet as string) as sheet,
    cast(f.row_number as integer) as row_number,
    cast(f.column_name as string) as column_name,
    cast(f.value as string) as value,
    {{ quality_where_zh('files.file_name', 'f.sheet', 'f.row_number', 'f.column_name', 'f.value') }}
        || f.what_zh || '。' || r.fix_zh as message_zh,
    {{ quality_where_en('files.file_name', 'f.sheet', 'f.row_number', 'f.column_name', 'f.value') }}
        || f.what_en || '. ' || r.fix_en as message_en,
    r.fix_zh
from {{ found }} as f
inner join {{ ref('rule_catalogue') }} as r on r.rule_id = '{{ rule_id }}'
left join {{ ref('stg_ingest__files') }} as files on files.file_id = f.file_id
{%- endmacro %}

{#- 文件「…」工作表「…」第N行「…」列的值「…」： (empty when the finding points to no file). -#}
{% macro quality_where_zh(file, sheet, row_number, column, value) -%}
    (case when {{ file }} is null then '' else
        '文件「' || {{ file }} || '」'
        || coalesce('工作表「' || {{ sheet }} || '」', '')
        || coalesce('第' || cast({{ row_number }} as string) || '行', '')
        || coalesce('「' || {{ column }} || '」列', '')
        || coalesce('的值「' || {{ value }} || '」', '')
        || '：' end)
{%- endmacro %}

{% macro quality_where_en(file, sheet, row_number, column, value) -%}
    (case when {{ file }} is null then '' else
        'File ''' || {{ file }} || ''''
        || coalesce(', sheet ''' || {{ sheet }} || '''', '')
        || coalesce(', row ' || cast({{ row_number }} as string), '')
        || coalesce(', column ''' || {{ column }} || '''', '')
        || coalesce(': value ''' || {{ value }} || '''', '')
        || ' — ' end)
{%- endmacro %}

{#- 2022年6月 -#}
{% macro quality_month_zh(month_expr) -%}
    (cast(year({{ month_expr }}) as string) || '年' || cast(month({{ month_expr }}) as string) || '月')
{%- endmacro %}

{#- 6月5日 -#}
{% macro quality_month_day_zh(date_expr) -%}
    (cast(month({{ date_expr }}) as string) || '月' || cast(day({{ date_expr }}) as string) || '日')
{%- endmacro %}

{#- 2022-06 -#}
{% macro quality_month_en(month_expr) -%}
    (cast(year({{ month_expr }}) as string) || '-' || lpad(cast(month({{ month_expr }}) as string), 2, '0'))
{%- endmacro %}

{#- Building status in programme order, to tell a step backwards (DQ15). -#}
{% macro quality_status_rank(status_expr) -%}
    (case {{ status_expr }} when '未开工' then 1 when '在建' then 2 when '已建成' then 3 when '已运营' then 4
        when '已撤并' then 5 end)
{%- endmacro %}

{#- A number as a clerk writes it: 650 not 650.0, at most two decimals. -#}
{% macro quality_number(expr) -%}
    {%- set two_decimals = 'cast(cast(' ~ expr ~ ' as decimal(18, 2)) as string)' %}
    case when {{ two_decimals }} like '%.00' then left({{ two_decimals }}, length({{ two_decimals }}) - 3)
         when {{ two_decimals }} like '%.%0' then left({{ two_decimals }}, length({{ two_decimals }}) - 1)
         else {{ two_decimals }} end
{%- endmacro %}
