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
    i.rule_id, i.severity, 'ingest' as layer,
    i.town_code, i.month, i.file_id, i.source_file, i.sheet, i.row_number, i.column_name, i.value,
    i.message_zh, i.message_en, r.fix_zh
from {{ ref('stg_ingest__findings') }} as i
left join {{ ref('rule_catalogue') }} as r on r.rule_id = i.rule_id
{%- if execute %}
{%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | sort(attribute='name')
    if 'quality_rule' in node.tags %}
union all
select * from {{ ref(node.name) }}
{%- endfor %}
{%- endif %}
