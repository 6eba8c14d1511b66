"""Registry exports: file names, encodings, and streaming the rows out as raw-text frames.

A CSV is decoded in chunks of whole lines (bounded memory whatever its size) and split into
fields column-wise with Polars; only lines with quoted fields go through the csv module.
.xlsx/.xls registries are read like a town sheet (first visible sheet, same header rules).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.contract import Contract, SourceSpec
from pipelines.ingest.text import match_header, squeeze
from pipelines.ingest.workbook import HEADER_SEARCH_ROWS, data_rows, find_header, known_headers, read_workbook

CHUNK_BYTES = 16 * 1024 * 1024
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


def detect_encoding(head: bytes) -> Encoding:
    """UTF-16 with BOM (Excel's "Unicode text", tab-separated), UTF-8 with or without BOM, else GB18030."""
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
        return Encoding("gb18030", _separator(head.decode("gb18030", "ignore")), 0)


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


def split_fields(lines: pl.Series, separator: str) -> pl.Series:
    """Each line's fields as a list; quoted fields (`"a,b"`) honoured via the csv module."""
    sep = re.escape(separator)
    quoted = lines.str.contains(f'(^|{sep})"')
    fields = lines.str.split(separator)
    if quoted.any():
        positions = quoted.arg_true().to_list()
        parsed: list[list[str] | None] = [None] * len(lines)
        for position, line in zip(positions, lines.gather(positions).to_list()):
            parsed[position] = next(csv.reader([line], delimiter=separator), [])
        replacement = pl.Series(parsed, dtype=pl.List(pl.String))
        fields = pl.select(pl.when(quoted).then(replacement).otherwise(fields)).to_series()
    return fields


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
    lines = _decoded_lines(path, encoding, chunk_bytes)
    first_chunk = next(lines, pl.Series("line", [], dtype=pl.String))
    if first_chunk.is_empty() or not first_chunk[0].strip():
        raise RegistryHeaderError("no header line")
    header_fields = next(csv.reader([first_chunk[0]], delimiter=encoding.separator))
    header = map_header(header_fields, source, contract)
    missing = [c.header for c in source.columns if c.required and c.field not in header.columns]
    if missing:
        raise RegistryHeaderError("、".join(missing))

    def chunks() -> Iterator[pl.DataFrame]:
        line_number = 2
        for series in _chain(first_chunk.slice(1), lines):
            numbers = pl.int_range(line_number, line_number + series.len(), eager=True)
            line_number += series.len()
            keep = series.str.strip_chars() != ""
            if not keep.any():
                continue
            series, numbers = series.filter(keep), numbers.filter(keep)
            fields = split_fields(series, encoding.separator)
            # A line of only separators (`,,,,`) or blank fields is a blank row too; the line
            # numbers of the rows after it stay the file's line numbers.
            filled = fields.list.eval(pl.element().str.strip_chars() != "").list.any().fill_null(False)
            if not filled.any():
                continue
            yield _frame(fields.filter(filled), numbers.filter(filled), header)

    return header, chunks()


def _chain(first: pl.Series, rest: Iterator[pl.Series]) -> Iterator[pl.Series]:
    if not first.is_empty():
        yield first
    yield from rest


def read_workbook_registry(path: Path, source: SourceSpec, contract: Contract) -> tuple[HeaderMap, pl.DataFrame]:
    """An .xlsx/.xls registry: its first visible sheet with the sheet header rules."""
    sheets = [s for s in read_workbook(path) if s.visible]
    if not sheets:
        raise RegistryHeaderError("no visible sheet")
    header = find_header(sheets[0].head(HEADER_SEARCH_ROWS), source, contract)
    if header is None:
        raise RegistryHeaderError("no header row")
    missing = [c.header for c in source.columns if c.required and c.field not in header.columns]
    if missing:
        raise RegistryHeaderError("、".join(missing))
    frame = data_rows(sheets[0], header, source, contract).with_columns(_field_count_ok=pl.lit(True))
    return HeaderMap(header.columns, header.units, len(header.columns)), frame
