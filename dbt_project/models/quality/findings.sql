-- Every data-quality finding (docs/rules.md): the ingest layer's per-source findings and the
-- cross-source SQL rules, one row per finding, personal values masked.
{#- The SQL rules are the models tagged quality_rule (models/quality/rules), unioned from the
    graph. dbt records dependencies while parsing, before the graph exists, so they are declared
    from the rule catalogue (quality_rule_models(), generated from seeds/rule_catalogue.csv): a
    rule model the catalogue lacks fails the run rather than going missing from here. -#}
{%- for model in quality_rule_models() %}
-- depends_on: {{ ref(model) }}
{%- endfor %}
select
    cast(i.rule_id as varchar) as rule_id,
    cast(i.severity as varchar) as severity,
    'ingest' as layer,
    cast(i.town_code as varchar) as town_code,
    cast(i.month as date) as month,
    cast(i.file_id as varchar) as file_id,
    cast(i.source_file as varchar) as source_file,
    cast(i.sheet as varchar) as sheet,
    cast(i.row_number as integer) as row_number,
    cast(i.column_name as varchar) as column_name,
    cast(i.value as varchar) as value,
    cast(i.message_zh as varchar) as message_zh,
    cast(i.message_en as varchar) as message_en,
    r.fix_zh
from {{ ref('stg_ingest__findings') }} as i
left join {{ ref('rule_catalogue') }} as r on r.rule_id = i.rule_id
{%- if execute %}
{%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | sort(attribute='name')
    if 'quality_rule' in node.tags %}
union all
select * from {{ ref(node.name) }}
{%- endfor %}
{%- endif %}
