"""Registry exports: file names, encodings, and streaming the rows out as raw-text frames.

A CSV is decoded in chunks of whole records (bounded memory whatever its size): lines are
split with Polars, and the lines of a record whose quoted field holds line breaks are joined
again, so a chunk never ends inside a quoted field. Fields are split column-wise with
Polars; only records with quoted fields go through the csv module.
.xlsx/.xls registries are read like a town sheet (first visible sheet, same header rules).
"""

from __future__ import annotations

import codecs
import csv
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.contract import Contract, SourceSpec
from pipelines.ingest.text import match_header, squeeze
from pipelines.ingest.workbook import (
    HEADER_SEARCH_ROWS,
    UnreadableWorkbook,
    data_rows,
    find_header,
    known_headers,
    read_workbook,
)

CHUNK_BYTES = 16 * 1024 * 1024
# An address or remark over a few lines is real; a quote still open this many lines on is a
# stray one, read as running to the end of its own line rather than swallowing the file.
MAX_RECORD_LINES = 100
_FIELD_MARK = "\x00"
_LONE_CR = re.compile("\r(?!\n)")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


def parse_registry_name(file_name: str, contract: Contract) -> tuple[str | None, date | None]:
    """(registry kind, export date) from `<名册>_<YYYYMMDD>.csv`; None for what is missing."""
    name = squeeze(file_name)
    kind = next((k for k, s in contract.registries.items() if name.startswith(squeeze(s.name))), None)
    if kind is None:
        kind = next((k for k, s in contract.registries.items() if squeeze(s.name) in name), None)
    export = None
    for match in _DATE_IN_NAME.finditer(name):
        try:
            export = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            break
        except ValueError:
            continue
    return kind, export


@dataclass(frozen=True)
class Encoding:
    codec: str
    separator: str
    bom: int  # bytes to skip
    lines_end_in_cr: bool = False  # Excel for Mac's CSV: a carriage return alone ends each line


def detect_encoding(head: bytes) -> Encoding:
    """UTF-16 with BOM (Excel's "Unicode text", tab-separated), UTF-8 with or without BOM, else
    GB18030; lines ending in LF, CRLF or CR alone (more lone CRs than LFs in the head: an LF
    there is a line break inside a cell)."""
    encoding = _codec_and_separator(head)
    text = head[encoding.bom:].decode(encoding.codec, "ignore")
    if len(_LONE_CR.findall(text)) > text.count("\n"):
        return Encoding(encoding.codec, _separator(text.replace("\r", "\n")), encoding.bom, lines_end_in_cr=True)
    return encoding


def _codec_and_separator(head: bytes) -> Encoding:
    if head.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", "\t", 2)
    if head.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", "\t", 2)
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", _separator(head[3:].decode("utf-8", "ignore")), 3)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return Encoding("utf-8", _separator(text), 0)
    except UnicodeDecodeError:
        pass
    # A UTF-8 export with a row pasted in from a GB18030 one is still UTF-8: its Chinese header
    # line, which GB18030 text almost never forms, decides; that row's bad bytes become U+FFFD and
    # its cells findings, where reading the whole file as GB18030 would lose its header.
    header = head.split(b"\n", 1)[0]
    if not header.isascii() and _is_utf8(header):
        return Encoding("utf-8", _separator(header.decode("utf-8")), 0)
    return Encoding("gb18030", _separator(head.decode("gb18030", "ignore")), 0)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _separator(text: str) -> str:
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


@dataclass(frozen=True)
class HeaderMap:
    columns: dict[str, int]  # field -> field position
    units: dict[str, str | None]
    width: int


def map_header(fields: list[str], source: SourceSpec, contract: Contract) -> HeaderMap:
    """Registry header fields -> contract fields (same normalisation as sheets; first repeat wins)."""
    units = contract.words["units"]
    known = known_headers(source, contract)
    columns: dict[str, int] = {}
    header_units: dict[str, str | None] = {}
    for index, text in enumerate(fields):
        matched = match_header(text, known, units)
        if matched and matched[0] not in columns:
            columns[matched[0]] = index
            header_units[matched[0]] = matched[1]
    return HeaderMap(columns, header_units, len(fields))


