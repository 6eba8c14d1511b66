-- 资金情况 rows: one per payment, amounts in 元.
{{ renamed_and_cast('town_funds', [
    'file_id', 'row_number', 'town_code', 'month as report_month', 'project_name', 'fund_type',
    'amount_yuan', 'amount_yuan_raw as amount_text', 'paid_date'
]) }}
