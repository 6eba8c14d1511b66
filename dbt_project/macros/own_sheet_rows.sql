{#- The rows of one kind of town sheet in the sheet's own month (int_quality__own_sheets), as the
    row-level quality rules read them: where the row is (town_code, month, file_id, sheet,
    row_number), then the columns of stg_towns__<sheet_kind> asked for. One join, so that every
    rule points at a row the same way and reports it once, in its own month. -#}
{% macro own_sheet_rows(sheet_kind, columns) -%}
    select
        s.town_code,
        s.month,
        s.file_id,
        s.sheet_name as sheet,
        p.row_number
        {%- for column in columns %},
        p.{{ column }}
        {%- endfor %}
    from {{ ref('int_quality__own_sheets') }} as s
    inner join {{ ref('stg_towns__' ~ sheet_kind) }} as p on p.file_id = s.file_id
    where s.sheet_kind = '{{ sheet_kind }}'
{%- endmacro %}
