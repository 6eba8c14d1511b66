"""The registry CSV reader on real exports: standard (RFC 4180) quoting with commas, doubled
quotes and line breaks inside quoted fields, in every encoding, whatever the chunk size."""

import csv
import io
import itertools
from pathlib import Path

import polars as pl
import pytest

from pipelines.contract import load_contract
from pipelines.ingest.registry import (
    MAX_RECORD_LINES,
    RegistryHeaderError,
    filled_records,
    join_quoted_lines,
    read_csv_chunks,
    split_fields,
)

CONTRACT = load_contract()
ELDERLY = CONTRACT.registries["elderly"]
HEADER = ["姓名", "公民身份号码", "镇街", "村社区", "家庭住址", "联系电话"]


def csv_text(rows: list[list[str]], separator: str = ",", newline: str = "\n") -> str:
    return newline.join(separator.join(row) for row in [HEADER, *rows]) + newline


def read_rows(path: Path, chunk_bytes: int) -> list[tuple]:
    """(row number, name, phone, field count right) of every data row, across all chunks."""
    _, chunks = read_csv_chunks(path, ELDERLY, CONTRACT, chunk_bytes=chunk_bytes)
    return [
        (row["row_number"], row["person_name_raw"], row.get("phone_raw"), row["_field_count_ok"])
        for chunk in chunks for row in chunk.iter_rows(named=True)
    ]


def person(name: str, address: str, phone: str) -> list[str]:
    return [name, '="11010519491231002X"', "统景镇", "前锋村", address, phone]


# Addresses as district systems and Excel write them; the phone after the address shows
# whether the address stayed one field of one row.
ADDRESSES = [
    '"前锋村3组,12号"',
    '"前锋村""老屋基""5号"',
    '"前锋村\n4组8号"',
    '"前锋村\r\n4组9号"',
    '"前锋村\n\n（原7组）"',  # a blank line inside quotes is no blank row
    '"前锋村,\n""老屋基"",\n8组"',
    '"前锋村"""',  # ends on a doubled quote
    "前锋村2组",
]


@pytest.mark.parametrize("encoding, separator, newline", [
    ("utf-8-sig", ",", "\n"),
    ("utf-8-sig", ",", "\r\n"),
    ("utf-8", ",", "\r\n"),
    ("gb18030", ",", "\n"),
    ("gb18030", ",", "\r\n"),
    ("utf-16", "\t", "\r\n"),  # Excel's "Unicode text": UTF-16 LE with BOM, tab-separated
    ("utf-8", ",", "\r"),  # Excel for Mac's CSV: a carriage return alone ends a line
    ("gb18030", ",", "\r"),
])
@pytest.mark.parametrize("chunk_bytes", [5, 64, 16 * 1024 * 1024])
def test_quoted_fields_are_one_field_of_one_row(tmp_path, encoding, separator, newline, chunk_bytes):
    rows = [person(f"张{i}", address, f"1381234000{i}") for i, address in enumerate(ADDRESSES)]
    if separator == "\t":  # a tab inside quotes is part of the field, like a comma in a CSV
        rows = [[field.replace(",", "\t") for field in row] for row in rows]
    path = tmp_path / "农村老年人信息库_20221231.csv"
    path.write_bytes(csv_text(rows, separator, newline).encode(encoding))
    assert read_rows(path, chunk_bytes) == [
        (2 + i, f"张{i}", f"1381234000{i}", True) for i in range(len(ADDRESSES))]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_a_chunk_boundary_right_after_a_line_break_inside_quotes(tmp_path, encoding):
    separator = "\t" if encoding == "utf-16" else ","
    rows = [person("张0", "前锋村1组", "13812340000"), person("张1", '"前锋村\n4组8号"', "13812340001"),
            person("张2", "前锋村2组", "13812340002")]
    data = csv_text(rows, separator).encode(encoding)
    bom = {"utf-8-sig": 3, "gb18030": 0, "utf-16": 2}[encoding]
    marker = '"前锋村\n'.encode({"utf-8-sig": "utf-8", "gb18030": "gb18030", "utf-16": "utf-16-le"}[encoding])
    inside = data.index(marker) + len(marker)
    path = tmp_path / "农村老年人信息库_20221231.csv"
    path.write_bytes(data)
    # The first chunk ends exactly after the line break inside the quoted address.
    assert read_rows(path, inside - bom) == [
        (2, "张0", "13812340000", True), (3, "张1", "13812340001", True), (4, "张2", "13812340002", True)]


