{#- Amounts written into the KPI formulas themselves (docs/kpis.md), not plan targets, which live in the seeds. -#}
{% macro city_award_per_centre_yuan() %}1000000{% endmacro %}
{% macro district_topup_cap_yuan() %}1000000{% endmacro %}
{% macro point_equipment_cap_yuan() %}20000{% endmacro %}
{% macro point_min_area_m2() %}100{% endmacro %}
{% macro older_person_age() %}60{% endmacro %}
{% macro high_age() %}80{% endmacro %}
{#- A town's workbook is on time when submitted on or before this day of the next month. -#}
{% macro submission_deadline_day() %}5{% endmacro %}

{% macro built_statuses() %}('已建成', '已运营'){% endmacro %}
{% macro socialised_modes() %}('公建民营', '委托运营'){% endmacro %}
{% macro own_point_modes() %}('单独设立', '依托公共资源'){% endmacro %}
{% macro no_point_needed_modes() %}('不设立（拟撤并）', '不设立（镇中心所在村）'){% endmacro %}

{#- Which registry row is a person's own (their town and village): the elderly database's first,
    then 特困, then 低保 (docs/kpis.md). An order-by key, lowest first. -#}
{% macro home_registry_order(registry) %}case {{ registry }} when 'elderly' then 1 when 'tekun' then 2 else 3 end{% endmacro %}
