-- 家庭医生签约 rows.
{{ renamed_and_cast('registry_family_doctor', [
    'file_id', 'row_number', 'export_date', 'person_key', 'contract_date', 'contract_status'
]) }}