def test_row_numbers_count_records_not_lines(tmp_path):
    rows = [person("张0", '"一\n二\n三"', "13812340000"), [""], person("张1", "前锋村", "13812340001"),
            [",,,,,"], person("张2", '"四\r\n五"', "13812340002"), person("张3", "前锋村", "13812340003")]
    path = tmp_path / "农村老年人信息库_20221231.csv"
    path.write_bytes(csv_text(rows).encode("utf-8-sig"))
    # As Excel shows the file: header 1, 张0 2, a blank row 3, 张1 4, a row of separators 5, ...
    assert read_rows(path, 7) == [
        (2, "张0", "13812340000", True), (4, "张1", "13812340001", True),
        (6, "张2", "13812340002", True), (7, "张3", "13812340003", True)]


def test_a_quoted_header_with_a_line_break_is_one_header(tmp_path):
    path = tmp_path / "农村老年人信息库_20221231.csv"
    header = '姓名,公民身份号码,镇街,村社区,家庭住址,"联系\n电话"'
    text = header + "\n" + ",".join(person("张0", "前锋村", "13812340000"))
    path.write_bytes(text.encode("gb18030"))
    assert read_rows(path, 5) == [(2, "张0", "13812340000", True)]


@pytest.mark.parametrize("lines, separator, final, records, waiting", [
    (["a,b", "c,d"], ",", False, ["a,b", "c,d"], []),
    (['a,="500112"', "b"], ",", False, ['a,="500112"', "b"], []),  # Excel's text wrapper opens nothing
    (['a,b"c', "d"], ",", False, ['a,b"c', "d"], []),  # a quote inside an unquoted field is text
    (['a, "b', 'c"'], ",", False, ['a, "b', 'c"'], []),  # ... and so is one after a space
    (['a,"b,c"', "d"], ",", False, ['a,"b,c"', "d"], []),
    (['a,"b', 'c",d', "e"], ",", False, ['a,"b\nc",d', "e"], []),
    (['a,"b', "", 'c"', "e"], ",", False, ['a,"b\n\nc"', "e"], []),  # a blank line inside quotes
    (['a,"b""', 'c"', "e"], ",", False, ['a,"b""\nc"', "e"], []),  # `""` is a quote: still open
    (['a,"b"x"', "e"], ",", False, ['a,"b"x"', "e"], []),  # text after the closing quote
    (['a,"b', 'c","d', 'e"', "f"], ",", False, ['a,"b\nc","d\ne"', "f"], []),  # closes, opens again
    (['"a', 'b",c'], ",", False, ['"a\nb",c'], []),
    (["a\t\"b", 'c,d"\te'], "\t", False, ['a\t"b\nc,d"\te'], []),
    (['a,"b', 'c,="1"', "d"], ",", False, ['a,"b\nc,="1"', "d"], []),  # the next quote closes it
    (["a", 'b,"c', "d"], ",", False, ["a"], ['b,"c', "d"]),  # waits for the next chunk
    (["a", 'b,"c', "d"], ",", True, ["a", 'b,"c', "d"], []),  # open at the end: to its line's end
    (['a,"b', *["x"] * (MAX_RECORD_LINES - 2), 'c"'], ",", False,
     ['a,"b\n' + "x\n" * (MAX_RECORD_LINES - 2) + 'c"'], []),
    (['a,"b', *["x"] * (MAX_RECORD_LINES - 1), 'c"'], ",", False,  # a stray quote
     ['a,"b', *["x"] * (MAX_RECORD_LINES - 1), 'c"'], []),
    (['a,"b', *["x"] * (MAX_RECORD_LINES - 1)], ",", False, ['a,"b', *["x"] * (MAX_RECORD_LINES - 1)], []),
])
def test_join_quoted_lines(lines, separator, final, records, waiting):
    joined, rest = join_quoted_lines(pl.Series("line", lines, dtype=pl.String), separator, final)
    assert (joined.to_list(), rest.to_list()) == (records, waiting)


