"""Findings of the ingest layer: masking personal values and wording the messages.

Every message says which file, sheet, row and column, what was found and what to do.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date

import polars as pl

from pipelines.catalogue import rule_severity
from pipelines.contract import FINDINGS_COLUMNS, polars_schema
from pipelines.privacy import MASKED_ENDS


def mask_id(value: str) -> str:
    """500112********1234 (first 6 + last 4), after removing clerks' wrappers (`'`, `="…"`)."""
    text = "".join(value.split()).lstrip("'=\"").rstrip('"')
    return text[:6] + "********" + text[-4:] if len(text) > 10 else "*" * len(text)


def mask_name(value: str) -> str:
    """张* / 欧阳** (compound surnames keep two characters)."""
    text = value.strip()
    surname = 2 if len(text) >= 4 or text[:2] in COMPOUND_SURNAMES else 1
    return text[:surname] + "*" * max(len(text) - surname, 1)


def mask_phone(value: str) -> str:
    """138****1234."""
    text = value.strip()
    return text[:3] + "****" + text[-4:] if len(text) >= 8 else "*" * len(text)


# The IDs and phones the publish check refuses (pipelines/privacy.py), masked as the personal
# fields are. The edges around a number are matched and put back (Polars' regexes look neither
# behind nor ahead), so each pattern runs twice for two numbers one character apart.
def masked_in_text_expr(text: pl.Expr) -> pl.Expr:
    """Free text that is no personal field (a facility's name, a remark) with every full ID or
    phone number standing in it masked."""
    for pattern, stars in MASKED_ENDS:
        for _ in range(2):
            text = text.str.replace_all(pattern, "${1}${2}" + stars + "${3}${4}")
    return text


_MASKS_IN_TEXT = [(re.compile(pattern), r"\1\2" + stars + r"\3\4") for pattern, stars in MASKED_ENDS]


def masked_in_text(text: str) -> str:
    """`masked_in_text_expr` for one text (a file's or a sheet's name) in Python's regexes: a
    Polars expression per name cost 0.2 ms, ≈ 1.5 s of a city's loading."""
    for pattern, replacement in _MASKS_IN_TEXT:
        for _ in range(2):
            text = pattern.sub(replacement, text)
    return text


COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯"}
_MASKS = {"id": mask_id, "name": mask_name, "phone": mask_phone}


def mask(value: str | None, personal: str | None) -> str | None:
    """A finding's value: a personal field's masked; any other's with an ID or phone in it masked."""
    if value is None:
        return value
    return _MASKS[personal](value) if personal else masked_in_text(value)


@dataclass(frozen=True)
class Location:
    file_id: str
    source_file: str
    town_code: str | None
    month: date | None
    sheet: str | None = None


@dataclass(frozen=True)
class Finding:
    rule_id: str
    town_code: str | None
    month: date | None
    file_id: str
    source_file: str
    sheet: str | None
    row_number: int | None
    column_name: str | None
    value: str | None
    message_zh: str
    message_en: str

    @property
    def severity(self) -> str:
        return rule_severity(self.rule_id)


def describe(
    source_file: str, sheet: str | None, row: int | None, column: str | None, value: str | None,
    what_zh: str, what_en: str,
) -> tuple[str, str]:
    """(message_zh, message_en): where, what was found, what to do."""
    parts = [
        (True, f"文件「{source_file}」", f"File '{source_file}'"),
        (bool(sheet), f"工作表「{sheet}」", f", sheet '{sheet}'"),
        (row is not None, f"第{row}行", f", row {row}"),
        (bool(column), f"「{column}」列", f", column '{column}'"),
        (value is not None, f"的值「{value}」", f": value '{value}'"),
    ]
    where_zh = "".join(zh for shown, zh, _ in parts if shown)
    where_en = "".join(en for shown, _, en in parts if shown)
    return f"{where_zh}{what_zh}", f"{where_en} {what_en}"


def file_finding(rule_id: str, location: Location, what_zh: str, what_en: str, column: str | None = None) -> Finding:
    zh, en = describe(location.source_file, location.sheet, None, column, None, "：" + what_zh, "— " + what_en)
    return Finding(rule_id, location.town_code, location.month, location.file_id, location.source_file,
                   location.sheet, None, column, None, zh, en)


def findings_frame(findings: list[Finding], refresh_id: str) -> pl.DataFrame:
    schema = polars_schema(FINDINGS_COLUMNS)
    rows = [{**asdict(f), "severity": f.severity, "refresh_id": refresh_id} for f in findings]
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema_overrides=schema).select(list(schema))
