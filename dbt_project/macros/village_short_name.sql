{#- 洛碛村村民委员会 → 洛碛村, 王家社区居民委员会 → 王家社区: the name as towns write it. -#}
{% macro village_short_name(column) -%}
    regexp_replace({{ column }}, '(村民|居民)委员会$', '')
{%- endmacro %}
