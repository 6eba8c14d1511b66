"""The generator's pure pieces: ID numbers and the forms clerks type, each parsing back to its value."""

import datetime as dt

import fastexcel
import pytest

from pipelines.generate import forms
from pipelines.generate.divisions import Village
from pipelines.generate.ids import check_char, is_valid_id, legacy15, make_id, mask_id
from pipelines.generate.model import parse_months, month_end
from pipelines.generate.xlsx import Sheet, XlError, xls_bytes, xlsx_bytes


@pytest.mark.parametrize("first17, expected", [
    ("11010519491231002", "X"),  # the standard's own example
    ("44052418800101001", "4"),
    ("34052419800101001", "X"),
])
def test_check_character(first17, expected):
    assert check_char(first17) == expected


def test_make_id_is_valid_and_carries_birth_and_sex():
    id18 = make_id("500112", dt.date(1945, 1, 1), 123)
    assert is_valid_id(id18)
    assert id18[6:14] == "19450101"
    assert int(id18[16]) % 2 == 1  # odd sequence: male


@pytest.mark.parametrize("bad", [
    "500112194501011230",  # wrong check character (valid is 2)
    "50011219450101123",   # 17 characters
    "500112194502301236",  # 30 February
])
def test_invalid_ids(bad):
    assert not is_valid_id(bad)


def test_legacy15_drops_century_and_check():
    id18 = make_id("500112", dt.date(1945, 1, 1), 123)
    assert legacy15(id18) == "500112450101123"
    assert mask_id(id18) == "500112********" + id18[-4:]


@pytest.mark.parametrize("form, expected", [
    ("date_cell", dt.date(2022, 6, 30)), ("serial", 44742), ("iso", "2022-06-30"), ("slash", "2022/6/30"),
    ("dot", "2022.6.30"), ("chinese", "2022年6月30日"), ("compact", "20220630"),
    ("month_chinese", "2022年6月"), ("month_iso", "2022-06"),
])
def test_date_forms(form, expected):
    assert forms.date_cell(dt.date(2022, 6, 30), form) == expected


def test_month_only_forms_are_only_used_for_month_ends():
    assert not forms.date_form_usable(dt.date(2022, 6, 15), "month_chinese")
    assert forms.date_form_usable(dt.date(2022, 6, 30), "month_iso")


@pytest.mark.parametrize("value, form, column_type, expected", [
    (1200.0, "thousands", "area", "1,200"), (1200.0, "unit_suffix", "area", "1200㎡"),
    (1200.0, "unit_chinese", "area", "1200平方米"), (1200.0, "fullwidth", "area", "１２００"),
    (1200.0, "decimal_text", "area", "1200.0"), (12, "text", "integer", "12"), (0.55, "number_cell", "money", 0.55),
])
def test_number_forms(value, form, column_type, expected):
    assert forms.number_form_usable(value, form, column_type)
    assert forms.number_cell(value, form, column_type) == expected


def test_unit_forms_only_for_areas():
    assert not forms.number_form_usable(12, "unit_suffix", "integer")


@pytest.mark.parametrize("form, expected", [
    ("spaces", "500112 19450101 1234"), ("apostrophe", "'500112194501011234"),
    ("excel_formula", '="500112194501011234"'), ("fullwidth", "５００１１２１９４５０１０１１２３４"),
])
def test_id_forms(form, expected):
    assert forms.id_text("500112194501011234", form) == expected


def test_scientific_notation_loses_digits():
    assert forms.scientific("500112194501011234") == "5.00112E+17"


def test_village_forms_and_ambiguity():
    village = Village("500112144201", "洛碛村村民委员会", "village", "500112144")
    community = Village("500112144001", "洛碛社区居民委员会", "community", "500112144")
    assert village.short == "洛碛村" and village.base == "洛碛"
    assert forms.village_text(village, "committee") == "洛碛村委会"
    assert forms.village_text(village, "official") == "洛碛村村民委员会"
    assert "".join(forms.village_text(village, "spaces").split()) == "洛碛村"
    # 洛碛 alone would also start 洛碛社区: never typed bare in such a town
    assert not forms.village_form_usable(village, "base", [village, community])
    assert forms.village_form_usable(village, "base", [village])


def test_empty_forms_keep_wu_out_of_yes_no_columns():
    assert forms.empty("无", "area") == "无"
    assert forms.empty("无", "yesno") is None
    assert forms.empty("无", "village") is None
    assert forms.empty("暂无", "village") == "暂无"


def test_parse_months_and_month_end():
    months = parse_months("2021-07..2022-12")
    assert len(months) == 18
    assert month_end(months[7]) == dt.date(2022, 2, 28)
    with pytest.raises(ValueError):
        parse_months("2022-12..2021-07")


def test_workbooks_are_deterministic_and_readable_with_hidden_sheets(tmp_path):
    sheets = [
        Sheet("机构设施", [["标题"], ["设施名称", "建成日期", "床位数"], ["红竹敬老院", dt.date(2022, 6, 30), 80],
                           ["石船敬老院", "2022年6月", XlError("#REF!")]], merges=[(0, 0, 0, 2)]),
        Sheet("互助养老点（4月备份）", [["村名"], ["洛碛村"]], hidden=True),
    ]
    for writer, suffix in ((xlsx_bytes, ".xlsx"), (xls_bytes, ".xls")):
        data = writer(sheets)
        assert data == writer(sheets)
        path = tmp_path / f"wb{suffix}"
        path.write_bytes(data)
        reader = fastexcel.read_excel(str(path))
        assert reader.sheet_names == ["机构设施", "互助养老点（4月备份）"]
        assert reader.load_sheet(0, header_row=None).visible == "visible"
        assert reader.load_sheet(1, header_row=None).visible == "hidden"
        frame = reader.load_sheet(0, header_row=None, dtypes="string").to_polars()
        assert frame.row(2)[0] == "红竹敬老院"
        assert frame.row(2)[1].startswith("2022-06-30")


@pytest.mark.parametrize("birth, month, age", [
    (dt.date(1962, 12, 31), dt.date(2022, 12, 1), 60),  # birthday on the month's last day counts
    (dt.date(1962, 12, 31), dt.date(2022, 11, 1), 59),
    (dt.date(1928, 2, 29), dt.date(1988, 2, 1), 60),    # leap year: 29 February exists
    (dt.date(1928, 2, 29), dt.date(1989, 2, 1), 60),
    (dt.date(1928, 2, 29), dt.date(1987, 2, 1), 58),    # 28 February 1987: not yet 59
])
def test_age_at_month_end(birth, month, age):
    from pipelines.generate.model import Person, age_at, am_of

    person = Person.__new__(Person)
    person.birth = birth
    assert person.age_at_end(am_of(month)) == age == age_at(birth, month_end(am_of(month)))