def _decoded_lines(path: Path, encoding: Encoding, chunk_bytes: int) -> Iterator[pl.Series]:
    """Whole lines (NUL dropped, line ends stripped), a chunk at a time.

    Lines are split by Polars, not into Python strings: millions of small Python objects
    would fragment the heap and keep memory growing with the file.
    """
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace")
    carry = ""
    with path.open("rb") as handle:
        handle.seek(encoding.bom)
        while True:
            block = handle.read(chunk_bytes)
            final = not block
            text = carry + decoder.decode(block, final=final).replace("\x00", "")
            if encoding.lines_end_in_cr:
                text = text.replace("\r", "\n")
            if final:
                if text:
                    yield _lines(text)
                return
            cut = text.rfind("\n")
            if cut < 0:
                carry = text
                continue
            carry = text[cut + 1 :]
            yield _lines(text[:cut])


def _lines(text: str) -> pl.Series:
    return pl.Series("line", [text], dtype=pl.String).str.split("\n").explode().str.strip_chars_end("\r")


def _quote_patterns(separator: str) -> tuple[str, str]:
    """Regexes telling, for a line with quotes, whether it ends inside a quoted field: when it
    starts outside one (`opens`) and when it starts inside one (`stays_open`).

    The csv module's reading: a quote opens a field only at its start, `""` inside is a quote,
    and text after the closing quote belongs to the field (so a quote there is plain text).
    """
    sep = r"\t" if separator == "\t" else re.escape(separator)
    inside = r'(?:[^"]|"")*'
    after_close = rf'(?:[^"{sep}][^{sep}]*)?'
    field = rf'(?:"{inside}"{after_close}|(?:[^"{sep}][^{sep}]*)?)'
    opens = rf'^(?:{field}{sep})*"{inside}$'
    stays_open = rf'^{inside}(?:"{after_close}(?:{sep}{field})*{sep}"{inside})?$'
    return opens, stays_open


def join_quoted_lines(lines: pl.Series, separator: str, final: bool) -> tuple[pl.Series, pl.Series]:
    """(records, the lines of a record still open at the end) from text lines.

    The lines of a record whose quoted field holds line breaks are joined with `\n`. Unless
    `final`, a record still open at the end waits for the next lines; a quote left open for
    MAX_RECORD_LINES lines or to the end of the file runs to the end of its own line only.
    """
    with_quotes = lines.str.contains('"', literal=True)
    if not with_quotes.any():
        return lines, lines.clear()
    positions = with_quotes.arg_true()
    quoted_lines = lines.gather(positions)
    opens, stays_open = _quote_patterns(separator)
    open_at = positions.filter(quoted_lines.str.contains(opens)).to_list()
    if not open_at:
        return lines, lines.clear()
    close_at = positions.filter(~quoted_lines.str.contains(stays_open)).to_list()
    spans: list[tuple[int, int]] = []
    cut = lines.len()
    next_line = 0  # the first line starting outside any quoted field not yet read
    while (k := bisect_left(open_at, next_line)) < len(open_at):
        start = open_at[k]
        j = bisect_right(close_at, start)
        end = close_at[j] if j < len(close_at) else None
        if end is not None and end - start < MAX_RECORD_LINES:
            spans.append((start, end))
            next_line = end + 1
        elif end is None and not final and lines.len() - start < MAX_RECORD_LINES:
            cut = start
            break
        else:
            next_line = start + 1
    records = lines.slice(0, cut)
    if spans:
        span_lines = iter(lines.gather([i for start, end in spans for i in range(start, end + 1)]).to_list())
        joined = ["\n".join(next(span_lines) for _ in range(end - start + 1)) for start, end in spans]
        continuation = [i for start, end in spans for i in range(start + 1, end + 1)]
        keep = pl.repeat(True, cut, eager=True).scatter(continuation, False)
        records = records.scatter([start for start, _ in spans], pl.Series(joined, dtype=pl.String)).filter(keep)
    return records, lines.slice(cut)


def _records(line_chunks: Iterator[pl.Series], separator: str) -> Iterator[pl.Series]:
    """Whole records, a chunk at a time; a record open at a chunk's end goes with the next chunk."""
    waiting = pl.Series("line", [], dtype=pl.String)
    for lines in line_chunks:
        records, waiting = join_quoted_lines(pl.concat([waiting, lines]), separator, final=False)
        if not records.is_empty():
            yield records
    if not waiting.is_empty():
        yield join_quoted_lines(waiting, separator, final=True)[0]


