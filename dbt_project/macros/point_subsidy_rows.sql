{#- K25's rows per town and month: the sub-point rows and each village's main row (the one
    int_village_point_monthly took) of the 互助养老点 sheet in force with a 设备购置补助 (0 included).
    K25 is no sum: an unreadable amount (DQ11) counts in the denominator and fails, as
    docs/inputs.md says of unreadable cells. int_kpi__village_points counts them and
    int_kpi__members_village_points lists them. -#}
{% macro point_subsidy_rows() -%}
    select s.town_code, s.month, s.file_id, p.row_number, p.point_name, p.village_code, p.equipment_subsidy_yuan
    from ({{ sheet_in_force('village_points') }}) as s
    inner join {{ ref('stg_towns__village_points') }} as p on p.file_id = s.file_id
    left join {{ ref('int_village_point_monthly') }} as v
        on v.town_code = s.town_code and v.month = s.month and v.village_code = p.village_code
    where p.village_level = 'village' and p.village_code is not null
        and (p.equipment_subsidy_yuan is not null
            or {{ is_unreadable('p.equipment_subsidy_yuan', 'p.equipment_subsidy_text') }})
        and (coalesce(p.is_sub_point, false) or p.row_number = v.main_row_number)
{%- endmacro %}