def test_a_joined_record_splits_into_its_fields():
    records = pl.Series(['张*,"前锋村,\n""老屋基"",\n8组",138', '"a\nb"\tc'])
    assert split_fields(records.head(1), ",").to_list() == [["张*", '前锋村,\n"老屋基",\n8组', "138"]]
    assert split_fields(records.tail(1), "\t").to_list() == [["a\nb", "c"]]


def test_a_quote_never_closed_spoils_its_own_row_only(tmp_path):
    rows = [person("张0", '"前锋村', "13812340000")]
    # No quote follows (a later `="…"` would close it, as in Excel: one row, a DQ11).
    rows += [[f"李{i}", "11010519491231002X", "统景镇", "前锋村", "前锋村", f"139{i:08d}"]
             for i in range(MAX_RECORD_LINES + 20)]
    path = tmp_path / "农村老年人信息库_20221231.csv"
    path.write_bytes(csv_text(rows).encode("gb18030"))
    assert read_rows(path, 256) == [(2, "张0", None, False)] + [
        (3 + i, f"李{i}", f"139{i:08d}", True) for i in range(MAX_RECORD_LINES + 20)]


def test_a_record_the_csv_module_refuses_is_cut_at_every_separator(tmp_path):
    # a carriage return alone inside an unquoted field of a record with a quoted field
    rows = [person("张\r0", '"前锋村,3组"', "13812340000"), person("张1", '"前锋村,4组"', "13812340001")]
    path = tmp_path / "农村老年人信息库_20221231.csv"
    path.write_bytes(csv_text(rows).encode("utf-8"))
    assert read_rows(path, 64) == [(2, "张\r0", "3组\"", False), (3, "张1", "13812340001", True)]


def test_a_header_the_csv_module_refuses_rejects_the_file(tmp_path):
    path = tmp_path / "农村老年人信息库_20221231.csv"
    header = ",".join(HEADER) + ',"备注' + "x" * 200_000 + '"'  # over the csv module's field size limit
    path.write_bytes((header + "\n" + ",".join(person("张0", "前锋村", "13812340000"))).encode("utf-8"))
    with pytest.raises(RegistryHeaderError, match="unreadable header line"):
        read_csv_chunks(path, ELDERLY, CONTRACT)


@pytest.mark.parametrize("separator", [",", "\t"])
def test_records_and_fields_agree_with_the_csv_module(separator):
    """Every text of up to 5 characters of `a`, the separator, `"` and a line break that does not
    end inside a quoted field reads as the csv module reads it (a blank line is an empty row)."""
    checked = 0
    for length in range(1, 6):
        for text in map("".join, itertools.product(["a", separator, '"', "\n"], repeat=length)):
            records, waiting = join_quoted_lines(pl.Series("line", text.split("\n")), separator, final=False)
            if not waiting.is_empty():
                continue
            fields = split_fields(records, separator).to_list()
            ours = [[] if record == "" else row for record, row in zip(records.to_list(), fields)]
            if text.endswith("\n"):  # the csv module has no row after a final line break
                ours = ours[:-1]
            assert ours == list(csv.reader(io.StringIO(text, newline=""), delimiter=separator)), repr(text)
            checked += 1
    assert checked > 800


@pytest.mark.parametrize("separator", [",", "\t"])
def test_a_record_is_blank_exactly_when_every_field_is_blank(separator):
    """The quick test on the record's text agrees with testing field by field, for every record
    of up to 5 characters of `a`, the separator, `"`, a space and a full-width space."""
    texts = ["".join(t) for length in range(1, 6)
             for t in itertools.product(["a", separator, '"', " ", "\u3000"], repeat=length)]
    records = pl.Series("line", texts)
    fields = split_fields(records, separator)
    by_field = fields.list.eval(pl.element().str.strip_chars() != "").list.any().fill_null(False)
    assert filled_records(records, fields, separator).to_list() == by_field.to_list()
    assert 0 < by_field.sum() < len(texts)