def _quoted_fields(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        # A record the csv module refuses (a carriage return alone inside an unquoted field, a
        # field over its size limit): cut at every separator; its field count then flags the row.
        return line.split(separator)


def split_fields(lines: pl.Series, separator: str) -> pl.Series:
    """Each record's fields as a list; quoted fields (`"a,b"`) honoured via the csv module."""
    sep = re.escape(separator)
    quoted = lines.str.contains(f'(^|{sep})"')
    if not quoted.any():
        return lines.str.split(separator)
    # Every record's fields joined by NUL (dropped on decoding, so never in the text), then
    # split once: building a list column row by row from Python is slow.
    positions = quoted.arg_true()
    parsed = [_FIELD_MARK.join(_quoted_fields(line, separator)) for line in lines.gather(positions).to_list()]
    marked = lines.str.replace_all(separator, _FIELD_MARK, literal=True)
    return marked.scatter(positions, pl.Series(parsed, dtype=pl.String)).str.split(_FIELD_MARK)


def _frame(fields: pl.Series, numbers: pl.Series, header: HeaderMap) -> pl.DataFrame:
    columns = {"row_number": numbers.cast(pl.Int32)}
    for field_name, position in header.columns.items():
        columns[f"{field_name}_raw"] = fields.list.get(position, null_on_oob=True)
    columns["_field_count_ok"] = fields.list.len() == header.width
    return pl.DataFrame(columns)


class RegistryHeaderError(Exception):
    """The file has no header or lacks a required column."""


def read_csv_chunks(
    path: Path, source: SourceSpec, contract: Contract, chunk_bytes: int = CHUNK_BYTES
) -> tuple[HeaderMap, Iterator[pl.DataFrame]]:
    """The header map and an iterator of raw-text frames (`row_number`, `<field>_raw`, `_field_count_ok`)."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    encoding = detect_encoding(head)
    records = _records(_decoded_lines(path, encoding, chunk_bytes), encoding.separator)
    first_chunk = next(records, pl.Series("line", [], dtype=pl.String))
    if first_chunk.is_empty() or not first_chunk[0].strip():
        raise RegistryHeaderError("no header line")
    try:
        header_fields = next(csv.reader([first_chunk[0]], delimiter=encoding.separator))
    except csv.Error as error:  # e.g. a quote left open that ran the header into the rows below
        raise RegistryHeaderError(f"unreadable header line: {error}") from error
    header = map_header(header_fields, source, contract)
    missing = [c.header for c in source.columns if c.required and c.field not in header.columns]
    if missing:
        raise RegistryHeaderError("、".join(missing))

    def chunks() -> Iterator[pl.DataFrame]:
        row_number = 2  # records, as Excel numbers the rows; the header is row 1
        for series in _chain(first_chunk.slice(1), records):
            numbers = pl.int_range(row_number, row_number + series.len(), eager=True)
            row_number += series.len()
            keep = series.str.strip_chars() != ""
            if not keep.any():
                continue
            series, numbers = series.filter(keep), numbers.filter(keep)
            fields = split_fields(series, encoding.separator)
            # A line of only separators (`,,,,`) or blank fields is a blank row too; like a
            # blank line it keeps its row number, as in Excel.
            filled = filled_records(series, fields, encoding.separator)
            if not filled.any():
                continue
            yield _frame(fields.filter(filled), numbers.filter(filled), header)

    return header, chunks()


def filled_records(records: pl.Series, fields: pl.Series, separator: str) -> pl.Series:
    """Whether each record has a non-blank field. A record with a character other than a
    separator, a quote or white space has one; the others (rare) are checked field by field."""
    sep = r"\t" if separator == "\t" else re.escape(separator)
    filled = records.str.contains(f'[^{sep}"\\s]')
    unsure = ~filled
    if not unsure.any():
        return filled
    positions = unsure.arg_true()
    by_field = fields.gather(positions).list.eval(pl.element().str.strip_chars() != "").list.any().fill_null(False)
    return filled.scatter(positions, by_field)


def _chain(first: pl.Series, rest: Iterator[pl.Series]) -> Iterator[pl.Series]:
    if not first.is_empty():
        yield first
    yield from rest


def read_workbook_registry(path: Path, source: SourceSpec, contract: Contract) -> tuple[HeaderMap, pl.DataFrame]:
    """An .xlsx/.xls registry: its first visible sheet with the sheet header rules."""
    sheets = [s for s in read_workbook(path) if s.visible]
    if not sheets:
        raise RegistryHeaderError("no visible sheet")
    if sheets[0].damage:
        raise UnreadableWorkbook(sheets[0].damage)
    header = find_header(sheets[0].head(HEADER_SEARCH_ROWS), source, contract)
    if header is None:
        raise RegistryHeaderError("no header row")
    missing = [c.header for c in source.columns if c.required and c.field not in header.columns]
    if missing:
        raise RegistryHeaderError("、".join(missing))
    frame = data_rows(sheets[0], header, source, contract).with_columns(_field_count_ok=pl.lit(True))
    return HeaderMap(header.columns, header.units, len(header.columns)), frame
