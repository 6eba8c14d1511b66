"""Column-wise value parsers (Polars expressions) for every type of sheets.yaml.

One implementation serves the small town sheets and the multi-million-row registries.
Each parser maps the cell text to the typed value, or null when the cell is empty or cannot
be read. Whether a non-empty cell failed (a DQ11) is decided by the validation suites
(`given` and not parsed); ranges are checked there too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import polars as pl

from pipelines.contract import Column, Contract

EXCEL_EPOCH_OFFSET_DAYS = 25569  # serial 25569 = 1970-01-01 (1900 date system)
_MAX_EXCEL_SERIAL = 2958465  # 9999-12-31
_NUMBER = r"^[+-]?\d+(\.\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_CELL_UNITS = r"(平方米|平米|m2|万元|元|张|人|个|名|支|次|队|户)$"


def squeezed(raw: pl.Expr) -> pl.Expr:
    """Half-width with every white space removed: the form categories and words are matched in."""
    return raw.str.normalize("NFKC").str.replace_all(r"\s+", "")


def _squeeze_word(word: str) -> str:
    return "".join(unicodedata.normalize("NFKC", word).split())


def is_empty(raw: pl.Expr, empty_words: Iterable[str]) -> pl.Expr:
    """Blank or an empty marker (—, -, /, 暂无, NULL …)."""
    words = sorted({_squeeze_word(w) for w in empty_words})
    value = squeezed(raw)
    return raw.is_null() | value.is_in(words)


# An Excel error value (`#REF!`, `#N/A` …) as a cell shows it: not text, an unreadable cell.
_EXCEL_ERROR = r"^#(?:REF!|VALUE!|DIV/0!|N/A|NAME\?|NULL!|NUM!|SPILL!|CALC!|GETTING_DATA)$"


def text(raw: pl.Expr, contract: Contract, *, errors_unreadable: bool = True) -> pl.Expr:
    """The cell's text, trimmed; null for an empty marker and (unless an ID column, whose check
    reports it as an invalid ID) for an Excel error value."""
    empty = is_empty(raw, [*contract.words["empty"], *contract.words["empty_but_no_in_yesno_and_counts"]])
    if errors_unreadable:
        empty = empty | squeezed(raw).str.to_uppercase().str.contains(_EXCEL_ERROR)
    return pl.when(empty).then(None).otherwise(raw.str.strip_chars())


def village(raw: pl.Expr, contract: Contract) -> pl.Expr:
    """A village name as typed, white space removed (` 洛碛村　` -> `洛碛村`); resolved to its code elsewhere."""
    return text(raw, contract).str.replace_all(r"\s+", "")


def number(raw: pl.Expr, multiplier: float | pl.Expr = 1.0) -> pl.Expr:
    """`1,200`, `1200㎡`, `1200平方米`, `１２００`, `1200.0` -> 1200.0; `约1200`, `1200-1500`, `待定` -> null.

    A cell that carries its own 万元/元 overrides the header's multiplier.
    """
    value = squeezed(raw)
    cell_unit = value.str.extract(_CELL_UNITS, 1)
    with_commas = value.str.replace(_CELL_UNITS, "")
    # a comma only as a thousands separator: `12,5` or `1,2,3` is not a number
    commas_fit = ~with_commas.str.contains(",", literal=True) | with_commas.str.contains(_THOUSANDS)
    bare = with_commas.str.replace_all(",", "", literal=True)
    parsed = pl.when(commas_fit & bare.str.contains(_NUMBER)).then(bare.cast(pl.Float64, strict=False)).otherwise(None)
    factor = (
        pl.when(cell_unit == "万元")
        .then(pl.lit(10000.0))
        .when(cell_unit == "元")
        .then(pl.lit(1.0))
        .otherwise(pl.lit(multiplier) if not isinstance(multiplier, pl.Expr) else multiplier)
    )
    return (parsed * factor).round(2)


def integer(raw: pl.Expr, contract: Contract) -> pl.Expr:
    """A count: whole numbers only (1200.0 is 1200); `无` means 0."""
    value = number(raw)
    whole = pl.when(value == value.floor()).then(value).otherwise(None)
    no_word = squeezed(raw).is_in(_words(contract, "empty_but_no_in_yesno_and_counts"))
    return pl.when(no_word).then(pl.lit(0, pl.Int64)).otherwise(whole.cast(pl.Int64, strict=False))


def _words(contract: Contract, key: str) -> list[str]:
    return sorted({_squeeze_word(str(w)) for w in contract.words[key]})


def yes_no(raw: pl.Expr, contract: Contract) -> pl.Expr:
    """是/否, 有/无, √/×, ✓/✗, Y/N, 1/0, 已/未 (and Excel booleans) -> True/False."""
    mapping = {w: True for w in _words(contract, "yes")}
    mapping |= {w: False for w in _words(contract, "no")}
    mapping |= {w: False for w in _words(contract, "empty_but_no_in_yesno_and_counts")}
    mapping |= {"true": True, "false": False, "TRUE": True, "FALSE": False, "1.0": True, "0.0": False}
    return squeezed(raw).replace_strict(mapping, default=None, return_dtype=pl.Boolean)


def teams(raw: pl.Expr, contract: Contract) -> pl.Expr:
    """A count of teams where a yes word means 1 and a no word 0."""
    as_bool = yes_no(raw, contract)
    counted = integer(raw, contract)
    return pl.coalesce(counted, as_bool.cast(pl.Int64))


def date(raw: pl.Expr) -> pl.Expr:
    """Every date form of docs/inputs.md; month-only forms give the month's last day."""
    value = squeezed(raw).str.replace(r"^(\d{4}-\d{2}-\d{2})T?\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "$1")
    full = value.str.extract_groups(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
    compact = value.str.extract_groups(r"^(\d{4})(\d{2})(\d{2})$")
    month_only = value.str.extract_groups(r"^(\d{4})(?:[-/.年](\d{1,2})月?|(\d{2}))$")

    def ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
        return pl.concat_str(y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)).str.to_date(
            "%Y-%m-%d", strict=False
        )

    month_number = pl.coalesce(month_only.struct.field("2"), month_only.struct.field("3"))
    first_of_month = ymd(month_only.struct.field("1"), month_number, pl.lit("01"))
    serial = (
        pl.when(value.str.contains(_NUMBER))
        .then(value.cast(pl.Float64, strict=False))
        .otherwise(None)
    )
    from_serial = (
        # a date-time shown as General (44713.4375) keeps its day
        pl.when((serial >= 1) & (serial <= _MAX_EXCEL_SERIAL))
        .then((serial.floor() - EXCEL_EPOCH_OFFSET_DAYS).cast(pl.Int32).cast(pl.Date))
        .otherwise(None)
    )
    return pl.coalesce(
        ymd(full.struct.field("1"), full.struct.field("2"), full.struct.field("3")),
        ymd(compact.struct.field("1"), compact.struct.field("2"), compact.struct.field("3")),
        first_of_month.dt.month_end(),
        pl.when(value.str.contains(r"^\d{4}(\d{2}){1,2}$")).then(None).otherwise(from_serial),
    )


def category_aliases(column: Column) -> dict[str, str]:
    """Every accepted spelling (squeezed) -> canonical value."""
    mapping: dict[str, str] = {}
    for canonical, aliases in column.values.items():
        for spelling in (canonical, *aliases):
            mapping[_squeeze_word(spelling)] = canonical
    return mapping


def category(raw: pl.Expr, column: Column, contract: Contract) -> pl.Expr:
    """The canonical value; an unknown word is kept as typed (the suite flags it as not allowed)."""
    value = squeezed(raw)
    canonical = value.replace_strict(category_aliases(column), default=None, return_dtype=pl.String)
    empty = is_empty(raw, [*contract.words["empty"], *contract.words["empty_but_no_in_yesno_and_counts"]])
    return pl.when(empty).then(None).otherwise(pl.coalesce(canonical, value))


def categories(raw: pl.Expr, column: Column, contract: Contract) -> pl.Expr:
    """Several values joined by 、 , ， / or space -> list of canonical values; null if any is unknown."""
    mapping = category_aliases(column)
    tokens = (
        raw.str.normalize("NFKC")
        .str.strip_chars()
        .str.replace_all(r"[、,，/\s]+", ",")
        .str.strip_chars(",")
        .str.split(",")
    )
    mapped = tokens.list.eval(pl.element().replace_strict(mapping, default=None, return_dtype=pl.String))
    complete = mapped.list.eval(pl.element().is_null().any()).list.first().not_()
    empty = is_empty(raw, [*contract.words["empty"], *contract.words["empty_but_no_in_yesno_and_counts"]])
    return pl.when(empty | ~complete).then(None).otherwise(mapped.list.unique(maintain_order=True))


def ability(raw: pl.Expr, contract: Contract) -> pl.Expr:
    """Ability level 0..4, its label (轻度失能) or `1级`."""
    labels = {_squeeze_word(label): level for level, label in contract.ability_levels.items()}
    value = squeezed(raw)
    from_label = value.replace_strict(labels, default=None, return_dtype=pl.Int64)
    digits = value.str.extract(r"^([0-4])(?:\.0)?级?$", 1).cast(pl.Int64, strict=False)
    labelled = value.str.extract(r"([0-4])级", 1).cast(pl.Int64, strict=False)
    return pl.coalesce(from_label, digits, labelled)
