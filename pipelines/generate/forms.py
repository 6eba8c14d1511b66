"""How clerks type a value: every form docs/inputs.md lists, each one parsing back to the same value.

Pure functions: (value, form) -> the cell as written. `FORMS` names the forms of each
kind; the generator spreads them over towns and months and records them in the manifest.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .divisions import Village
from .model import month_end

YES_NO_PAIRS = (("是", "否"), ("有", "无"), ("√", "×"), ("✓", "✗"), ("Y", "N"), ("y", "n"), ("1", "0"), ("已", "未"))
EMPTY_FORMS = ("blank", "—", "-", "/", "暂无", "NULL", "无")
DATE_FORMS = ("date_cell", "serial", "iso", "slash", "dot", "chinese", "compact", "month_chinese", "month_iso")
NUMBER_FORMS = ("number_cell", "text", "thousands", "fullwidth", "decimal_text", "unit_suffix", "unit_chinese")
VILLAGE_FORMS = ("short", "base", "official", "committee", "spaces")
ID_FORMS = ("plain", "spaces", "fullwidth", "lower_x", "apostrophe", "excel_formula")
SEPARATORS = ("、", ",", "，", "/", " ")

_FULLWIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def yes_no(value: bool, pair: tuple[str, str]) -> str:
    return pair[0] if value else pair[1]


# 无 means 0 in a count (integer) and "no" in yes/no and team columns, and is no village or
# category: as an empty marker it is written only in number, date and text columns.
WU_EMPTY_TYPES = ("text", "phone", "number", "area", "money", "date")


def empty(form: str, column_type: str) -> str | None:
    """An empty cell, in one of the clerks' empty forms that keeps the column's value empty."""
    if form == "blank" or (form == "无" and column_type not in WU_EMPTY_TYPES):
        return None
    return form


def date_cell(value: dt.date, form: str) -> Any:
    if form == "date_cell":
        return value
    if form == "serial":
        return (value - dt.date(1899, 12, 30)).days
    if form == "iso":
        return value.isoformat()
    if form == "slash":
        return f"{value.year}/{value.month}/{value.day}"
    if form == "dot":
        return f"{value.year}.{value.month}.{value.day}"
    if form == "chinese":
        return f"{value.year}年{value.month}月{value.day}日"
    if form == "compact":
        return f"{value:%Y%m%d}"
    if form in ("month_chinese", "month_iso") and value == month_end(value.year * 12 + value.month - 1):
        return f"{value.year}年{value.month}月" if form == "month_chinese" else f"{value:%Y-%m}"
    return value.isoformat()


def date_form_usable(value: dt.date, form: str) -> bool:
    """Month-only forms mean the month's last day, so they only render such dates."""
    if form in ("month_chinese", "month_iso"):
        return value == month_end(value.year * 12 + value.month - 1)
    return True


def number_cell(value: float | int, form: str, column_type: str) -> Any:
    """A non-negative number as typed; unit forms only for areas, thousands only from 1,000."""
    is_whole = float(value).is_integer()
    text = str(int(value)) if is_whole else repr(float(value))
    if form == "number_cell":
        return int(value) if is_whole else float(value)
    if form == "text":
        return text
    if form == "thousands" and is_whole and value >= 1000:
        return f"{int(value):,}"
    if form == "fullwidth":
        return fullwidth(text)
    if form == "decimal_text" and is_whole:
        return f"{int(value)}.0"
    if form == "unit_suffix" and column_type == "area":
        return text + "㎡"
    if form == "unit_chinese" and column_type == "area":
        return text + "平方米"
    return int(value) if is_whole else float(value)


def number_form_usable(value: float | int, form: str, column_type: str) -> bool:
    if form == "thousands":
        return float(value).is_integer() and value >= 1000
    if form == "decimal_text":
        return float(value).is_integer()
    if form in ("unit_suffix", "unit_chinese"):
        return column_type == "area"
    return True


def village_text(village: Village, form: str) -> str:
    if form == "base" and village.level == "village":
        return village.base
    if form == "official":
        return village.name
    if form == "committee" and village.level == "village":
        return village.short + "委会"
    if form == "spaces":
        return " " + village.short + "\u3000"
    return village.short


def village_form_usable(village: Village, form: str, neighbours: list[Village]) -> bool:
    """The bare base name (洛碛) only where no other division of the town starts with it."""
    if form in ("base", "committee"):
        if village.level != "village":
            return False
        if form == "base":
            return not any(o.code != village.code and o.short.startswith(village.base) for o in neighbours)
    return True


def id_text(id18: str, form: str) -> str:
    if form == "spaces":
        return f"{id18[:6]} {id18[6:14]} {id18[14:]}"
    if form == "fullwidth":
        return fullwidth(id18)
    if form == "lower_x":
        return id18.lower()
    if form == "apostrophe":
        return "'" + id18
    if form == "excel_formula":
        return f'="{id18}"'
    return id18


def id_form_usable(id18: str, form: str) -> bool:
    return form != "lower_x" or id18.endswith("X")


def scientific(id18: str) -> str:
    """What Excel shows after turning an 18-digit ID into a number: digits lost for good."""
    return f"{float(id18):.5E}".replace("E+", "E+")
