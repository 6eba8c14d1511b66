-- DQ17_residents_mismatch: a nursing home's 集中供养特困人数 differs from the 特困 register in
-- force for the month: its active 集中供养 persons whose 供养机构 is that home (matched by name
-- within the town as docs/inputs.md says: exactly after normalising, failing that without the
-- town's name at the start). Every register row counts, also one whose ID is invalid.
with homes as (
    select f.*, s.sheet_name as sheet
    from {{ ref('int_facility_monthly') }} as f
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.file_id = f.file_id and s.month = f.month and s.sheet_kind = 'facilities'
    where f.facility_type = '敬老院' and f.tekun_residents is not null
),

residents as (
    select
        r.month,
        r.town_code,
        {{ normalise_name('r.institution') }} as name_norm,
        {{ strip_town_prefix(normalise_name('r.institution'), normalise_name('t.town_name')) }} as name_stripped
    from ({{ registry_rows_in_force('tekun') }}) as r
    inner join {{ ref('dim_town') }} as t on t.town_code = r.town_code
    where r.person_status = '正常' and r.support_mode = '集中供养' and r.institution is not null
),

resident_homes as (
    select
        r.month,
        r.town_code,
        {{ matched_by_name('facility_key', 'homes', 'r', ['town_code', 'month']) }} as facility_key
    from residents as r
),

registry_counts as (
    select month, town_code, facility_key, count(*) as registered
    from resident_homes
    where facility_key is not null
    group by month, town_code, facility_key
),

months_with_register as (
    select month from {{ ref('int_effective_registries') }} where registry = 'tekun'
),

found as (
    select
        h.town_code, h.month, h.file_id, h.sheet, h.row_number,
        '集中供养特困人数' as column_name,
        cast(h.tekun_residents as string) as value,
        h.facility_name || '填报集中供养特困人员' || cast(h.tekun_residents as string) || '人，特困人员名册中供养机构为本院的在册人员'
            || cast(coalesce(c.registered, 0) as string) || '人' as what_zh,
        'the home reports ' || cast(h.tekun_residents as string) || ' centrally supported residents; the 特困 register lists '
            || cast(coalesce(c.registered, 0) as string) || ' active persons with this home as 供养机构' as what_en
    from homes as h
    left join registry_counts as c
        on c.month = h.month and c.town_code = h.town_code and c.facility_key = h.facility_key
    where h.tekun_residents <> coalesce(c.registered, 0)
        and h.month in (select month from months_with_register)
)

{{ quality_findings('DQ17_residents_mismatch') }}
