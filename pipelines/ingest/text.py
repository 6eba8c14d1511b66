"""Scalar text helpers: headers, town names, months and dates as clerks type them.

Pure functions; the column-wise value parsers live in `values.py`.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_BRACKETED_TAIL = re.compile(r"\(([^()]*)\)$")


def half_width(text: str) -> str:
    """Full-width letters, digits and brackets to ASCII (NFKC), e.g. `（㎡）` -> `(m2)`."""
    return unicodedata.normalize("NFKC", text)


def squeeze(text: str) -> str:
    """Half-width, with every white space and line break removed."""
    return _SPACE.sub("", half_width(text))


def normalize_header(text: str, units: dict[str, str]) -> tuple[str, str | None]:
    """A header cell as (name, unit): `建筑面积\\n（㎡）` -> (`建筑面积`, `m2`), `金额(万元)` -> (`金额`, `万元`).

    A bracketed tail is dropped only when it is a known unit: `村（社区）` keeps its brackets.
    """
    name = squeeze(text)
    normalized_units = _squeezed_units(tuple(units.items()))
    match = _BRACKETED_TAIL.search(name)
    if match and match.group(1) in normalized_units:
        return name[: match.start()], normalized_units[match.group(1)]
    return name, None


@lru_cache(maxsize=8)
def _squeezed_units(units: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {squeeze(k): v for k, v in units}


_ANY_BRACKETED_TAIL = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]*)[)\]】〕]$")


def match_header(text: str | None, known: dict[str, str], units: dict[str, str]) -> tuple[str, str | None] | None:
    """(field, unit) of a header cell whose normalised name is a known header (`known`: normalised
    header or alias -> field); None when it names no column.

    Tried in turn: the name with a known bracketed unit dropped (`村（社区）` stays whole), a
    unit written without brackets (`金额万元`), then any other bracketed tail (`（平米）`,
    `（小时）`, `【㎡】`, `（元/年）`: "drop any bracketed unit"), whose 万/元 is still kept.
    """
    if text is None or not squeeze(text):
        return None
    name, unit = normalize_header(text, units)
    if name in known:
        return known[name], unit
    bare, suffix_unit = header_unit_suffix(name, units)
    if bare in known and suffix_unit:
        return known[bare], suffix_unit
    tail = _ANY_BRACKETED_TAIL.search(name)
    if tail and name[: tail.start()] in known:
        money = "万元" if "万" in tail.group(1) else "元" if "元" in tail.group(1) else None
        return known[name[: tail.start()]], money
    return None


def header_unit_suffix(name: str, units: dict[str, str]) -> tuple[str, str | None]:
    """A unit written without brackets (`建筑面积m2`, `金额万元`): split it off."""
    normalized_units = _squeezed_units(tuple(units.items()))
    for unit in sorted(normalized_units, key=len, reverse=True):
        if name.endswith(unit) and len(name) > len(unit):
            return name[: -len(unit)], normalized_units[unit]
    return name, None


# --- towns -----------------------------------------------------------------------------

_TOWN_GOVERNMENT = re.compile(r"(人民政府|政府|办事处)$")
_TOWN_LEVEL = re.compile(r"(街道|镇|乡)$")


@lru_cache(maxsize=65_536)  # every workbook is matched against every town's name (800 in a city)
def town_base(name: str) -> str:
    """统景镇人民政府 / 统景镇 / 统景 -> 统景; 王家街道办事处 -> 王家."""
    text = _TOWN_GOVERNMENT.sub("", squeeze(name))
    return _TOWN_LEVEL.sub("", text)


def resolve_town(text: str, towns: dict[str, str]) -> str | None:
    """Town code for a cell or registry value naming a town (any of its forms); None if none.

    `towns` maps code -> official name.
    """
    value = squeeze(text)
    if not value:
        return None
    if value in towns:
        return value
    base = town_base(value)
    matches = [code for code, name in towns.items() if town_base(name) == base]
    return matches[0] if len(matches) == 1 else None


def find_town_in_name(file_name: str, towns: dict[str, str]) -> str | None:
    """The town a file name mentions (longest name wins); None if none or ambiguous."""
    name = squeeze(file_name)
    found: dict[str, int] = {}
    for code, official in towns.items():
        for form in (official, town_base(official)):
            if form and form in name:
                found[code] = max(found.get(code, 0), len(form))
    if not found:
        return None
    best = max(found.values())
    winners = [code for code, length in found.items() if length == best]
    return winners[0] if len(winners) == 1 else None


# --- months and dates ------------------------------------------------------------------

_MONTH_IN_TEXT = re.compile(r"(?<!\d)(20\d{2})\s*(?:年|[-._/])?\s*(0?[1-9]|1[0-2])(?!\d)\s*月?")
_MONTH_EXACT = re.compile(r"^(\d{4})(?:年|[-._/])?(\d{1,2})月?(?:份)?$")


def find_month(text: str) -> date | None:
    """First report month in a file name or cover value (2022年6月, 202206, 2022-06, 2022.6, 2022_06).

    Returns the first day of the month.
    """
    value = half_width(text)
    exact = _MONTH_EXACT.match(squeeze(value))
    if exact:
        return _month(int(exact.group(1)), int(exact.group(2)))
    match = _MONTH_IN_TEXT.search(value)
    if not match:
        return None
    return _month(int(match.group(1)), int(match.group(2)))


def _month(year: int, month: int) -> date | None:
    return date(year, month, 1) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


_DATE_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# An Excel date cell comes as `2022-07-03 00:00:00`: the time of day is dropped before parsing.
_TIME_OF_DAY = re.compile(r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


_DATE_MONTH_ONLY = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})月?|(\d{2}))$")


def parse_cover_date(text: str) -> date | None:
    """A 填报日期 value in any date form of docs/inputs.md (a month alone is its last day), an Excel
    date cell or serial (a date-time serial keeps its day); None when unreadable."""
    value = squeeze(_TIME_OF_DAY.sub("", half_width(text).strip()))
    if re.fullmatch(r"\d{5}(\.\d+)?", value):  # an Excel serial day number
        return date(1899, 12, 30) + timedelta(days=int(float(value)))
    try:
        if match := _DATE_FULL.match(value) or _DATE_COMPACT.match(value):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _DATE_MONTH_ONLY.match(value):
            return month_end(date(int(match.group(1)), int(match.group(2) or match.group(3)), 1))
    except ValueError:
        return None
    return None


# --- cover fields ----------------------------------------------------------------------


def cover_value(cells: list[str | None], index: int, labels: list[str]) -> str | None:
    """The value of a cover field `label：value` in cell `index`, or the next non-empty cell.

    Returns None when the cell is not one of `labels`; "" when the label has no value. The
    label is matched squeezed (`填 报 日 期`); the value keeps its inner spaces (trimmed), so a
    date cell's `2022-07-03 00:00:00` stays readable.
    """
    cell = half_width(cells[index] or "").strip()
    text = squeeze(cell)
    for label in sorted(labels, key=len, reverse=True):
        if not text.startswith(label):
            continue
        rest = text[len(label) :]
        if rest and rest[0] not in ":：":
            continue
        value = _after_label(cell, len(label)).strip().lstrip(":：").strip()  # `填报单位 ：统景镇` too
        if value:
            return value
        following = [c for c in cells[index + 1 :] if c is not None and squeeze(c)]
        return half_width(following[0]).strip() if following else ""
    return None


def _after_label(cell: str, label_length: int) -> str:
    """What follows the first `label_length` non-space characters of `cell`."""
    seen = 0
    for position, char in enumerate(cell):
        if seen == label_length:
            return cell[position:]
        if not char.isspace():
            seen += 1
    return ""
