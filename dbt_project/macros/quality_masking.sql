{#- Masking where a finding must point to a person (docs/rules.md): the published findings and
    the feedback workbooks never hold a full ID number, name or phone number. -#}

{#- 500112********1234: first 6 + 8 stars + last 4 of the normalised ID (clerks' wrappers removed). -#}
{% macro quality_mask_id(expr) -%}
    {%- set wrappers %}^['="\s]+|["\s]+${% endset %}
    {%- set cleaned = regexp_replace_all(expr, wrappers) %}
    case when {{ expr }} is null then null
         when length({{ cleaned }}) > 10
         then left({{ cleaned }}, 6) || '********' || right({{ cleaned }}, 4)
         else repeat('*', length({{ cleaned }})) end
{%- endmacro %}

{#- 张* / 李** / 欧阳**: the surname and one star per other character (at least one); a
    compound surname (欧阳, 司马, …) or a name of four characters or more keeps two. -#}
{% macro quality_mask_name(expr) -%}
    case when {{ expr }} is null or trim({{ expr }}) = '' then null
         else left(trim({{ expr }}), {{ _quality_surname_length(expr) }})
              || repeat('*', greatest(length(trim({{ expr }})) - {{ _quality_surname_length(expr) }}, 1)) end
{%- endmacro %}

{% macro _quality_surname_length(expr) -%}
    (case when length(trim({{ expr }})) >= 4
               or left(trim({{ expr }}), 2) in ('欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙',
                                                '慕容', '令狐', '长孙', '宇文', '司徒', '夏侯')
          then 2 else 1 end)
{%- endmacro %}

{#- 138****1234. -#}
{% macro quality_mask_phone(expr) -%}
    case when {{ expr }} is null or trim({{ expr }}) = '' then null
         when length(trim({{ expr }})) >= 8 then left(trim({{ expr }}), 3) || '****' || right(trim({{ expr }}), 4)
         else repeat('*', length(trim({{ expr }}))) end
{%- endmacro %}
