{#- Engine-specific SQL lives here and nowhere else: each macro dispatches on the adapter
    (`default__` is DuckDB's, `spark__` Spark's), so the models are the same on both engines
    (docs/engines.md). -#}

{#- Last calendar day of the month of a date. -#}
{% macro month_end(date_expr) -%}
    last_day({{ date_expr }})
{%- endmacro %}

{#- Whole calendar days from start to end (end - start). -#}
{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between')(start_expr, end_expr)) }}
{%- endmacro %}
{% macro default__days_between(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}
{% macro spark__days_between(start_expr, end_expr) -%}
    datediff({{ end_expr }}, {{ start_expr }})
{%- endmacro %}

{#- First day of the month after the month of a date. -#}
{% macro next_month_start(date_expr) -%}
    {{ add_months('cast(date_trunc(\'month\', ' ~ date_expr ~ ') as date)', 1) }}
{%- endmacro %}

{#- The first day of every month from start to end inclusive, one row each: a select-list
    expression that makes rows (`select {{ month_series('a', 'b') }} as month from t`). -#}
{% macro month_series(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('month_series')(start_expr, end_expr)) }}
{%- endmacro %}
{% macro default__month_series(start_expr, end_expr) -%}
    cast(unnest(generate_series(cast({{ start_expr }} as timestamp), cast({{ end_expr }} as timestamp), interval 1 month)) as date)
{%- endmacro %}
{% macro spark__month_series(start_expr, end_expr) -%}
    explode(sequence(cast({{ start_expr }} as date), cast({{ end_expr }} as date), interval 1 month))
{%- endmacro %}

{#- The value on the row where the order is least, null values included (an aggregate; the
    order must not tie within a group). DuckDB's arg_min skips rows whose value is null. -#}
{% macro value_at_min(value_expr, order_expr) -%}
    {{ return(adapter.dispatch('value_at_min')(value_expr, order_expr)) }}
{%- endmacro %}
{% macro default__value_at_min(value_expr, order_expr) -%}
    arg_min_null({{ value_expr }}, {{ order_expr }})
{%- endmacro %}
{% macro spark__value_at_min(value_expr, order_expr) -%}
    min_by({{ value_expr }}, {{ order_expr }})
{%- endmacro %}

{#- Birth year encoded in a normalised 18-character resident ID (characters 7-10). -#}
{% macro birth_year_from_id(id_expr) -%}
    cast(substr({{ id_expr }}, 7, 4) as integer)
{%- endmacro %}

{#- Birth date encoded in a normalised 18-character resident ID (characters 7-14). -#}
{% macro birth_date_from_id(id_expr) -%}
    make_date({{ birth_year_from_id(id_expr) }}, cast(substr({{ id_expr }}, 11, 2) as integer), cast(substr({{ id_expr }}, 13, 2) as integer))
{%- endmacro %}

{#- Age in whole years at a date (the birthday itself counts), a bigint on both engines. -#}
{% macro age_at(birth_expr, at_expr) -%}
    cast(extract(year from {{ at_expr }}) - extract(year from {{ birth_expr }})
     - case when extract(month from {{ at_expr }}) * 100 + extract(day from {{ at_expr }})
                 < extract(month from {{ birth_expr }}) * 100 + extract(day from {{ birth_expr }})
            then 1 else 0 end as bigint)
{%- endmacro %}

{#- A date plus a whole number of days. -#}
{% macro add_days(date_expr, days_expr) -%}
    {{ return(adapter.dispatch('add_days')(date_expr, days_expr)) }}
{%- endmacro %}
{% macro default__add_days(date_expr, days_expr) -%}
    cast({{ date_expr }} + ({{ days_expr }}) * interval 1 day as date)
{%- endmacro %}
{% macro spark__add_days(date_expr, days_expr) -%}
    date_add({{ date_expr }}, {{ days_expr }})
{%- endmacro %}

{#- A date plus a whole number of months (the 31st of a month into a shorter one gives its last day). -#}
{% macro add_months(date_expr, months_expr) -%}
    {{ return(adapter.dispatch('add_months')(date_expr, months_expr)) }}
{%- endmacro %}
{% macro default__add_months(date_expr, months_expr) -%}
    cast({{ date_expr }} + ({{ months_expr }}) * interval 1 month as date)
{%- endmacro %}
{% macro spark__add_months(date_expr, months_expr) -%}
    add_months({{ date_expr }}, {{ months_expr }})
{%- endmacro %}

{#- Whole calendar months from the month of start to the month of end. -#}
{% macro months_between(start_expr, end_expr) -%}
    ((extract(year from {{ end_expr }}) * 12 + extract(month from {{ end_expr }}))
     - (extract(year from {{ start_expr }}) * 12 + extract(month from {{ start_expr }})))
{%- endmacro %}

{#- A string literal holding `text` as it is: DuckDB reads a backslash as itself, Spark as
    an escape, and both read '' as one quote. -#}
{% macro sql_string(text) -%}
    {{ return(adapter.dispatch('sql_string')(text)) }}
{%- endmacro %}
{% macro default__sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}
{% macro spark__sql_string(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- Every match of a regular expression (`pattern`, as the regex itself) replaced by `replacement`
    (DuckDB replaces only the first match unless told 'g'; Spark always all of them). -#}
{% macro regexp_replace_all(expr, pattern, replacement='') -%}
    {{ return(adapter.dispatch('regexp_replace_all')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ sql_string(pattern) }}, {{ sql_string(replacement) }}, 'g')
{%- endmacro %}
{% macro spark__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ sql_string(pattern) }}, {{ sql_string(replacement) }})
{%- endmacro %}

{#- A column type of the raw layer's contract (models/staging/_sources.yml, written in DuckDB's
    names) in the engine's own name: `varchar` is Spark's `string`, `varchar[]` its `array<string>`. -#}
{% macro column_type(data_type) -%}
    {{ return(adapter.dispatch('column_type')(data_type)) }}
{%- endmacro %}
{% macro default__column_type(data_type) -%}
    {{ data_type }}
{%- endmacro %}
{% macro spark__column_type(data_type) -%}
    {%- set base = 'string' if data_type.replace('[]', '') == 'varchar' else data_type.replace('[]', '') -%}
    {{ 'array<' ~ base ~ '>' if data_type.endswith('[]') else base }}
{%- endmacro %}

{#- The rows of a CSV file with a header line, every column as text (`ruralcare refresh --divisions`,
    `--plan`). -#}
{% macro csv_file_rows(path) -%}
    {{ return(adapter.dispatch('csv_file_rows')(path)) }}
{%- endmacro %}
{% macro default__csv_file_rows(path) -%}
    read_csv('{{ path }}', header = true, all_varchar = true)
{%- endmacro %}
{% macro spark__csv_file_rows(path) -%}
    {{ exceptions.raise_compiler_error('A reference file given to the refresh (' ~ path ~ ') is read on DuckDB only: on Spark, put its rows in the seed of the same name (dbt_project/seeds/) instead.') }}
{%- endmacro %}

{#- The texts of a group joined by commas in sorted order (an aggregate). -#}
{% macro sorted_text_list(text_expr) -%}
    {{ return(adapter.dispatch('sorted_text_list')(text_expr)) }}
{%- endmacro %}
{% macro default__sorted_text_list(text_expr) -%}
    string_agg({{ text_expr }}, ',' order by {{ text_expr }})
{%- endmacro %}
{% macro spark__sorted_text_list(text_expr) -%}
    concat_ws(',', array_sort(collect_list({{ text_expr }})))
{%- endmacro %}
