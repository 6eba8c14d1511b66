{#- Facility, point and project names as docs/inputs.md matches them: full-width characters folded
    to half-width (ＡＢ１ → AB1, （ → (, the ideographic space → a space), then all white space removed. -#}
{% macro normalise_name(expr) -%}
    {%- set full_width %}！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　{% endset %}
    {%- set half_width %}!"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ {% endset %}
    {{ regexp_replace_all('translate(' ~ expr ~ ', ' ~ sql_string(full_width) ~ ', ' ~ sql_string(half_width) ~ ')', '\\s') }}
{%- endmacro %}

{#- A name with the town's full official name dropped from its start (大湾镇红竹敬老院 → 红竹敬老院). -#}
{% macro strip_town_prefix(name_expr, town_name_expr) -%}
    case when {{ town_name_expr }} is not null and left({{ name_expr }}, length({{ town_name_expr }})) = {{ town_name_expr }}
         then substr({{ name_expr }}, length({{ town_name_expr }}) + 1) else {{ name_expr }} end
{%- endmacro %}

{#- True when a cell held something that is not an empty marker but did not parse (a DQ11 cell):
    such a cell counts in a KPI's denominator and fails its condition (docs/inputs.md), except an
    amount in a sum (K02, K23, K24, K26), which skips it (docs/kpis.md). -#}
{% macro is_unreadable(value_expr, raw_expr) -%}
    ({{ value_expr }} is null and {{ raw_expr }} is not null
     and trim({{ raw_expr }}) not in ('', '—', '-', '/', '暂无', 'NULL', 'null', '－', '——', '无'))
{%- endmacro %}

{#- The `key` of the row of `candidates` a name matches as docs/inputs.md says: in the same town
    (and the other `same_columns`), normalised names equal, failing that names equal without the
    town's name at the start (the least key where several match). `row` is the matching row's
    alias, with name_norm and name_stripped (or `name_stripped` given as SQL). -#}
{% macro matched_by_name(key, candidates, row, same_columns=['town_code'], name_stripped=none) -%}
    {%- set same -%}
        {%- for column in same_columns %}c.{{ column }} = {{ row }}.{{ column }} and {% endfor -%}
    {%- endset -%}
    coalesce(
        (select min(c.{{ key }}) from {{ candidates }} as c
         where {{ same }}c.name_norm = {{ row }}.name_norm),
        (select min(c.{{ key }}) from {{ candidates }} as c
         where {{ same }}c.name_stripped = {{ name_stripped or row ~ '.name_stripped' }})
    )
{%- endmacro %}
