-- The division list: the built-in seed, or the file given to `ruralcare refresh --divisions`
-- (a city-scale list with the same columns), passed in as the dbt var `divisions_file`.
-- depends_on: {{ ref('divisions') }}
{{ seed_or_file_rows('divisions', var('divisions_file', none), [
    ('code', 'string'), ('name', 'string'), ('level', 'string'), ('parent_code', 'string'),
    ('is_rural_scope', 'boolean')
]) }}
