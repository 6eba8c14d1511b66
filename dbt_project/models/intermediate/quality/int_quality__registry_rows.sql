-- Every person row of the registries in force per month (elderly database, 特困, 低保), any
-- status, valid IDs only: the base of the cross-registry rules (DQ04, DQ05, DQ07).
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
{% for registry in ['elderly', 'tekun', 'dibao'] %}
select
    r.month,
    '{{ registry }}' as registry,
    r.file_id,
    cast(r.row_number as integer) as row_number,
    cast(date_trunc('month', r.export_date) as date) as export_month,
    r.person_key,
    r.id_number,
    r.town_code,
    {% if registry == 'elderly' %}'正常'{% else %}r.person_status{% endif %} as person_status
from ({{ registry_rows_in_force(registry) }}) as r
where r.person_key is not null and {{ in_months_to_build('r.month') }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
